/**
 * The daemon in-process: an apply returns the instances it started, `ready()` waits for those
 * only and says why one is not ready (how it exited, or that it does not listen, and its last
 * output), and a workload that cannot start is reported without stopping the others — neither
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
/** Runs, but never accepts a connection on its PORT: it stays `starting`. */
const SLEEPER = deployment(
  'sleeper',
  `        command: [${node}, "-e", "console.log('listening on 8080'); setInterval(() => {}, 1000)"]\n`,
);
/** Exits at once, again and again. */
const CRASHER = deployment(
  'crasher',
  `        command: [${node}, "-e", "console.error('boom: no config file'); process.exit(3)"]\n`,
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
  test('an apply returns the instances it started; ready() waits for them only, and says why one does not listen', async () => {
    const { daemon } = await Daemon.start(stateDir());
    try {
      const first = await apply(daemon, 'sleeper.yaml', SLEEPER);
      assert.equal(first.started.length, 1);
      const started = Date.now();
      const [sleeper] = await daemon.ready(first.started, READY_WAIT_MS);
      assert.ok(Date.now() - started >= READY_WAIT_MS - 100, 'it waited the time asked');
      assert.equal(sleeper?.state, 'starting');
      assert.match(
        sleeper?.message ?? '',
        /^running \(pid \d+\) for \d+ s but not accepting connections on 127\.0\.0\.1:\d+ \(its \$PORT\); last output: "listening on 8080"$/,
      );
      const second = await apply(daemon, 'other.yaml', SERVICE);
      assert.deepEqual(second.results, [{ resource: 'Service default/other', action: 'created' }]);
      assert.deepEqual(second.started, []);
      assert.deepEqual(second.notes, []);
    } finally {
      await daemon.shutdown();
    }
  });

  test('a crash-looping instance is reported as soon as it exits, with its exit code and last output', async () => {
    const { daemon } = await Daemon.start(stateDir());
    try {
      const { started } = await apply(daemon, 'crasher.yaml', CRASHER);
      const before = Date.now();
      const [crasher] = await daemon.ready(started, 30_000);
      assert.ok(Date.now() - before < 10_000, 'it did not wait for the whole budget');
      assert.equal(crasher?.state, 'crashed');
      assert.match(
        crasher?.message ?? '',
        /^exited with code 3 after \d+\.\d s and is restarted with backoff; last output: "boom: no config file"$/,
      );
    } finally {
      await daemon.shutdown();
    }
  });

  test('a Deployment whose command expands to nothing is a warning; the others start, at apply and at restore', async () => {
    const state = stateDir();
    const first = await Daemon.start(state);
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
      await first.daemon.ready(applied.started, 10_000);
      assert.equal(ready(first.daemon, 'server'), 1);
      assert.equal(ready(first.daemon, 'empty'), 0);
    } finally {
      await first.daemon.shutdown();
    }

    const second = await Daemon.start(state);
    try {
      assert.deepEqual(second.problems, [
        'default/empty instance 0 could not start: its command "$(NOTHING)" expands to an empty string; set the variable it names in the container\'s env',
      ]);
      const restored = await second.daemon.ready(second.started, 10_000);
      assert.deepEqual(
        restored.map((r) => [r.workload, r.state]),
        [['default/server', 'ready']],
      );
      assert.equal(ready(second.daemon, 'server'), 1);
    } finally {
      await second.daemon.shutdown();
    }
  });
});
