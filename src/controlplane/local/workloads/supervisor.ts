/**
 * The process supervisor of local mode: runs each instance of a Deployment as a local process,
 * probes its readiness, restarts it with exponential backoff when it exits, and stops it the way
 * Kubernetes stops a pod (SIGTERM, SIGKILL after the grace period).
 *
 * Every instance is spawned detached: its own session and process group, so a Ctrl-C in the
 * daemon's terminal does not reach the workloads (the daemon decides how they stop), and signals
 * go to the group, so a command that forks (a shell wrapper, a cluster master) is stopped whole.
 * When an instance's main process exits, whatever it left in its group is killed too, as
 * Kubernetes does when a container's main process ends; a restart never races leftovers for the
 * port.
 *
 * stdout and stderr go straight to the instance's log file (opened in append mode and handed to
 * the child as its fds); the daemon never pipes workload output. The supervisor adds its own
 * `--- lanes: … ---` lines (started, ready, exited, restarting, stopping) so the file tells the
 * instance's history.
 *
 * State per instance is bounded: the current process, counters and the last exit; no history.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { formatPidFile, type PidFileEntry } from './supervisor-orphans.ts';
import {
  appendLogLine,
  appendLogLineFd,
  describeExit,
  describeSpawnError,
  formatDuration,
  groupAlive,
  INSTANCE_VAR,
  isDirectory,
  openLog,
  pollUntil,
  signalGroup,
  writeFileAtomic,
  writeLogLineFd,
} from './supervisor-os.ts';

export { type CleanupOptions, cleanupOrphans } from './supervisor-orphans.ts';

export interface InstanceSpec {
  /** Unique and stable for this instance, e.g. "default/mocka-v1@default#0". */
  readonly key: string;
  /** The executable, e.g. process.execPath. Without a '/', looked up on env.PATH. */
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the process (the supervisor adds nothing but LANES_INSTANCE=<key>). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Where the app must listen (its PORT); readiness = a TCP connection to 127.0.0.1:port succeeds. */
  readonly port: number;
  /** stdout and stderr are appended here (opened in append mode, passed as the child's fds: no piping through the daemon). */
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after this long (Kubernetes terminationGracePeriodSeconds). */
  readonly graceMs: number;
  /**
   * Start with a log of its own: an existing one (a replaced generation's, whose process may
   * still be stopping and writing to it) is first moved to `<logFile>.1`. Restarts append.
   */
  readonly freshLog?: boolean;
}

export type InstanceStatus = 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface InstanceState {
  readonly key: string;
  readonly status: InstanceStatus;
  /** The running process (the leader of its process group); null when none runs. */
  readonly pid: number | null;
  /** How many times it was started again under the current spec (a new spec counts from 0). */
  readonly restarts: number;
  /** Human-readable: "exited with code 1 after 0.4 s", "killed by SIGKILL", "could not start: ENOENT …". */
  readonly lastExit: string | null;
  /** When the running process was started (opts.now()); null when none runs. */
  readonly startedAt: number | null;
}

export interface SupervisorOptions {
  /** Called on every status change (the daemon registers the endpoint on 'ready' and removes it otherwise). */
  readonly onChange: (state: InstanceState) => void;
  /** Records the PIDs of running instances, rewritten atomically on every change, so a later daemon can clean up after a crash of this one (kill -9). */
  readonly pidFile?: string;
  /** Default 100. */
  readonly readinessIntervalMs?: number;
  /** Default 500 / 30_000 / 10_000. */
  readonly backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** A process that never becomes ready within this is killed and restarted (counts as a crash). default 60_000 */
  readonly startTimeoutMs?: number;
  readonly now?: () => number;
  /** Problems that do not change any instance's state (the pid file could not be written). */
  readonly onWarning?: (message: string) => void;
}

/** Why the supervisor sent SIGTERM to a process. */
type KillReason = 'stop' | 'replace' | 'timeout';

/** One spawned process of an instance. */
interface Run {
  readonly spec: InstanceSpec;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  ready: boolean;
  /** The leader exited (its group may still be winding down). */
  exited: boolean;
  killing: KillReason | null;
  /** Date.now() when the grace period ends (SIGKILL), once killing. */
  killDeadline: number;
  probe: Socket | null;
  probeTimer: NodeJS.Timeout | null;
  startTimer: NodeJS.Timeout | null;
  killTimer: NodeJS.Timeout | null;
  /**
   * The log file the process writes to, kept open for the supervisor's own lines about it: a
   * replaced generation's log moved to `.1` still gets its `stopping`/`stopped` lines.
   */
  readonly logFd: number;
  /** Settles when the whole group is gone and the instance moved on (stop() awaits it). */
  readonly gone: Promise<void>;
  resolveGone: () => void;
}

interface Entry {
  /** The wanted spec; differs from run.spec while a spec change waits for the old process. */
  spec: InstanceSpec;
  want: 'run' | 'stop';
  status: InstanceStatus;
  restarts: number;
  lastExit: string | null;
  /** Exponent of the next backoff delay: consecutive crashes. */
  crashes: number;
  /** Processes spawned (or attempted) under the current spec. */
  launches: number;
  run: Run | null;
  /** The restart waiting out its backoff delay. */
  restartTimer: NodeJS.Timeout | null;
  /** Identifies the current spawn attempt: an async spawn error for an older one is ignored. */
  attempt: number;
}

/** Restarts come back this fast after a crash right at the start. */
const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, resetAfterMs: 10_000 };
/** How long we wait for a killed group's processes to disappear before moving on regardless. */
const GROUP_EXIT_WAIT_MS = 2000;

export class Supervisor {
  readonly #onChange: (state: InstanceState) => void;
  readonly #onWarning: (message: string) => void;
  readonly #pidFile: string | undefined;
  readonly #readinessIntervalMs: number;
  readonly #backoff: { initialMs: number; maxMs: number; resetAfterMs: number };
  readonly #startTimeoutMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  #pidFileText: string | undefined;
  #attempts = 0;

  constructor(opts: SupervisorOptions) {
    this.#onChange = opts.onChange;
    this.#onWarning = opts.onWarning ?? (() => {});
    this.#pidFile = opts.pidFile;
    this.#readinessIntervalMs = positive(opts.readinessIntervalMs ?? 100, 'readinessIntervalMs');
    const b = opts.backoff ?? DEFAULT_BACKOFF;
    this.#backoff = {
      initialMs: positive(b.initialMs, 'backoff.initialMs'),
      maxMs: positive(b.maxMs, 'backoff.maxMs'),
      resetAfterMs: positive(b.resetAfterMs, 'backoff.resetAfterMs'),
    };
    this.#startTimeoutMs = positive(opts.startTimeoutMs ?? 60_000, 'startTimeoutMs');
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Starts (or restarts, if the spec changed) an instance; it is restarted with exponential
   * backoff whenever it exits, until stop(). The same spec again changes nothing (the daemon may
   * call this for every instance on every apply). A changed spec stops the old process (SIGTERM,
   * grace) and starts the new one at once, with `restarts` and the backoff counted afresh. Called
   * while a stop() is under way, the instance starts again once the old process is gone.
   */
  start(spec: InstanceSpec): void {
    validateSpec(spec);
    const frozen = freezeSpec(spec);
    const entry = this.#entries.get(spec.key);
    if (entry === undefined) {
      const fresh: Entry = {
        spec: frozen,
        want: 'run',
        status: 'starting',
        restarts: 0,
        lastExit: null,
        crashes: 0,
        launches: 0,
        run: null,
        restartTimer: null,
        attempt: 0,
      };
      this.#entries.set(spec.key, fresh);
      this.#launch(fresh);
      return;
    }
    if (entry.want === 'run' && sameSpec(entry.spec, frozen)) return;
    entry.spec = frozen;
    entry.want = 'run';
    entry.restarts = 0;
    entry.crashes = 0;
    entry.launches = 0;
    const run = entry.run;
    if (run === null) {
      // Waiting out a backoff (or a spawn error): the new spec starts now.
      this.#clearRestart(entry);
      this.#launch(entry);
    } else if (!run.exited && run.killing === null) {
      this.#runLine(run, 'configuration changed; stopping this process');
      this.#kill(entry, run, 'replace');
      this.#emit(entry);
    }
    // Otherwise the old process is on its way out; #afterGroupGone starts the new spec.
  }

  /** Stops it for good: SIGTERM, SIGKILL after graceMs; resolves when the process is gone. Unknown keys resolve at once. */
  stop(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return Promise.resolve();
    entry.want = 'stop';
    this.#clearRestart(entry);
    const run = entry.run;
    if (run === null) {
      this.#finish(entry);
      return Promise.resolve();
    }
    if (!run.exited && run.killing === null) {
      this.#runLine(run, stoppingText(run.spec.graceMs));
      this.#kill(entry, run, 'stop');
      this.#emit(entry);
    } else if (entry.status !== 'stopping') {
      // Exited (a crash, its group winding down) or killed for a start timeout: it is stopping
      // for good now, whatever the status said.
      entry.status = 'stopping';
      this.#emit(entry);
    }
    return run.gone;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((key) => this.stop(key)));
  }

  state(key: string): InstanceState | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined ? undefined : snapshot(entry);
  }

  states(): InstanceState[] {
    return [...this.#entries.values()].map(snapshot);
  }

  // -------------------------------------------------------------------------------------------
  // Transitions.

  /** Spawns the entry's spec: → 'starting', or → 'failed' (retried after a backoff). */
  #launch(entry: Entry): void {
    const spec = entry.spec;
    const restart = entry.launches > 0;
    entry.launches++;
    if (restart) entry.restarts++;
    const attempt = ++this.#attempts;
    entry.attempt = attempt;

    if (spec.cwd !== undefined && !isDirectory(spec.cwd)) {
      this.#failed(entry, `could not start: ENOENT: working directory ${spec.cwd} does not exist`);
      return;
    }
    let fd: number;
    try {
      fd = openLog(spec.logFile, spec.freshLog === true && !restart ? 0 : undefined);
    } catch (e) {
      // Nowhere to write the failure either; the state carries it.
      entry.lastExit = `could not start: cannot open log file ${spec.logFile}: ${(e as Error).message}`;
      entry.status = 'failed';
      this.#restartAfter(entry, this.#nextDelay(entry));
      this.#emit(entry);
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        env: { ...spec.env, [INSTANCE_VAR]: spec.key },
        cwd: spec.cwd,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } catch (e) {
      // Synchronous spawn errors: invalid arguments (a NUL byte in an argument, …).
      closeSync(fd);
      this.#failed(entry, describeSpawnError(e, spec.command, spec.cwd));
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      // ENOENT, EACCES, …: Node reports them with an 'error' event on the next tick.
      closeSync(fd);
      child.once('error', (e) => {
        if (entry.attempt === attempt && this.#entries.get(spec.key) === entry) {
          this.#failed(entry, describeSpawnError(e, spec.command, spec.cwd));
        }
      });
      return;
    }
    writeLogLineFd(
      fd,
      restart ? `started pid ${pid} (restart ${entry.restarts})` : `started pid ${pid}`,
    );

    let resolveGone!: () => void;
    const gone = new Promise<void>((resolve) => {
      resolveGone = resolve;
    });
    const run: Run = {
      spec,
      child,
      pid,
      startedAt: this.#now(),
      ready: false,
      exited: false,
      killing: null,
      killDeadline: 0,
      probe: null,
      probeTimer: null,
      startTimer: null,
      killTimer: null,
      logFd: fd,
      gone,
      resolveGone,
    };
    entry.run = run;
    entry.status = 'starting';
    // After a successful spawn, 'error' only reports a failed signal; 'exit' tells what matters.
    child.on('error', () => {});
    child.once('exit', (code, signal) => this.#onExit(entry, run, code, signal));
    this.#scheduleProbe(entry, run);
    run.startTimer = setTimeout(() => this.#onStartTimeout(entry, run), this.#startTimeoutMs);
    this.#writePidFile();
    this.#emit(entry);
  }

  /** Could not spawn: → 'failed' with the reason; retried after a backoff (the file may appear). */
  #failed(entry: Entry, message: string): void {
    entry.lastExit = message;
    const delay = this.#nextDelay(entry);
    appendLogLine(entry.spec.logFile, `${message}; retrying in ${formatDuration(delay)}`);
    entry.status = 'failed';
    this.#restartAfter(entry, delay);
    this.#emit(entry);
  }

  #restartAfter(entry: Entry, delay: number): void {
    this.#clearRestart(entry);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = null;
      if (entry.want === 'run' && this.#entries.get(entry.spec.key) === entry) this.#launch(entry);
    }, delay);
  }

  /** initialMs × 2^n, capped at maxMs; n counts crashes since the last stable run. */
  #nextDelay(entry: Entry): number {
    const { initialMs, maxMs } = this.#backoff;
    // 2^n overflows to Infinity long after the cap applies; min() keeps it finite.
    const delay = Math.min(initialMs * 2 ** Math.min(entry.crashes, 60), maxMs);
    entry.crashes++;
    return delay;
  }

  #scheduleProbe(entry: Entry, run: Run): void {
    run.probeTimer = setTimeout(() => {
      run.probeTimer = null;
      this.#probe(entry, run);
    }, this.#readinessIntervalMs);
  }

  /** One TCP connect to 127.0.0.1:port; success → 'ready', failure → try again after the interval. */
  #probe(entry: Entry, run: Run): void {
    if (run.exited || run.killing !== null || run.ready) return;
    const socket = connect({ host: '127.0.0.1', port: run.spec.port });
    run.probe = socket;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (run.probe === socket) run.probe = null;
      if (run.exited || run.killing !== null || entry.run !== run) return;
      if (ok) this.#onReady(entry, run);
      else this.#scheduleProbe(entry, run);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    // A listener with a full backlog can leave a connect hanging; try again rather than wait.
    socket.setTimeout(Math.max(1000, this.#readinessIntervalMs), () => settle(false));
  }

  #onReady(entry: Entry, run: Run): void {
    run.ready = true;
    clearTimer(run.startTimer);
    run.startTimer = null;
    entry.status = 'ready';
    this.#runLine(
      run,
      `ready: listening on 127.0.0.1:${run.spec.port} after ${formatDuration(this.#now() - run.startedAt)}`,
    );
    this.#emit(entry);
  }

  #onStartTimeout(entry: Entry, run: Run): void {
    run.startTimer = null;
    if (run.ready || run.exited || run.killing !== null) return;
    this.#runLine(
      run,
      `not listening on 127.0.0.1:${run.spec.port} after ${formatDuration(this.#startTimeoutMs)}; ${stoppingText(run.spec.graceMs)}`,
    );
    this.#kill(entry, run, 'timeout');
    this.#emit(entry);
  }

  /** SIGTERM to the group now, SIGKILL when the grace period ends. → 'stopping'. */
  #kill(entry: Entry, run: Run, reason: KillReason): void {
    run.killing = reason;
    this.#stopProbing(run);
    entry.status = 'stopping';
    const graceMs = run.spec.graceMs;
    run.killDeadline = Date.now() + graceMs;
    if (graceMs === 0) {
      signalGroup(run.pid, 'SIGKILL', true);
      return;
    }
    signalGroup(run.pid, 'SIGTERM', true);
    run.killTimer = setTimeout(() => {
      run.killTimer = null;
      if (!run.exited || groupAlive(run.pid)) {
        this.#runLine(
          run,
          `still running after the grace period of ${formatDuration(graceMs)}; SIGKILL`,
        );
        signalGroup(run.pid, 'SIGKILL', !run.exited);
      }
    }, graceMs);
  }

  #stopProbing(run: Run): void {
    clearTimer(run.probeTimer);
    run.probeTimer = null;
    clearTimer(run.startTimer);
    run.startTimer = null;
    run.probe?.destroy();
    run.probe = null;
  }

  /** The leader exited. The status changes at once (never 'ready' a moment longer). */
  #onExit(entry: Entry, run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    run.exited = true;
    this.#stopProbing(run);
    const ranMs = this.#now() - run.startedAt;
    let exit = describeExit(code, signal, ranMs);
    if (run.killing === 'timeout') {
      exit = `not listening on 127.0.0.1:${run.spec.port} within ${formatDuration(this.#startTimeoutMs)}; ${exit}`;
    }
    entry.lastExit = exit;

    let waitUntil: number;
    if (run.killing === null) {
      // It ended on its own: like a container whose main process exits, nothing it left behind
      // in its group survives it (and nothing holds the port against the restart).
      signalGroup(run.pid, 'SIGKILL', false);
      waitUntil = Date.now() + GROUP_EXIT_WAIT_MS;
    } else {
      // Being stopped: the rest of the group keeps its grace period; the kill timer still fires.
      waitUntil = run.killDeadline + GROUP_EXIT_WAIT_MS;
    }

    // entry.spec is replaced only by a start() with a different spec or after a stop(): the
    // same object means nobody asked for anything, so the process crashed.
    let delay = 0;
    if (entry.want === 'run' && entry.spec === run.spec) {
      // A stable run (ready, and up for resetAfterMs) forgives earlier crashes.
      if (run.ready && ranMs >= this.#backoff.resetAfterMs) entry.crashes = 0;
      delay = this.#nextDelay(entry);
      this.#runLine(run, `${exit}; restarting in ${formatDuration(delay)}`);
    }

    if (!groupAlive(run.pid)) {
      // The usual case: nothing left in the group, so move on in one step.
      this.#afterGroupGone(entry, run, delay);
      return;
    }
    // Leftovers are winding down: tell the daemon now that this instance serves nothing.
    const next = delay > 0 ? 'backoff' : 'stopping';
    if (entry.status !== next) {
      entry.status = next;
      this.#emit(entry);
    }
    const waitStart = Date.now();
    void pollUntil(() => !groupAlive(run.pid), waitUntil).then(() => {
      // The backoff counts from the exit.
      this.#afterGroupGone(
        entry,
        run,
        delay > 0 ? Math.max(1, delay - (Date.now() - waitStart)) : 0,
      );
    });
  }

  /** A `--- lanes: … ---` line about a run, in the log its process writes to. */
  #runLine(run: Run, text: string): void {
    appendLogLineFd(run.logFd, text);
  }

  /** The whole group is gone: finish a stop, start a new spec, or wait out the backoff. */
  #afterGroupGone(entry: Entry, run: Run, delay: number): void {
    clearTimer(run.killTimer);
    run.killTimer = null;
    entry.run = null;
    this.#writePidFile();
    if (entry.want === 'stop') {
      this.#runLine(run, `stopped: ${entry.lastExit}`);
      this.#finish(entry);
    } else if (entry.spec !== run.spec) {
      // A spec change (or a start() during a stop): the new process starts at once.
      this.#launch(entry);
    } else {
      // A crash (delay > 0 always: initialMs is positive).
      this.#restartAfter(entry, delay);
      if (entry.status !== 'backoff') {
        entry.status = 'backoff';
        this.#emit(entry);
      }
    }
    try {
      closeSync(run.logFd);
    } catch {
      // Closed already.
    }
    run.resolveGone();
  }

  /** → 'stopped', and forgotten: the map holds only instances the daemon wants. */
  #finish(entry: Entry): void {
    this.#clearRestart(entry);
    entry.attempt = -1;
    entry.status = 'stopped';
    if (this.#entries.get(entry.spec.key) === entry) this.#entries.delete(entry.spec.key);
    this.#emit(entry);
  }

  #clearRestart(entry: Entry): void {
    clearTimer(entry.restartTimer);
    entry.restartTimer = null;
  }

  #emit(entry: Entry): void {
    try {
      this.#onChange(snapshot(entry));
    } catch (e) {
      // A throwing listener is a bug to surface, but it must not leave a transition half done
      // (a stop() that never resolves): rethrow outside the state machine.
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** Instances whose process group may be alive, written only when that set changes. */
  #writePidFile(): void {
    if (this.#pidFile === undefined) return;
    const entries: PidFileEntry[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.run !== null) entries.push({ key, pid: entry.run.pid });
    }
    const text = formatPidFile(entries);
    if (text === this.#pidFileText) return;
    try {
      writeFileAtomic(this.#pidFile, text);
      this.#pidFileText = text;
    } catch (e) {
      this.#onWarning(`could not write the pid file ${this.#pidFile}: ${(e as Error).message}`);
    }
  }
}

function snapshot(entry: Entry): InstanceState {
  const run = entry.run;
  const alive = run !== null && !run.exited;
  return Object.freeze({
    key: entry.spec.key,
    status: entry.status,
    pid: alive ? run.pid : null,
    restarts: entry.restarts,
    lastExit: entry.lastExit,
    startedAt: alive ? run.startedAt : null,
  });
}

function stoppingText(graceMs: number): string {
  return graceMs === 0
    ? 'stopping (SIGKILL)'
    : `stopping (SIGTERM, SIGKILL after ${formatDuration(graceMs)})`;
}

function clearTimer(timer: NodeJS.Timeout | null): void {
  if (timer !== null) clearTimeout(timer);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Supervisor: ${name} must be a positive number of milliseconds`);
  }
  return value;
}

function validateSpec(spec: InstanceSpec): void {
  const bad = (what: string) => new TypeError(`Supervisor.start(${spec.key}): ${what}`);
  if (typeof spec.key !== 'string' || spec.key === '') throw bad('key must be a non-empty string');
  if (typeof spec.command !== 'string' || spec.command === '') throw bad('command is empty');
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    throw bad(`port ${spec.port} is not a TCP port (1-65535)`);
  }
  if (!Number.isFinite(spec.graceMs) || spec.graceMs < 0) throw bad('graceMs must be ≥ 0');
  if (typeof spec.logFile !== 'string' || spec.logFile === '') throw bad('logFile is empty');
}

/** A private copy: a caller mutating its object later cannot change a running instance's spec. */
function freezeSpec(spec: InstanceSpec): InstanceSpec {
  return Object.freeze({
    key: spec.key,
    command: spec.command,
    args: Object.freeze([...spec.args]),
    env: Object.freeze({ ...spec.env }),
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    port: spec.port,
    logFile: spec.logFile,
    graceMs: spec.graceMs,
    ...(spec.freshLog === undefined ? {} : { freshLog: spec.freshLog }),
  });
}

function sameSpec(a: InstanceSpec, b: InstanceSpec): boolean {
  if (
    a.key !== b.key ||
    a.command !== b.command ||
    a.cwd !== b.cwd ||
    a.port !== b.port ||
    a.logFile !== b.logFile ||
    a.graceMs !== b.graceMs ||
    a.freshLog !== b.freshLog ||
    a.args.length !== b.args.length ||
    a.args.some((arg, i) => arg !== b.args[i])
  ) {
    return false;
  }
  const ak = Object.keys(a.env);
  if (ak.length !== Object.keys(b.env).length) return false;
  return ak.every((k) => Object.hasOwn(b.env, k) && a.env[k] === b.env[k]);
}
