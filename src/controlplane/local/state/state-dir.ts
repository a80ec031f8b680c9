/**
 * The state directory of a local daemon: where it is (`--state`, `$LANES_HOME`, `./.lanes`), and
 * what its `daemon.json` says. The daemon writes `daemon.json` once it is ready; the CLI and the
 * launcher both read it here, so they agree on what "running" means.
 */
import { existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DAEMON_JSON = 'daemon.json';
export const TOKEN_FILE = 'token';
/** The pids of running workload instances, so whoever comes next can stop what a dead daemon left. */
export const PID_FILE = 'instances.json';

export interface DaemonInfo {
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly api: string;
  /** ISO 8601. */
  readonly startedAt: string;
}

export type DaemonState =
  /** No daemon.json: no daemon was started here, or it stopped cleanly. */
  | { readonly status: 'absent' }
  /** daemon.json names a live process. */
  | { readonly status: 'running'; readonly info: DaemonInfo }
  /** daemon.json names a process that is gone (a crash, a reboot, a kill -9). */
  | { readonly status: 'stale'; readonly info: DaemonInfo };

/** daemon.json or the token exists but cannot be used; the message is one line. */
export class StateDirError extends Error {
  override name = 'StateDirError';
}

/** `--state DIR`, else `$LANES_HOME`, else `./.lanes`; relative ones against `cwd`. Absolute. */
export function resolveStateDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string {
  if (flag !== undefined && flag !== '') return resolve(cwd, flag);
  const home = env.LANES_HOME;
  if (home !== undefined && home !== '') return resolve(cwd, home);
  return resolve(cwd, '.lanes');
}

/** Reads `<dir>/daemon.json` and checks whether its process is alive. */
export function readDaemonInfo(dir: string): DaemonState {
  const file = join(dir, DAEMON_JSON);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A missing state directory means the same as a missing file: nothing was started here.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'absent' };
    throw new StateDirError(`cannot read ${file}: ${errnoText(error)}`);
  }
  // Whoever can write the directory can replace daemon.json and receive the token.
  let untrusted: string | undefined;
  try {
    untrusted = untrustedDir(dir, statSync(dir));
  } catch (error) {
    untrusted = `cannot read the state directory ${dir}: ${errnoText(error)}`;
  }
  if (untrusted !== undefined) throw new StateDirError(untrusted);
  const info = parseDaemonInfo(text);
  if (typeof info === 'string') {
    throw new StateDirError(
      `${file} is not valid (${info}); if no daemon is running, remove it and run \`lanes up\``,
    );
  }
  return isProcessAlive(info.pid) ? { status: 'running', info } : { status: 'stale', info };
}

/** Hosts the daemon's API may have: it listens on 127.0.0.1, and the token must not leave. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why `dir` (its `stat`) cannot be trusted with the daemon's state, or undefined when it can: it
 * must belong to the current user and not be writable by group or others, because whoever can
 * write it can replace daemon.json (and receive the API token) or resources.json. No check where
 * there are no uids (Windows).
 */
export function untrustedDir(dir: string, stat: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  if (stat.uid !== uid) {
    return `the state directory ${dir} belongs to uid ${stat.uid}, not to you (uid ${uid}), so its owner could redirect lanes and take its API token; use a directory of your own (--state or $LANES_HOME)`;
  }
  const mode = stat.mode & 0o777;
  if (mode & 0o022) {
    const who = mode & 0o020 ? (mode & 0o002 ? 'its group and others' : 'its group') : 'others';
    return `the state directory ${dir} is writable by ${who} (mode ${mode.toString(8)}), so another user could redirect lanes and take its API token; run chmod go-w ${dir}`;
  }
  return undefined;
}

/** The info, or what is wrong with the text. */
export function parseDaemonInfo(text: string): DaemonInfo | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not a JSON object';
  }
  const { pid, api, startedAt } = value as Record<string, unknown>;
  // pid 0 and negative pids address process groups in kill(2): never probe those.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
    return 'pid must be a positive integer';
  }
  const host = typeof api === 'string' ? httpHost(api) : undefined;
  if (typeof api !== 'string' || host === undefined) return 'api must be an http://host:port URL';
  // The CLI sends the token there: only ever to this machine.
  if (!LOOPBACK_HOSTS.has(host)) {
    return `api must be on this machine (127.0.0.1, [::1] or localhost), not ${host}`;
  }
  if (typeof startedAt !== 'string') return 'startedAt must be a string';
  return { pid, api, startedAt };
}

/** The host of an `http://host[:port][/]` URL; undefined for anything else. */
function httpHost(url: string): string | undefined {
  if (!/^http:\/\/[^/?#]+\/?$/.test(url)) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Signal 0 checks existence (EPERM: it exists but belongs to someone else). A zombie has exited
 * and only waits for its parent to reap it — a daemon whose `lanes up` has gone is reaped by
 * init, which can take seconds — so on Linux /proc decides.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // No /proc (not Linux), or it exited in between: trust the signal.
    return !existsSync('/proc/self');
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** The bearer token the daemon accepts. */
export function readToken(dir: string): string {
  const file = join(dir, TOKEN_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StateDirError(`cannot read the daemon's token ${file}: ${errnoText(error)}`);
  }
  const token = text.trim();
  if (token === '') throw new StateDirError(`the daemon's token ${file} is empty`);
  return token;
}

export function noDaemonMessage(dir: string): string {
  return `no daemon is running for state directory ${dir}; start one with \`lanes up\``;
}

export function staleDaemonMessage(dir: string, pid: number): string {
  return `the daemon recorded in ${join(dir, DAEMON_JSON)} (pid ${pid}) is not running; start it again with \`lanes up\``;
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (error as Error).message;
}
