/**
 * Child processes for tests that need real ones (the mock service, instrumented apps, proxies):
 * start Node with an environment, wait until it is ready, collect its output, and stop it.
 *
 * Every process started here is remembered until it exits. `ProcessGroup.stopAll()` (call it from
 * `after`/`afterEach`) stops a group's processes by PID, SIGTERM then SIGKILL; as a last resort,
 * whatever is still running when the test process exits (a crash, a failed `before` hook) is
 * killed with SIGKILL, and a forgotten process never keeps the test process from exiting. Nothing
 * is ever killed by name, so tests running in parallel never touch each other's processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MOCK_SERVER_PATH } from '../../src/controlplane/local/mock/server.ts';
import { otelEnv } from '../../src/controlplane/local/otel/env.ts';
import { canConnect } from './net.ts';

/** The repository root, for scripts given relative to it. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Inherited variables that would change how a child behaves, removed so every test states what
 * it wants: the test runner's own marker, NODE_OPTIONS, proxies and OpenTelemetry settings.
 */
const SCRUBBED =
  /^(NODE_TEST_CONTEXT|NODE_OPTIONS|NODE_USE_ENV_PROXY|(HTTPS?|NO|ALL)_PROXY|OTEL_\w+)$/i;

export type Ready =
  /** Poll until a TCP connection to 127.0.0.1:port succeeds. */
  | { readonly port: number }
  /** Wait until stdout matches; the match is returned as `StartedProcess.match`. */
  | { readonly stdout: RegExp }
  /** Wait until stderr matches. */
  | { readonly stderr: RegExp };

export interface StartOptions {
  /** For messages: what this process is. */
  readonly name: string;
  /** Arguments to Node (`process.execPath`, the Node this test runs on): flags, script, args. */
  readonly args: readonly string[];
  /** Over the scrubbed inherited environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: the repository root. */
  readonly cwd?: string;
  /** Without it, start() resolves as soon as the process is spawned. */
  readonly ready?: Ready;
  /** How long to wait for `ready`. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  /** The stdout/stderr match of `ready`, if it was a regular expression. */
  readonly match: RegExpExecArray | undefined;
  stdout(): string;
  stderr(): string;
  /**
   * Settles when the process has exited. Awaiting it alone does not keep the test process alive
   * (children are unref'd); `waitForExit` and `stop` do.
   */
  readonly exited: Promise<Exit>;
  /** Whether it is still running. */
  running(): boolean;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs` (default 3 s). Resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Output kept per stream: enough for any assertion, bounded for a runaway child. */
const MAX_OUTPUT = 1 << 20;

export function childEnv(
  overrides: Readonly<Record<string, string | undefined>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SCRUBBED.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function start(options: StartOptions): Promise<StartedProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test that forgets to stop a process must not hang waiting for it: the child and its pipes
  // do not keep this process alive, and the 'exit' hook above kills whatever is left.
  child.unref();
  (child.stdout as unknown as Socket).unref();
  (child.stderr as unknown as Socket).unref();
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    if (out.length < MAX_OUTPUT) out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < MAX_OUTPUT) err += s;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    // Before 'spawn': Node could not start the process. Later errors (a failed kill) only mean
    // the process is gone already; 'exit' reports that.
    child.on('error', reject);
  });

  const describeOutput = () =>
    `\n--- stdout ---\n${out.trimEnd()}\n--- stderr ---\n${err.trimEnd()}\n--------------`;

  let match: RegExpExecArray | undefined;
  const handle = (): StartedProcess => ({
    name: options.name,
    pid: child.pid!,
    match,
    stdout: () => out,
    stderr: () => err,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: (signal = 'SIGTERM', graceMs = 3000) => stop(child, exited, signal, graceMs),
  });

  return (async () => {
    await spawned;
    live.add(child);
    const ready = options.ready;
    if (ready === undefined) return handle();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const what =
      'port' in ready
        ? `a connection to 127.0.0.1:${ready.port}`
        : 'stdout' in ready
          ? `stdout to match ${ready.stdout}`
          : `stderr to match ${ready.stderr}`;
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          const e = await exited;
          throw new Error(
            `${options.name} exited (code ${e.code}, signal ${e.signal}) while waiting for ${what}${describeOutput()}`,
          );
        }
        if ('port' in ready) {
          if (await canConnect(ready.port)) return handle();
        } else {
          const m = ('stdout' in ready ? ready.stdout : ready.stderr).exec(
            'stdout' in ready ? out : err,
          );
          if (m) {
            match = m;
            return handle();
          }
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${options.name} was not ready after ${timeoutMs} ms: waited for ${what}${describeOutput()}`,
          );
        }
        await Promise.race([delay(25), exited]);
      }
    } catch (e) {
      await stop(child, exited, 'SIGKILL', 0);
      throw e;
    }
  })();
}

async function stop(
  child: ChildProcess,
  exited: Promise<Exit>,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<Exit> {
  if (child.exitCode === null && child.signalCode === null) {
    // Keep this process alive until the child's exit is seen (it was unref'd at start).
    child.ref();
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }
  return exited;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The processes of one test file or suite: `start` through it, and `stopAll` in `after`. Stopping
 * waits for every process to exit, so a test never ends with a child still holding a port.
 */
export class ProcessGroup {
  readonly #processes: StartedProcess[] = [];

  async start(options: StartOptions): Promise<StartedProcess> {
    const p = await start(options);
    this.#processes.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    const all = this.#processes.splice(0);
    await Promise.all(all.map((p) => p.stop()));
  }
}

/** Waits for `p` to exit, failing with its output if it takes longer than `timeoutMs`. */
export async function waitForExit(p: StartedProcess, timeoutMs = 10_000): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `${p.name} did not exit within ${timeoutMs} ms\n--- stdout ---\n${p.stdout()}\n--- stderr ---\n${p.stderr()}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MockOptions {
  readonly app: string;
  readonly version: string;
  readonly upstreamUrl?: string;
  /**
   * Inject OpenTelemetry as local mode does (`otelEnv`: NODE_OPTIONS plus OTEL_* variables);
   * an object adds or overrides variables, e.g. `{ OTEL_PROPAGATORS: 'baggage' }`.
   */
  readonly instrumented?: boolean | Readonly<Record<string, string>>;
  /** More environment, applied last (`http_proxy`, `NODE_USE_ENV_PROXY`, …). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RunningMock extends StartedProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
}

/** Starts the built-in mock service on a free port and waits until it listens. */
export async function startMock(group: ProcessGroup, options: MockOptions): Promise<RunningMock> {
  const injected =
    options.instrumented === undefined || options.instrumented === false
      ? {}
      : {
          ...otelEnv(undefined, options.app),
          ...(options.instrumented === true ? {} : options.instrumented),
        };
  const p = await group.start({
    name: `mock ${options.app} ${options.version}`,
    args: [MOCK_SERVER_PATH],
    env: {
      app: options.app,
      version: options.version,
      upstream_url: options.upstreamUrl,
      PORT: '0',
      ...injected,
      ...options.env,
    },
    ready: { stdout: /listening on 127\.0\.0\.1:(\d+)/ },
  });
  const port = Number(p.match![1]);
  return { ...p, port, url: `http://127.0.0.1:${port}/` };
}
