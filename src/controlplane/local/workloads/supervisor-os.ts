/**
 * Operating-system helpers for the supervisor: process-group signals, /proc inspection, atomic
 * file writes, log lines and human-readable exit descriptions. Kept apart from the state machine
 * in supervisor.ts so that one reads as transitions only.
 */
import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The variable that marks a process as a lanes instance; cleanupOrphans trusts nothing else. */
export const INSTANCE_VAR = 'LANES_INSTANCE';

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * Sends `signal` to the process group `pgid` (instances are spawned detached, so their PID is
 * their group's ID and forked children are stopped with them). Returns whether any process got
 * it. `leaderAlive` says the caller knows the leader has not been reaped yet: only then is the
 * PID itself a safe fallback (the leader may have left its group with setpgid).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals, leaderAlive: boolean): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if (errnoCode(e) !== 'ESRCH' || !leaderAlive) return false;
  }
  try {
    process.kill(pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a live process is left in group `pgid`. kill(-pgid, 0) also finds zombies, and an init
 * that reaps late (some container inits take seconds) would keep a dead group "alive": on Linux,
 * /proc tells the two apart.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    // EPERM: a member exists that we may not signal; it still holds the group.
    return errnoCode(e) === 'EPERM';
  }
  const pids = allPids();
  if (pids.length === 0) return true; // No /proc: trust kill().
  return pids.some((pid) => {
    const info = procInfo(pid);
    return info !== undefined && info.pgid === pgid && info.state !== 'Z';
  });
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every `everyMs` until it holds or `deadline` (a Date.now() value) passes. */
export async function pollUntil(
  done: () => boolean,
  deadline: number,
  everyMs = 20,
): Promise<boolean> {
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.max(1, Math.min(everyMs, deadline - Date.now())));
  }
}

// ---------------------------------------------------------------------------------------------
// /proc (Linux). Elsewhere these report nothing, so nothing is ever killed on a guess.

export interface ProcInfo {
  readonly pid: number;
  /** R, S, D, Z, … — a zombie has exited and only waits to be reaped. */
  readonly state: string;
  readonly pgid: number;
}

/** Parses /proc/<pid>/stat; undefined when the process does not exist (or no /proc). */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses, so split after the
  // last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgid = Number(fields[2]);
  if (state === undefined || !Number.isInteger(pgid)) return undefined;
  return { pid, state, pgid };
}

/** Whether `pid` is alive: it exists and is not a zombie. */
export function procAlive(pid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Whether the process's environment holds exactly `LANES_INSTANCE=<key>`. */
export function environHasInstance(pid: number, key: string): boolean {
  return environHas(pid, `${INSTANCE_VAR}=${key}`);
}

/** Whether /proc/<pid>/environ holds exactly the entry `NAME=value`. */
export function environHas(pid: number, entry: string): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    // Gone, not ours (EACCES), or no /proc: never a match.
    return false;
  }
  const wanted = Buffer.from(entry);
  for (let start = 0; start < environ.length; ) {
    let end = environ.indexOf(0, start);
    if (end < 0) end = environ.length;
    if (end - start === wanted.length && environ.subarray(start, end).equals(wanted)) return true;
    start = end + 1;
  }
  return false;
}

/** Every live PID in /proc (empty without /proc). */
export function allPids(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) if (/^\d+$/.test(name)) pids.push(Number(name));
  return pids;
}

// ---------------------------------------------------------------------------------------------
// Files.

/** Write-then-rename, so a reader (or a later daemon after a crash) sees the old or the new file. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** An instance's log is moved to `<log>.1` once it has reached this size (as access.log is). */
export const INSTANCE_LOG_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Opens the instance's log for appending (creating its directory): the child's stdout/stderr.
 * A log of `maxBytes` or more is first renamed to `<path>.1` (replacing the previous one), so a
 * crash-looping or often restarted instance holds at most about twice that on disk. Only here,
 * at a (re)start: a running child writes straight to its own fd, which cannot be swapped under
 * it, so one run that writes more than the cap is not cut.
 */
export function openLog(path: string, maxBytes = INSTANCE_LOG_MAX_BYTES): number {
  mkdirSync(dirname(path), { recursive: true });
  rotateLog(path, maxBytes);
  // Readable too: appendLogLineFd looks at the last byte.
  return openSync(path, 'a+');
}

function rotateLog(path: string, maxBytes: number): void {
  try {
    const { size } = statSync(path);
    if (size < maxBytes || size === 0) return;
    // A process of the same instance still stopping keeps writing to its fd, so into `.1`.
    renameSync(path, `${path}.1`);
  } catch {
    // No log yet, or it cannot be moved: append to it as before; logging never stops supervision.
  }
}

/** Whether the file behind `fd` is empty or ends with a newline (so our line starts a line). */
function endsWithNewline(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

const lanesLine = (text: string) => `--- lanes: ${text} ---\n`;

/** Appends a `--- lanes: … ---` line to an open log fd (opened with 'a', so it lands at the end). */
export function writeLogLineFd(fd: number, text: string): void {
  try {
    writeSync(fd, lanesLine(text));
  } catch {
    // The log is for people; a full disk must not stop supervision.
  }
}

/**
 * Appends a `--- lanes: … ---` line to a log file, on a line of its own even when the app's last
 * output did not end with a newline. Errors are swallowed: logging never stops supervision.
 */
export function appendLogLine(path: string, text: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a+');
    const prefix = endsWithNewline(fd) ? '' : '\n';
    appendFileSync(fd, prefix + lanesLine(text));
  } catch {
    // See above.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Appends a `--- lanes: … ---` line through an open log fd — the file the process writes to,
 * even after it was moved to `.1` — on a line of its own. Errors are swallowed.
 */
export function appendLogLineFd(fd: number, text: string): void {
  try {
    const prefix = endsWithNewline(fd) ? '' : '\n';
    writeSync(fd, prefix + lanesLine(text));
  } catch {
    // The log is for people.
  }
}

/** Whether `path` is an existing directory (spawn reports a missing cwd as the command's ENOENT). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages.

/** 0.4 s, 12.0 s, 3 min 5 s, 2 h 4 min: precise when short, readable when long. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** "exited with code 1 after 0.4 s", "killed by SIGKILL after 2.0 s". */
export function describeExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  ranMs: number,
): string {
  const how =
    signal !== null ? `killed by ${signal}` : code !== null ? `exited with code ${code}` : 'exited';
  return `${how} after ${formatDuration(ranMs)}`;
}

/** A clear "could not start: …" for a spawn error, naming the command and the likely cause. */
export function describeSpawnError(err: unknown, command: string, cwd?: string): string {
  const code = errnoCode(err);
  const hasSlash = command.includes('/');
  // A relative command with a '/' is resolved against the child's working directory.
  const file = hasSlash ? resolve(cwd ?? '.', command) : '';
  let detail: string;
  if (code === 'ENOENT') {
    if (!hasSlash) detail = `${command} not found on the PATH of its environment`;
    else if (isFile(file))
      detail = `${command} exists, but the interpreter named on its #! line does not`;
    else detail = `no such file: ${command}`;
  } else if (code === 'EACCES') {
    detail =
      hasSlash && isDirectory(file)
        ? `${command} is a directory`
        : `permission denied: ${command} is not executable (chmod +x?) or a directory on its path is not searchable`;
  } else {
    detail = `${command}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return `could not start: ${code ?? 'error'}: ${detail}`;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
