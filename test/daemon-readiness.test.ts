/**
 * The daemon in-process, with a short readiness budget: an apply waits only for the instances it
 * started, and a workload that cannot start is reported without stopping the others — neither
 * at apply time nor when a restarted daemon restores it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Daemon } from '../src/controlplane/local/daemon.ts';
import { StateDir } from '../src/controlplane/local/state/state.ts';

const READY_WAIT_MS = 2_000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stateDir(): StateDir {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-readiness-'));
  dirs.push(dir);
  return StateDir.open(dir);
}

function deployment(name: string, container: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
${container}`;
}

const node = JSON.stringify(process.execPath);
/** Runs, but never accepts a connection: it stays `starting`. */
const SLEEPER = deployment(
  'sleeper',
  `        command: [${node}, "-e", "setInterval(() => {}, 1000)"]\n`,
);
const SERVER = deployment(
  'server',
  `        command: [${node}, "-e", "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')"]\n`,
);
/** Its command is a variable that is set, but empty. */
const EMPTY_COMMAND = deployment(
  'empty',
  '        command: ["$(NOTHING)"]\n        env: [{ name: NOTHING, value: "" }]\n',
);
const SERVICE =
  'apiVersion: v1\nkind: Service\nmetadata: { name: other }\nspec:\n  selector: { app: other }\n  ports: [{ port: 80 }]\n';

async function apply(daemon: Daemon, file: string, text: string) {
  const started = Date.now();
  const response = await daemon.apply({ sources: [{ file, text, dir: tmpdir() }] });
  return { ...response, ms: Date.now() - started };
}

function ready(daemon: Daemon, name: string): number | undefined {
  return daemon.status().workloads.find((w) => w.name === name)?.ready;
}

describe('readiness after apply and restore', () => {
  test('an apply waits for the instances it started, and a later apply does not wait for them again', async () => {
    const { daemon } = await Daemon.start(stateDir(), { readyWaitMs: READY_WAIT_MS });
    try {
      const first = await apply(daemon, 'sleeper.yaml', SLEEPER);
      assert.ok(first.ms >= READY_WAIT_MS - 100, `the first apply returned after ${first.ms} ms`);
      assert.ok(
        first.notes.some((n) => /default\/sleeper instance 0 is not ready yet/.test(n)),
        first.notes.join('\n'),
      );
      const second = await apply(daemon, 'other.yaml', SERVICE);
      assert.deepEqual(second.results, [{ resource: 'Service default/other', action: 'created' }]);
      assert.deepEqual(second.notes, []);
      assert.ok(second.ms < READY_WAIT_MS / 2, `the unrelated apply took ${second.ms} ms`);
    } finally {
      await daemon.shutdown();
    }
  });

  test('a Deployment whose command expands to nothing is a warning; the others start, at apply and at restore', async () => {
    const state = stateDir();
    const first = await Daemon.start(state, { readyWaitMs: READY_WAIT_MS });
    try {
      const applied = await apply(first.daemon, 'app.yaml', `${EMPTY_COMMAND}---\n${SERVER}`);
      assert.deepEqual(
        applied.results.map((r) => r.resource),
        ['Deployment default/empty', 'Deployment default/server'],
      );
      assert.deepEqual(
        applied.notes.filter((n) => n.includes('default/empty')),
        [
          'warning: default/empty instance 0 could not start: its command "$(NOTHING)" expands to an empty string; set the variable it names in the container\'s env',
        ],
      );
      assert.equal(ready(first.daemon, 'server'), 1);
      assert.equal(ready(first.daemon, 'empty'), 0);
    } finally {
      await first.daemon.shutdown();
    }

    const second = await Daemon.start(state, { readyWaitMs: READY_WAIT_MS });
    try {
      assert.deepEqual(second.problems, [
        'default/empty instance 0 could not start: its command "$(NOTHING)" expands to an empty string; set the variable it names in the container\'s env',
      ]);
      assert.deepEqual(await second.daemon.waitForReady(second.started, second.readyBy), []);
      assert.equal(ready(second.daemon, 'server'), 1);
    } finally {
      await second.daemon.shutdown();
    }
  });
});
