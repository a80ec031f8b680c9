/**
 * No workload is left behind, whatever happens to the daemon's output or to the daemon: a
 * foreground `lanes up` whose output pipe is closed (`npm start | tee log`, then Ctrl-C, which
 * ends `tee` too) still stops every workload, and `lanes down` stops what a dead daemon left
 * running even when its daemon.json is gone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { lanes, scrubbedEnv, teardown } from './support/cli.ts';

const CLI = fileURLToPath(new URL('../src/tools/cli/main.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) {
    await teardown(join(dir, 'state'), dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

function workspace(): { dir: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-shutdown-'));
  dirs.push(dir);
  const server = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;
  writeFileSync(
    join(dir, 'app.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(server)}]
`,
  );
  return { dir, state: join(dir, 'state') };
}

/** Running: a killed orphan may linger as a zombie until whoever adopted it reaps it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
  }
}

/** The pids of running workload instances, from the daemon's pid file. */
function workloadPids(state: string): number[] {
  const text = readFileSync(join(state, 'instances.json'), 'utf8');
  return [...text.matchAll(/"pid":\s*(\d+)/g)].map((m) => Number(m[1]));
}

test('Ctrl-C on a foreground lanes up whose output pipe is closed stops every workload', async () => {
  const { dir, state } = workspace();
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const up = spawn(process.execPath, [CLI, '--state', state, 'up'], {
    cwd: dir,
    env: scrubbedEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  up.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await until('lanes up to be ready', () => out.includes('Ctrl-C stops the mesh'), 60_000);
  const applied = await lanes(['apply', '-f', 'app.yaml'], { cwd: dir, state });
  assert.equal(applied.code, 0, applied.stderr);
  const { pid: daemon } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as {
    pid: number;
  };
  const workloads = workloadPids(state);
  assert.equal(workloads.length, 1);
  // `tee` goes away: nobody reads the mesh's output any more.
  up.stdout.destroy();
  up.stderr.destroy();
  const exited = new Promise((resolve) => up.once('exit', resolve));
  process.kill(-up.pid!, 'SIGINT');
  await exited;
  await until('the daemon to exit', () => !alive(daemon), 30_000);
  assert.deepEqual(
    workloads.filter(alive),
    [],
    'no workload is left running after the daemon stopped',
  );
});

test('lanes down stops what a dead daemon left running, even without its daemon.json', async () => {
  const { dir, state } = workspace();
  const cli = (...args: string[]) => lanes(args, { cwd: dir, state });
  assert.equal((await cli('up', '--detach', '--quiet')).code, 0);
  assert.equal((await cli('apply', '-f', 'app.yaml')).code, 0);
  const { pid: daemon } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as {
    pid: number;
  };
  const workloads = workloadPids(state);
  process.kill(daemon, 'SIGKILL');
  await until('the daemon to die', () => !alive(daemon), 10_000);
  unlinkSync(join(state, 'daemon.json'));
  const down = await cli('down');
  assert.equal(down.code, 0, down.stderr);
  assert.match(
    down.stdout,
    /^no lanes daemon is running for .*; stopped 1 workload instance\(s\) it left behind$/m,
  );
  assert.deepEqual(workloads.filter(alive), []);
  const again = await cli('down');
  assert.match(again.stdout, /^no lanes daemon is running for [^;]*$/m);
});
