/**
 * The supervisor with real processes: small Node apps in supervisor-fixtures/, on 127.0.0.1, with
 * short intervals and backoffs. Every process is killed by its PID (or its process group, which
 * the supervisor created for it); nothing is ever killed by name.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canConnect, closedPort } from '../../../../test/support/net.ts';
import {
  cleanupOrphans,
  type InstanceSpec,
  type InstanceState,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.ts';
import { formatPidFile, readPidFile } from './supervisor-orphans.ts';
import {
  describeExit,
  environHas,
  formatDuration,
  pollUntil,
  procAlive,
  sleep,
} from './supervisor-os.ts';

const FIXTURES = fileURLToPath(new URL('./supervisor-fixtures/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

/**
 * Every process these tests start carries this variable (grandchildren inherit it). If a test
 * fails half-way, whatever it left running is killed by PID, and only after /proc confirms the
 * PID still is one of ours (a PID seen earlier may belong to someone else by now).
 */
const MARK = { LANES_SUPERVISOR_TEST: String(process.pid) };
const seenPids = new Set<number>();
after(() => {
  for (const pid of seenPids) {
    if (procAlive(pid) && environHas(pid, `LANES_SUPERVISOR_TEST=${process.pid}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
});

interface Event {
  readonly at: number;
  readonly state: InstanceState;
}

/** Records onChange calls with their time; waits for the one a test expects. */
class Recorder {
  readonly events: Event[] = [];
  #waiters = new Set<() => void>();

  readonly onChange = (state: InstanceState): void => {
    this.events.push({ at: Date.now(), state });
    if (state.pid !== null) seenPids.add(state.pid);
    for (const w of this.#waiters) w();
  };

  statuses(key: string): string[] {
    return this.events.filter((e) => e.state.key === key).map((e) => e.state.status);
  }

  /** The first event from index `from` on that matches. */
  waitFor(
    pred: (s: InstanceState) => boolean,
    { from = 0, timeoutMs = 5000 }: { from?: number; timeoutMs?: number } = {},
  ): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.events.length; i++) {
          const e = this.events[i]!;
          if (pred(e.state)) {
            this.#waiters.delete(check);
            clearTimeout(timer);
            resolve(e);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = this.events.map((e) => `${e.state.key}:${e.state.status}`).join(', ');
        reject(new Error(`no matching state change within ${timeoutMs} ms; saw ${seen}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

interface Setup {
  readonly sup: Supervisor;
  readonly rec: Recorder;
  readonly dir: string;
  spec(key: string, app: string, port: number, more?: Partial<InstanceSpec>): InstanceSpec;
  log(key: string): string;
}

/** A supervisor with short timings, a temp directory, and cleanup after the test. */
function setup(t: TestContext, opts: Partial<SupervisorOptions> = {}): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-supervisor-'));
  const rec = new Recorder();
  const sup = new Supervisor({
    onChange: rec.onChange,
    readinessIntervalMs: 20,
    backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 10_000 },
    startTimeoutMs: 10_000,
    ...opts,
  });
  t.after(async () => {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const logFile = (key: string) => join(dir, `${key.replace(/\W/g, '_')}.log`);
  return {
    sup,
    rec,
    dir,
    spec: (key, app, port, more = {}) => ({
      key,
      command: process.execPath,
      args: [fixture(app)],
      env: envWith(port, {}),
      port,
      logFile: logFile(key),
      graceMs: 3000,
      ...more,
    }),
    log: (key) => readFileSync(logFile(key), 'utf8'),
  };
}

const is = (key: string, status: InstanceState['status']) => (s: InstanceState) =>
  s.key === key && s.status === status;

describe('Supervisor', { timeout: 30_000 }, () => {
  test('ready only once the app listens; stop() ends it with SIGTERM; the log tells it all', async (t) => {
    const pidFile = join(tmpdir(), `lanes-supervisor-${process.pid}-ready.json`);
    t.after(() => rmSync(pidFile, { force: true }));
    const { sup, rec, spec, log } = setup(t, { pidFile });
    const port = await closedPort();
    const startedAt = Date.now();
    sup.start(
      spec('default/web@default#0', 'listen.ts', port, {
        env: envWith(port, { LISTEN_DELAY_MS: '400' }),
      }),
    );

    const starting = sup.state('default/web@default#0')!;
    assert.equal(starting.status, 'starting');
    assert.equal(typeof starting.pid, 'number');
    assert.equal(starting.restarts, 0);
    assert.ok(starting.startedAt !== null && Math.abs(starting.startedAt - startedAt) < 1000);
    assert.deepEqual(readPidFile(pidFile), [{ key: 'default/web@default#0', pid: starting.pid }]);

    // The app listens after 400 ms; probes every 20 ms before that must not make it ready.
    await sleep(250);
    assert.equal(sup.state('default/web@default#0')!.status, 'starting');
    const ready = await rec.waitFor(is('default/web@default#0', 'ready'));
    // The app writes its line just after listen() returns, so a probe may see the port first.
    const listenedAt = Number(
      (await logLine(log, 'default/web@default#0', /listening on \d+ at (\d+)/))[1],
    );
    assert.ok(ready.at >= listenedAt, 'ready is reported after the app listened');
    // Probes run every 20 ms; a loaded machine delays them, an absent prober would never report.
    assert.ok(ready.at - listenedAt < 3000, `ready ${ready.at - listenedAt} ms after listening`);
    assert.equal(ready.state.pid, starting.pid);
    assert.deepEqual(rec.statuses('default/web@default#0'), ['starting', 'ready']);
    assert.deepEqual(
      sup.states().map((s) => s.key),
      ['default/web@default#0'],
    );

    const t0 = Date.now();
    await sup.stop('default/web@default#0');
    assert.ok(Date.now() - t0 < 2000, 'a SIGTERM-handling app stops well within its grace');
    assert.equal(procAlive(starting.pid!), false);
    assert.equal(sup.state('default/web@default#0'), undefined, 'a stopped instance is forgotten');
    assert.deepEqual(rec.statuses('default/web@default#0'), [
      'starting',
      'ready',
      'stopping',
      'stopped',
    ]);
    const stopped = rec.events.at(-1)!.state;
    assert.match(stopped.lastExit!, /^exited with code 0 after \d+\.\d s$/);
    assert.equal(stopped.pid, null);
    assert.deepEqual(readPidFile(pidFile), []);
    assert.equal(await canConnect(port), false);

    const text = log('default/web@default#0');
    assert.match(text, new RegExp(`^--- lanes: started pid ${starting.pid} ---$`, 'm'));
    assert.match(
      text,
      new RegExp(`^--- lanes: ready: listening on 127\\.0\\.0\\.1:${port} after`, 'm'),
    );
    assert.match(text, /^listening on \d+ at \d+$/m);
    assert.match(text, /^--- lanes: stopping \(SIGTERM, SIGKILL after 3\.0 s\) ---$/m);
    assert.match(text, /^got SIGTERM$/m);
    assert.match(text, /^--- lanes: stopped: exited with code 0 after \d+\.\d s ---$/m);
  });

  test('a crashing app is restarted with growing backoff; restarts count; stop() in backoff cancels', async (t) => {
    const { sup, rec, spec, log } = setup(t);
    const port = await closedPort();
    sup.start(spec('crash', 'crash.ts', port));
    // Backoff 100 → 200 → 400 → 400 (capped at maxMs).
    const fourth = await rec.waitFor(
      (s) => s.key === 'crash' && s.restarts === 4 && s.status === 'starting',
    );
    const backoffs = rec.events.filter((e) => e.state.status === 'backoff');
    const starts = rec.events.filter((e) => e.state.status === 'starting');
    const gaps = [0, 1, 2, 3].map((i) => starts[i + 1]!.at - backoffs[i]!.at);
    const expected = [100, 200, 400, 400];
    gaps.forEach((gap, i) => {
      assert.ok(
        gap >= expected[i]! - 5,
        `restart ${i + 1} after ${gap} ms, expected ${expected[i]}`,
      );
      assert.ok(
        gap < expected[i]! + 200,
        `restart ${i + 1} after ${gap} ms, expected ${expected[i]}`,
      );
    });
    assert.deepEqual(
      starts.slice(0, 5).map((e) => e.state.restarts),
      [0, 1, 2, 3, 4],
    );
    for (const b of backoffs.slice(0, 4)) {
      assert.match(b.state.lastExit!, /^exited with code 3 after \d+\.\d s$/);
      assert.equal(b.state.pid, null);
      assert.equal(b.state.startedAt, null);
    }
    assert.notEqual(fourth.state.pid, starts[0]!.state.pid);

    // Stop while it waits out a backoff: resolves at once, and nothing starts again.
    const inBackoff = await rec.waitFor(is('crash', 'backoff'), {
      from: rec.events.indexOf(fourth),
    });
    const before = rec.events.length;
    const t0 = Date.now();
    await sup.stop('crash');
    assert.ok(Date.now() - t0 < 100);
    assert.deepEqual(
      rec.events.slice(before).map((e) => e.state.status),
      ['stopped'],
    );
    assert.equal(rec.events.at(-1)!.state.lastExit, inBackoff.state.lastExit);
    await sleep(500);
    assert.equal(rec.events.length, before + 1, 'no restart after stop()');

    const text = log('crash');
    for (let i = 1; i <= 4; i++)
      assert.match(text, new RegExp(`^--- lanes: started pid \\d+ \\(restart ${i}\\) ---$`, 'm'));
    assert.match(text, /^crash app up$/m);
    assert.match(text, /^crash app exiting with 3$/m, 'stderr goes to the log too');
    assert.match(
      text,
      /^--- lanes: exited with code 3 after \d+\.\d s; restarting in 0\.1 s ---$/m,
    );
    assert.match(
      text,
      /^--- lanes: exited with code 3 after \d+\.\d s; restarting in 0\.2 s ---$/m,
    );
    assert.match(
      text,
      /^--- lanes: exited with code 3 after \d+\.\d s; restarting in 0\.4 s ---$/m,
    );
  });

  test('the backoff starts over after a stable run', async (t) => {
    const { sup, rec, spec, dir } = setup(t, {
      backoff: { initialMs: 100, maxMs: 5000, resetAfterMs: 300 },
    });
    const port = await closedPort();
    const runFile = join(dir, 'runs');
    sup.start(
      spec('flaky', 'flaky.ts', port, {
        env: envWith(port, { RUN_FILE: runFile, FAST_RUNS: '2', STABLE_MS: '500' }),
      }),
    );
    // Runs 1 and 2 crash at once (backoff 100, 200); run 3 is ready for 500 ms ≥ resetAfterMs,
    // so its crash restarts after 100 ms again, not 400.
    const third = await rec.waitFor((s) => s.key === 'flaky' && s.restarts === 3, {
      timeoutMs: 8000,
    });
    const backoffs = rec.events.filter((e) => e.state.status === 'backoff');
    const starts = rec.events.filter((e) => e.state.status === 'starting');
    assert.equal(starts.length, 4);
    const gaps = [0, 1, 2].map((i) => starts[i + 1]!.at - backoffs[i]!.at);
    assert.ok(gaps[0]! >= 95 && gaps[0]! < 300, `first restart after ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= 195 && gaps[1]! < 400, `second restart after ${gaps[1]} ms`);
    assert.ok(gaps[2]! >= 95 && gaps[2]! < 300, `after a stable run: ${gaps[2]} ms, not 400`);
    assert.ok(rec.statuses('flaky').includes('ready'));
    assert.equal(third.state.restarts, 3);
  });

  test('stop() escalates to SIGKILL after graceMs when SIGTERM is ignored', async (t) => {
    const { sup, rec, spec, log } = setup(t);
    const port = await closedPort();
    sup.start(
      spec('stubborn', 'listen.ts', port, {
        env: envWith(port, { IGNORE_TERM: '1' }),
        graceMs: 300,
      }),
    );
    const ready = await rec.waitFor(is('stubborn', 'ready'));
    const t0 = Date.now();
    await sup.stop('stubborn');
    const took = Date.now() - t0;
    assert.ok(took >= 290, `stopped after ${took} ms, before the grace period ended`);
    assert.ok(took < 1500, `stopped after ${took} ms`);
    assert.equal(procAlive(ready.state.pid!), false);
    assert.match(rec.events.at(-1)!.state.lastExit!, /^killed by SIGKILL after \d+\.\d s$/);
    const text = log('stubborn');
    assert.match(text, /^ignoring SIGTERM$/m);
    assert.match(text, /^--- lanes: still running after the grace period of 0\.3 s; SIGKILL ---$/m);
    assert.match(text, /^--- lanes: stopped: killed by SIGKILL after \d+\.\d s ---$/m);
  });

  test('the whole process group goes: on stop(), and when the main process exits', async (t) => {
    const { sup, rec, spec, dir } = setup(t);
    const port1 = await closedPort();
    const pidFile1 = join(dir, 'grandchild1');
    sup.start(
      spec('forker', 'forker.ts', port1, {
        env: envWith(port1, { GRANDCHILD_PID_FILE: pidFile1 }),
      }),
    );
    await rec.waitFor(is('forker', 'ready'));
    const grandchild1 = Number(readFileSync(pidFile1, 'utf8'));
    seenPids.add(grandchild1);
    assert.equal(procAlive(grandchild1), true);
    await sup.stop('forker');
    assert.equal(procAlive(grandchild1), false, 'stop() kills the grandchild too');

    // The main process exits on its own and leaves the grandchild: it does not survive.
    const port2 = await closedPort();
    const pidFile2 = join(dir, 'grandchild2');
    sup.start(
      spec('leaver', 'forker.ts', port2, {
        env: envWith(port2, { GRANDCHILD_PID_FILE: pidFile2, EXIT_AFTER_MS: '100' }),
      }),
    );
    await rec.waitFor(is('leaver', 'ready'));
    const grandchild2 = Number(readFileSync(pidFile2, 'utf8'));
    seenPids.add(grandchild2);
    await rec.waitFor(is('leaver', 'backoff'));
    assert.ok(await pollUntil(() => !procAlive(grandchild2), Date.now() + 1000));
    await sup.stop('leaver');
  });

  test('an app that never listens is killed after startTimeoutMs and restarted; stop() while starting kills', async (t) => {
    const { sup, rec, spec, log } = setup(t, { startTimeoutMs: 300 });
    const port = await closedPort();
    sup.start(spec('idle', 'idle.ts', port, { graceMs: 500 }));
    const restarted = await rec.waitFor((s) => s.key === 'idle' && s.restarts === 1);
    assert.deepEqual(rec.statuses('idle'), ['starting', 'stopping', 'backoff', 'starting']);
    const backoff = rec.events.find((e) => e.state.status === 'backoff')!;
    assert.equal(
      backoff.state.lastExit!.replace(/after \d+\.\d s$/, 'after N s'),
      `not listening on 127.0.0.1:${port} within 0.3 s; killed by SIGTERM after N s`,
    );
    assert.match(
      log('idle'),
      /^--- lanes: not listening on 127\.0\.0\.1:\d+ after 0\.3 s; stopping \(SIGTERM, SIGKILL after 0\.5 s\) ---$/m,
    );

    // Now stop it while it is starting (again).
    assert.equal(sup.state('idle')!.status, 'starting');
    await sup.stop('idle');
    assert.equal(procAlive(restarted.state.pid!), false);
    assert.deepEqual(rec.statuses('idle').slice(-2), ['stopping', 'stopped']);
    assert.match(rec.events.at(-1)!.state.lastExit!, /^killed by SIGTERM after \d+\.\d s$/);
  });

  test('a command that cannot be started is "failed" with a clear message, and retried', async (t) => {
    const { sup, rec, spec, dir, log } = setup(t, {
      backoff: { initialMs: 50, maxMs: 100, resetAfterMs: 10_000 },
    });
    const port = await closedPort();
    const missing = join(dir, 'no-such-app');
    sup.start(spec('enoent', 'crash.ts', port, { command: missing }));
    const failed = await rec.waitFor(is('enoent', 'failed'));
    assert.equal(failed.state.lastExit, `could not start: ENOENT: no such file: ${missing}`);
    assert.equal(failed.state.pid, null);
    // Retried with backoff (the file may appear): restarts count the attempts.
    const again = await rec.waitFor(
      (s) => s.key === 'enoent' && s.status === 'failed' && s.restarts === 2,
    );
    assert.equal(again.state.lastExit, failed.state.lastExit);
    assert.match(
      log('enoent'),
      /^--- lanes: could not start: ENOENT: no such file: .*no-such-app; retrying in 0\.1 s ---$/m,
    );

    // …and once the file is there, the next attempt runs it.
    writeFileSync(
      missing,
      `#!${process.execPath}\nrequire('node:net').createServer().listen(Number(process.env.PORT), '127.0.0.1');\n`,
    );
    chmodSync(missing, 0o755);
    await rec.waitFor(is('enoent', 'ready'));

    sup.start(spec('path', 'crash.ts', port, { command: 'lanes-no-such-command' }));
    assert.equal(
      (await rec.waitFor(is('path', 'failed'))).state.lastExit,
      'could not start: ENOENT: lanes-no-such-command not found on the PATH of its environment',
    );

    const notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, 'echo hi\n');
    chmodSync(notExecutable, 0o644);
    sup.start(spec('eacces', 'crash.ts', port, { command: notExecutable }));
    assert.match(
      (await rec.waitFor(is('eacces', 'failed'))).state.lastExit!,
      /^could not start: EACCES: permission denied: .*not-executable is not executable/,
    );

    sup.start(spec('cwd', 'crash.ts', port, { cwd: join(dir, 'gone') }));
    assert.equal(
      (await rec.waitFor(is('cwd', 'failed'))).state.lastExit,
      `could not start: ENOENT: working directory ${join(dir, 'gone')} does not exist`,
    );

    // stop() while failed: at once.
    const t0 = Date.now();
    await Promise.all([sup.stop('path'), sup.stop('eacces'), sup.stop('cwd')]);
    assert.ok(Date.now() - t0 < 50);
    assert.deepEqual(
      sup.states().map((s) => s.key),
      ['enoent'],
    );
  });

  test('start() with the same spec changes nothing; a changed spec replaces the process', async (t) => {
    const { sup, rec, spec, log } = setup(t);
    const port = await closedPort();
    const v1 = spec('svc', 'listen.ts', port, { env: envWith(port, { VERSION: 'v1' }) });
    sup.start(v1);
    const ready1 = await rec.waitFor(is('svc', 'ready'));
    const count = rec.events.length;
    sup.start({ ...v1, env: { ...v1.env }, args: [...v1.args] });
    assert.equal(rec.events.length, count, 'an equal spec is a no-op');

    sup.start({ ...v1, env: envWith(port, { VERSION: 'v2' }) });
    const ready2 = await rec.waitFor(is('svc', 'ready'), { from: count });
    assert.notEqual(ready2.state.pid, ready1.state.pid);
    assert.equal(procAlive(ready1.state.pid!), false);
    assert.equal(ready2.state.restarts, 0, 'a new spec counts restarts afresh');
    assert.deepEqual(rec.statuses('svc'), ['starting', 'ready', 'stopping', 'starting', 'ready']);
    assert.match(log('svc'), /^--- lanes: configuration changed; stopping this process ---$/m);
    assert.match(log('svc'), /^got SIGTERM$/m);
  });

  test('stop() twice, stop() of an unknown key, start() during a stop', async (t) => {
    const { sup, rec, spec } = setup(t);
    await sup.stop('nobody');
    const port = await closedPort();
    sup.start(spec('twice', 'listen.ts', port));
    await rec.waitFor(is('twice', 'ready'));
    const a = sup.stop('twice');
    const b = sup.stop('twice');
    await Promise.all([a, b]);
    await sup.stop('twice');
    assert.deepEqual(rec.statuses('twice'), ['starting', 'ready', 'stopping', 'stopped']);

    sup.start(spec('again', 'listen.ts', port));
    const first = await rec.waitFor(is('again', 'ready'));
    const stopping = sup.stop('again');
    sup.start(spec('again', 'listen.ts', port));
    await stopping;
    const second = await rec.waitFor(is('again', 'ready'), { from: rec.events.indexOf(first) + 1 });
    assert.notEqual(second.state.pid, first.state.pid);
    assert.deepEqual(rec.statuses('again'), ['starting', 'ready', 'stopping', 'starting', 'ready']);
  });
});

describe('cleanupOrphans', { timeout: 30_000 }, () => {
  interface Started {
    readonly pid: number;
    /** Its first line of output (listeners attached at spawn, so nothing is missed). */
    readonly line: Promise<string>;
    readonly exited: Promise<unknown>;
  }

  function run(script: string, env: Record<string, string>, detached: boolean): Started {
    const child = spawn(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', ...MARK, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached,
    });
    const pid = child.pid!;
    seenPids.add(pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const line = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output from ${pid}`)), 10_000);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!);
        }
      });
    });
    return { pid, line, exited };
  }

  test('kills what carries its key, spares what does not, removes the file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-orphans-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const keep = "console.log('up'); setInterval(() => {}, 1000)";
    // An orphan that ignores SIGTERM: SIGKILL after the (short) grace.
    const stubborn = run(
      `process.on('SIGTERM', () => {}); ${keep}`,
      { LANES_INSTANCE: 'default/a@default#0' },
      true,
    );
    // An orphan whose main process is gone, leaving a forked child in its group.
    const leaver = run(
      `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(keep)}], { stdio: 'ignore' }); console.log(c.pid); setTimeout(() => process.exit(0), 100)`,
      { LANES_INSTANCE: 'default/b@default#0' },
      true,
    );
    // Not ours: no LANES_INSTANCE at all, and a different key.
    const stranger = run(keep, {}, false);
    const other = run(keep, { LANES_INSTANCE: 'default/c@default#1' }, true);
    await Promise.all([stubborn.line, stranger.line, other.line]);
    const leftChild = Number(await leaver.line);
    seenPids.add(leftChild);
    await leaver.exited;
    assert.equal(procAlive(leftChild), true);

    const pidFile = join(dir, 'instances.json');
    const gonePid = await exitedPid();
    writeFileSync(
      pidFile,
      formatPidFile([
        { key: 'default/a@default#0', pid: stubborn.pid },
        { key: 'default/b@default#0', pid: leaver.pid },
        { key: 'default/x@default#0', pid: stranger.pid },
        { key: 'default/c@default#0', pid: other.pid },
        { key: 'default/d@default#0', pid: gonePid },
      ]),
    );
    const t0 = Date.now();
    assert.equal(await cleanupOrphans(pidFile, { graceMs: 300 }), 2);
    assert.ok(Date.now() - t0 >= 290, 'SIGKILL only after the grace period');
    assert.equal(procAlive(stubborn.pid), false);
    assert.equal(procAlive(leftChild), false);
    assert.equal(procAlive(stranger.pid), true, 'a process without the key is never killed');
    assert.equal(procAlive(other.pid), true, 'nor one with another key');
    assert.equal(existsSync(pidFile), false);

    for (const child of [stranger, other]) {
      process.kill(child.pid, 'SIGKILL');
      await child.exited;
    }
    assert.equal(await cleanupOrphans(pidFile), 0, 'no file: nothing to do');
    writeFileSync(pidFile, 'not json');
    assert.equal(await cleanupOrphans(pidFile), 0, 'a damaged file is removed');
    assert.equal(existsSync(pidFile), false);
  });

  test('after a daemon is killed with -9, its instances are cleaned up by the next one', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-orphans-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pidFile = join(dir, 'instances.json');
    const port = await closedPort();
    const daemon = runDriver('daemon', { PID_FILE: pidFile, LOG_DIR: dir, PORTS: String(port) });
    const line = await waitForLine(daemon, /^ready (\d+)$/m, 10_000);
    const instancePid = Number(line[1]);
    seenPids.add(instancePid);
    assert.deepEqual(readPidFile(pidFile), [{ key: 'orphan', pid: instancePid }]);
    assert.equal(statSync(pidFile).mode & 0o777, 0o600);

    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    process.kill(daemon.pid!, 'SIGKILL');
    await exited;
    assert.equal(procAlive(instancePid), true, 'the instance outlives its daemon');
    assert.equal(await canConnect(port), true);

    assert.equal(await cleanupOrphans(pidFile), 1);
    assert.equal(procAlive(instancePid), false);
    assert.equal(await canConnect(port), false, 'its port is free again');
    assert.match(readFileSync(join(dir, 'orphan.log'), 'utf8'), /^got SIGTERM$/m);
  });
});

test('after stopAll() nothing is left: the daemon process exits by itself', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-exit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ports = await Promise.all([closedPort(), closedPort(), closedPort(), closedPort()]);
  const driver = runDriver('exit-check', { LOG_DIR: dir, PORTS: ports.join(',') });
  let out = '';
  driver.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  let stderr = '';
  driver.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      process.kill(driver.pid!, 'SIGKILL');
      resolve(null);
    }, 10_000);
    driver.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `the driver did not exit by itself:\n${out}\n${stderr}`);
  assert.match(out, /^states ready=ready backoff=backoff starting=starting failed=failed$/m);
  assert.match(out, /^stopped all, 0 left$/m);
});

test('messages', () => {
  assert.equal(describeExit(1, null, 400), 'exited with code 1 after 0.4 s');
  assert.equal(describeExit(null, 'SIGKILL', 2000), 'killed by SIGKILL after 2.0 s');
  assert.equal(formatDuration(185_000), '3 min 5 s');
  assert.equal(formatDuration(7_440_000), '2 h 4 min');
  assert.throws(
    () => new Supervisor({ onChange: () => {}, readinessIntervalMs: 0 }),
    /readinessIntervalMs must be a positive number/,
  );
  const sup = new Supervisor({ onChange: () => {} });
  const base = {
    key: 'k',
    command: process.execPath,
    args: [],
    env: {},
    port: 70_000,
    logFile: join(tmpdir(), 'never-written.log'),
    graceMs: 0,
  };
  assert.throws(() => sup.start(base), /port 70000 is not a TCP port/);
  assert.equal(sup.states().length, 0);
});

// ---------------------------------------------------------------------------------------------

/** Waits (up to 5 s) for an instance's log to hold a line matching `re`. */
async function logLine(
  log: (key: string) => string,
  key: string,
  re: RegExp,
): Promise<RegExpExecArray> {
  for (let waited = 0; ; waited += 20) {
    const m = re.exec(log(key));
    if (m) return m;
    assert.ok(waited < 5000, `no line matching ${re} in the log of ${key}`);
    await sleep(20);
  }
}

function envWith(port: number, more: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', PORT: String(port), ...MARK, ...more };
}

function runDriver(mode: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [fixture('driver.ts'), mode], {
    env: { PATH: process.env.PATH ?? '', FIXTURES, ...MARK, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  seenPids.add(child.pid!);
  return child;
}

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${re}:\n${out}\n${err}`)),
      timeoutMs,
    );
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

/** The PID of a process that has exited (and been reaped): nothing runs under it right now. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore', env: MARK });
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}
