/**
 * The pid file and the cleanup after a daemon that was killed with -9.
 *
 * Instances are spawned detached (their own session and process group), so they outlive a daemon
 * killed with SIGKILL and keep holding their ports. The supervisor records `{ key, pid }` of every
 * running instance in the pid file; the next daemon calls cleanupOrphans() before it starts its
 * own. A PID alone proves nothing (PIDs are reused), so a process is only ever killed when its
 * /proc/<pid>/environ holds `LANES_INSTANCE=<key>`, the variable the supervisor gave it.
 */
import { readFileSync, rmSync } from 'node:fs';
import {
  allPids,
  environHasInstance,
  pollUntil,
  procAlive,
  procInfo,
  writeFileAtomic,
} from './supervisor-os.ts';

export interface PidFileEntry {
  readonly key: string;
  readonly pid: number;
}

export interface PidFile {
  readonly instances: readonly PidFileEntry[];
}

export function formatPidFile(entries: readonly PidFileEntry[]): string {
  const instances = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return `${JSON.stringify({ instances } satisfies PidFile, null, 2)}\n`;
}

export function writePidFile(path: string, entries: readonly PidFileEntry[]): void {
  writeFileAtomic(path, formatPidFile(entries));
}

/** The well-formed entries of a pid file; a missing or damaged file has none. */
export function readPidFile(path: string): PidFileEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
  const list = (data as { instances?: unknown } | null)?.instances;
  if (!Array.isArray(list)) return [];
  const entries: PidFileEntry[] = [];
  for (const item of list as unknown[]) {
    const { key, pid } = (item ?? {}) as { key?: unknown; pid?: unknown };
    // PID 1 and our own PID (or group) are never an orphan of ours, whatever the file says.
    if (typeof key !== 'string' || key === '') continue;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1) continue;
    if (pid === process.pid) continue;
    entries.push({ key, pid });
  }
  return entries;
}

export interface CleanupOptions {
  /** SIGTERM first, SIGKILL after this long. Default 5000. */
  readonly graceMs?: number;
}

/**
 * Kills instances a previous daemon left running: for each PID in the pid file, only if
 * /proc/<pid>/environ contains LANES_INSTANCE=<its key>. Returns how many instances it killed;
 * removes the file. Resolves once they are gone, so their ports are free.
 *
 * An instance is its process group: when the recorded PID leads its group, the whole group gets
 * the signals (children it forked die too). When the leader already exited but children it left
 * in its group still carry the key, those are killed one by one. Without /proc (not Linux) no
 * process can be verified, so none is killed.
 */
export async function cleanupOrphans(
  pidFile: string,
  options: CleanupOptions = {},
): Promise<number> {
  const graceMs = options.graceMs ?? 5000;
  const entries = readPidFile(pidFile);
  const results = await Promise.all(entries.map((e) => killInstance(e, graceMs)));
  rmSync(pidFile, { force: true });
  return results.filter(Boolean).length;
}

/** The processes of one orphaned instance, verified by its key; re-evaluated on every call. */
function members(entry: PidFileEntry): { group: boolean; pids: number[] } {
  const leader = procInfo(entry.pid);
  if (leader !== undefined && leader.state !== 'Z' && environHasInstance(entry.pid, entry.key)) {
    // The verified leader of its own group: signal the group, atomically, forks included.
    if (leader.pgid === entry.pid) return { group: true, pids: [entry.pid] };
    return { group: false, pids: [entry.pid] };
  }
  // The leader is gone (or is someone else now): what is left are processes that still sit in
  // the instance's group *and* carry its key.
  const pids: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const info = procInfo(pid);
    if (info === undefined || info.pgid !== entry.pid || info.state === 'Z') continue;
    if (environHasInstance(pid, entry.key)) pids.push(pid);
  }
  return { group: false, pids };
}

function signal(target: { group: boolean; pids: number[] }, sig: NodeJS.Signals): void {
  for (const pid of target.pids) {
    try {
      process.kill(target.group ? -pid : pid, sig);
    } catch {
      // Gone meanwhile.
    }
  }
}

function gone(entry: PidFileEntry, target: { group: boolean; pids: number[] }): boolean {
  if (target.group) {
    // Any live process left in the group (a zombie has exited already).
    return !allPids().some((pid) => {
      const info = procInfo(pid);
      return info !== undefined && info.pgid === entry.pid && info.state !== 'Z';
    });
  }
  return target.pids.every((pid) => !procAlive(pid));
}

async function killInstance(entry: PidFileEntry, graceMs: number): Promise<boolean> {
  const target = members(entry);
  if (target.pids.length === 0) return false;
  signal(target, 'SIGTERM');
  if (!(await pollUntil(() => gone(entry, target), Date.now() + graceMs))) {
    // Re-verify before SIGKILL: a PID that died during the grace may have been reused already.
    const still = members(entry);
    signal(still, 'SIGKILL');
    await pollUntil(() => gone(entry, still), Date.now() + 2000);
  }
  return true;
}
