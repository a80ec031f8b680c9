import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { acquireLock } from './lock.ts';
import { StateError } from './state.ts';

const KEEP_ALIVE = 'setInterval(() => {}, 1e3)';

let root: string;
let counter = 0;
const children: ChildProcess[] = [];
let daemonPid: number;
let otherPid: number;
let deadPid: number;

function freshDir(): string {
  const dir = join(root, `case-${++counter}`);
  mkdirSync(dir);
  return dir;
}

/** A live process; its command line names daemon/main.ts when it should pass for a lanes daemon. */
function liveProcess(asDaemon: boolean): number {
  const child = spawn(
    process.execPath,
    ['-e', KEEP_ALIVE, ...(asDaemon ? ['/opt/lanes/src/controlplane/local/main.ts'] : [])],
    { stdio: 'ignore' },
  );
  children.push(child);
  return child.pid!;
}

const lockFile = (dir: string) => join(dir, 'daemon.lock');
const lockText = (dir: string) => readFileSync(lockFile(dir), 'utf8');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'lanes-lock-test-'));
  daemonPid = liveProcess(true);
  otherPid = liveProcess(false);
  deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
});
after(() => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

describe('acquireLock', () => {
  test('takes a free lock: daemon.lock names the owner and nothing else is left in the directory', () => {
    const dir = freshDir();
    acquireLock(dir, 4242);
    assert.equal(lockText(dir), '4242\n');
    assert.deepEqual(readdirSync(dir), ['daemon.lock']);
  });

  test('is refused while the owner is a live lanes daemon, naming its pid; the lock stays', () => {
    const dir = freshDir();
    writeFileSync(lockFile(dir), `${daemonPid}\n`);
    assert.throws(
      () => acquireLock(dir, 4242),
      (error: unknown) =>
        error instanceof StateError &&
        error.message.includes(`a lanes daemon (pid ${daemonPid}) is already running for ${dir}`) &&
        error.message.includes('lanes down'),
    );
    assert.equal(lockText(dir), `${daemonPid}\n`);
    assert.deepEqual(readdirSync(dir), ['daemon.lock']);
  });

  test('a second acquire by another daemon is refused while the first holds the lock', () => {
    const dir = freshDir();
    acquireLock(dir, daemonPid);
    assert.throws(() => acquireLock(dir, 4242), new RegExp(`pid ${daemonPid}\\b`));
  });

  const takenOver: { title: string; content: () => string }[] = [
    { title: 'a dead owner', content: () => `${deadPid}\n` },
    {
      title: 'a live owner that is not a lanes daemon (a reused pid)',
      content: () => `${otherPid}\n`,
    },
    { title: 'an empty file', content: () => '' },
    { title: 'no pid in it', content: () => 'garbage\n' },
    { title: 'pid 0', content: () => '0\n' },
    { title: 'its own pid (left by an earlier life of this process)', content: () => '4242\n' },
  ];
  for (const c of takenOver) {
    test(`a lock with ${c.title} is taken over`, () => {
      const dir = freshDir();
      writeFileSync(lockFile(dir), c.content());
      acquireLock(dir, 4242);
      assert.equal(lockText(dir), '4242\n');
      assert.deepEqual(readdirSync(dir), ['daemon.lock']);
    });
  }

  test('a breaker lock left by a starter that died while holding it does not block for ever', () => {
    const dir = freshDir();
    writeFileSync(lockFile(dir), `${deadPid}\n`);
    const breaker = `${lockFile(dir)}.break`;
    writeFileSync(breaker, `${deadPid}\n`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(breaker, old, old);
    acquireLock(dir, 4242);
    assert.equal(lockText(dir), '4242\n');
    assert.deepEqual(readdirSync(dir), ['daemon.lock']);
  });

  test('a fresh breaker lock (another starter removing the stale lock) is waited for, not removed', () => {
    const dir = freshDir();
    writeFileSync(lockFile(dir), `${deadPid}\n`);
    writeFileSync(`${lockFile(dir)}.break`, `${daemonPid}\n`);
    assert.throws(() => acquireLock(dir, 4242), /another lanes daemon is starting/);
    assert.equal(lockText(dir), `${deadPid}\n`, 'the stale lock is left to the breaker holder');
  });
});

describe('DaemonLock.release', () => {
  test('removes our own lock, and a second release does nothing', () => {
    const dir = freshDir();
    const lock = acquireLock(dir, 4242);
    lock.release();
    assert.deepEqual(readdirSync(dir), []);
    lock.release();
    assert.deepEqual(readdirSync(dir), []);
  });

  test('leaves a lock that another daemon has taken over since', () => {
    const dir = freshDir();
    const lock = acquireLock(dir, deadPid);
    acquireLock(dir, 4242);
    lock.release();
    assert.equal(lockText(dir), '4242\n');
  });

  test('after release, the next daemon takes the lock', () => {
    const dir = freshDir();
    acquireLock(dir, daemonPid).release();
    acquireLock(dir, 4242);
    assert.equal(lockText(dir), '4242\n');
  });
});

/**
 * Starters that race for one lock: separate processes whose command lines pass for lanes daemons.
 * Each loads the lock module and says `ready`; once all are ready, each gets `go` on stdin, tries
 * once and prints the outcome, then keeps running (holding what it took) until its stdin closes.
 */
async function race(dir: string, starters: number): Promise<string[]> {
  const lockUrl = new URL('./lock.ts', import.meta.url).href;
  const script = `
    const { acquireLock } = await import(${JSON.stringify(lockUrl)});
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      let outcome;
      try { acquireLock(${JSON.stringify(dir)}); outcome = 'took'; }
      catch (error) { outcome = error.constructor.name === 'StateError' ? 'refused' : 'failed: ' + error.message; }
      process.stdout.write(outcome + '\\n');
      process.stdin.on('end', () => process.exit(0));
    });
  `;
  const procs = Array.from({ length: starters }, () => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, '/opt/lanes/src/controlplane/local/main.ts'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
      for (const w of waiters.splice(0)) w();
    });
    const line = (n: number) =>
      new Promise<string>((resolve, reject) => {
        const check = () => (lines.length > n ? resolve(lines[n]!) : waiters.push(check));
        child.once('exit', () => reject(new Error(`starter exited early: ${lines.join(' ')}`)));
        check();
      });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { child, line, exited };
  });
  await Promise.all(procs.map((p) => p.line(0)));
  for (const p of procs) p.child.stdin!.write('go\n');
  const outcomes = await Promise.all(procs.map((p) => p.line(1)));
  for (const p of procs) p.child.stdin!.end();
  await Promise.all(procs.map((p) => p.exited));
  return outcomes;
}

describe('acquireLock under concurrency', { concurrency: true }, () => {
  const cases: { title: string; lock: () => string | undefined }[] = [
    { title: 'no lock', lock: () => undefined },
    { title: 'a stale lock (dead owner)', lock: () => `${deadPid}\n` },
  ];
  for (const c of cases) {
    test(`of 4 daemons starting at once on ${c.title}, exactly one takes it`, async () => {
      const dir = freshDir();
      const content = c.lock();
      if (content !== undefined) writeFileSync(lockFile(dir), content);
      const outcomes = await race(dir, 4);
      assert.equal(outcomes.filter((o) => o === 'took').length, 1, outcomes.join(', '));
      assert.equal(outcomes.filter((o) => o === 'refused').length, 3, outcomes.join(', '));
      assert.deepEqual(readdirSync(dir), ['daemon.lock']);
    });
  }
});
