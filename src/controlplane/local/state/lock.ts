/**
 * One daemon per state directory. Two daemons on one directory would both start every workload
 * and overwrite each other's resources, so the second one refuses to start. The lock is a file
 * that names its owner; a lock whose owner is gone (kill -9, a reboot) is taken over, because a
 * lock that outlives a crash would need a manual `rm` to recover from.
 *
 * The lock file appears with its owner already in it (a complete file is hard-linked into place,
 * which fails when a lock exists), so nobody ever sees a lock without an owner and takes it over
 * as stale. A stale lock is moved aside before it is removed, and put back when what was moved
 * turns out to be a fresh lock another daemon took in between.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
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

/** Removes the lock at `path` if it still names `owner` (the dead owner we saw). */
function removeStale(path: string, owner: number | undefined, pid: number): void {
  const aside = uniqueNear(path, 'stale', pid);
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errno(error) === 'ENOENT') return; // Another starter removed it first.
    throw error;
  }
  if (ownerOf(aside) !== owner) {
    // Between our look and the move, another starter replaced the stale lock with its own.
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw error;
    }
  }
  rmSync(aside, { force: true });
}

export interface DaemonLock {
  release(): void;
}

export function acquireLock(dir: string, pid = process.pid): DaemonLock {
  const path = join(dir, LOCK_FILE);
  const mine = uniqueNear(path, 'new', pid);
  writeFileSync(mine, `${pid}\n`, { mode: 0o644 });
  try {
    // A few attempts: each after removing a lock whose owner is dead.
    for (let attempt = 0; attempt < 3; attempt++) {
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
