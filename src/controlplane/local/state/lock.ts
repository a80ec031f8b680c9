/**
 * One daemon per state directory. Two daemons on one directory would both start every workload
 * and overwrite each other's resources, so the second one refuses to start. The lock is a file
 * that names its owner; a lock whose owner is gone (kill -9, a reboot) is taken over, because a
 * lock that outlives a crash would need a manual `rm` to recover from.
 *
 * The lock file appears with its owner already in it (a complete file is hard-linked into place,
 * which fails when a lock exists), so nobody ever sees a lock without an owner and takes it over
 * as stale. Only the holder of a second, short-lived lock (`daemon.lock.break`, taken the same
 * way) may remove a stale lock, and only after checking again that it still names the dead owner.
 * Without it, two starters that both saw the same dead owner could each remove a lock — the
 * second one removing the fresh lock the first had just taken — and two daemons would run.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './state.ts';
import { isProcessAlive } from './state-dir.ts';

const LOCK_FILE = 'daemon.lock';
/** How a daemon's command line ends, wherever lanes is installed (tools/cli/launch.ts starts it). */
const DAEMON_MAIN = 'src/controlplane/local/main.ts';

/** Alive, and — where /proc tells — a lanes daemon: after a reboot the pid may be anyone's. */
function isDaemonProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(DAEMON_MAIN);
  } catch {
    return true;
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** A name next to the lock that no other process uses. */
function uniqueNear(path: string, what: string, pid: number): string {
  return `${path}.${what}-${pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * A breaker lock is held for a few microseconds; one this old was left by a starter that died
 * while holding it, and is removed. (Two starters that both find it that old could race on its
 * removal; that needs a crash inside the breaker first.)
 */
const STALE_BREAKER_MS = 5000;

/**
 * Removes the lock at `path` if it still names `owner` (the dead owner we saw), holding the
 * breaker lock while it checks and removes. Returns without removing anything when another
 * starter holds the breaker: the caller tries again.
 */
function removeStale(path: string, owner: number | undefined, pid: number): void {
  const breaker = `${path}.break`;
  const mine = uniqueNear(path, 'break', pid);
  writeFileSync(mine, `${pid}\n`, { mode: 0o644 });
  try {
    try {
      linkSync(mine, breaker);
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw error;
      if (ageMs(breaker) > STALE_BREAKER_MS) rmSync(breaker, { force: true });
      return;
    }
    try {
      if (ownerOf(path) === owner) unlinkSync(path);
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw error;
    } finally {
      unlinkSync(breaker);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Blocks this thread for `ms` (acquireLock is synchronous: it runs before anything else). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface DaemonLock {
  release(): void;
}

export function acquireLock(dir: string, pid = process.pid): DaemonLock {
  const path = join(dir, LOCK_FILE);
  const mine = uniqueNear(path, 'new', pid);
  writeFileSync(mine, `${pid}\n`, { mode: 0o644 });
  try {
    // Attempts until the lock is ours or a live daemon's: each after removing (or waiting for
    // another starter to remove) a lock whose owner is dead.
    for (let attempt = 0; attempt < 100; attempt++) {
      if (attempt > 0) pause(5 + Math.floor(Math.random() * 10));
      try {
        linkSync(mine, path);
      } catch (error) {
        if (errno(error) !== 'EEXIST') throw error;
        const owner = ownerOf(path);
        if (owner !== undefined && owner !== pid && isDaemonProcess(owner)) {
          throw new StateError(
            `a lanes daemon (pid ${owner}) is already running for ${dir} (or still starting or stopping); stop it with \`lanes down\` and let it exit, or use another --state`,
          );
        }
        removeStale(path, owner, pid);
        continue;
      }
      return {
        release() {
          if (ownerOf(path) !== pid) return;
          try {
            unlinkSync(path);
          } catch (error) {
            if (errno(error) !== 'ENOENT') throw error;
          }
        },
      };
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new StateError(
    `cannot take ${path}: another lanes daemon is starting for ${dir} at the same moment`,
  );
}
