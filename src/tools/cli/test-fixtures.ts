/**
 * Test helpers for the CLI: an in-memory io, a state directory pointing at a fake control API
 * (a real HTTP server on 127.0.0.1, port 0, that checks the bearer token), and canned responses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from './io.ts';
import type { LaunchModule } from './launch-types.ts';
import { run } from './main.ts';

export { closedPort } from '../../../test/support/net.ts';

export interface Collector {
  text: string;
  write(chunk: string): boolean;
}

export function collector(): Collector {
  return {
    text: '',
    write(chunk: string): boolean {
      this.text += chunk;
      return true;
    },
  };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly stdin?: string;
  readonly signal?: AbortSignal;
  readonly launch?: LaunchModule;
}

/** Runs the CLI in-process. The environment is only what the test gives (no LANES_HOME leaks). */
export async function runCli(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const stdout = collector();
  const stderr = collector();
  const { launch, stdin } = opts;
  const io: CliIo = {
    stdout,
    stderr,
    env: opts.env ?? {},
    // A directory that does not exist: no stray ./.lanes can answer for a test.
    cwd: opts.cwd ?? '/nonexistent/lanes-cli-test',
    ...(stdin !== undefined
      ? {
          stdin: (async function* () {
            yield stdin;
          })(),
        }
      : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(launch ? { loadLaunch: async () => launch } : {}),
  };
  const code = await run(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

export interface FakeReply {
  readonly status?: number;
  /** JSON-encoded unless it is a string. */
  readonly body?: unknown;
  /** Written in chunks with a pause between (for log streams). */
  readonly chunks?: readonly string[];
}

export type FakeHandler = (req: RecordedRequest) => FakeReply;

export interface FakeApi {
  readonly url: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  handler: FakeHandler;
  close(): Promise<void>;
}

export const TOKEN = 'test-token-0123456789abcdef';

/** The daemon's API, as protocol.ts describes it: 401 without the right token. */
export async function startFakeApi(handler: FakeHandler = () => ({ body: {} })): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const api: FakeApi = {
    url: '',
    token: TOKEN,
    requests,
    handler,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      body: text === '' ? undefined : JSON.parse(text),
    };
    requests.push(recorded);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      send(res, 401, { error: 'missing or wrong bearer token', issues: [] });
      return;
    }
    const reply = api.handler(recorded);
    if (reply.chunks) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain' });
      for (const chunk of reply.chunks) {
        res.write(chunk);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      res.end();
      return;
    }
    send(res, reply.status ?? 200, reply.body ?? {});
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (api as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

export interface StateDirFixture {
  readonly dir: string;
  /** Removes the directory. */
  cleanup(): void;
}

/** A state directory whose daemon.json points at `api` with a live pid (this process). */
export function stateDirFor(
  api: string | undefined,
  opts: { pid?: number; token?: string } = {},
): StateDirFixture {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-cli-'));
  writeFileSync(join(dir, 'token'), `${opts.token ?? TOKEN}\n`, { mode: 0o600 });
  if (api !== undefined) {
    writeFileSync(
      join(dir, 'daemon.json'),
      JSON.stringify({
        pid: opts.pid ?? process.pid,
        api,
        startedAt: '2026-01-02T03:04:05.000Z',
      }),
    );
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The pid of a process that has exited (pids are not reused that quickly). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid ?? 0x3fffffff;
}
