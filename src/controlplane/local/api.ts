/**
 * The control API (src/controlplane/local/protocol.ts) over HTTP/JSON on 127.0.0.1. Every request needs
 * the bearer token from the state directory; anything else is 401. Errors are JSON with one line
 * saying what went wrong and every issue on its own line.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  createReadStream,
  type FSWatcher,
  type ReadStream,
  type Stats,
  statSync,
  watch,
} from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { basename, dirname } from 'node:path';
import type { Daemon } from './daemon.ts';
import type { ErrorResponse, ReadyResponse, RequestsResponse, ResourceQuery } from './protocol.ts';
import { RequestError } from './request-error.ts';
import {
  applyRequest,
  deleteRequest,
  explainRequest,
  overrideSignRequest,
  readyRequest,
  releaseCommand,
} from './requests.ts';
import { StateError } from './state/state.ts';

const MAX_BODY = 64 * 1024 * 1024;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(
  res: http.ServerResponse,
  status: number,
  error: string,
  issues: readonly string[] = [],
): void {
  const body: ErrorResponse = { error, issues };
  sendJson(res, status, body);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RequestError(413, `the request body is over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new RequestError(400, `the request body is not JSON: ${(error as Error).message}`);
  }
}

function authorized(req: http.IncomingMessage, token: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
  return given.length === token.length && timingSafeEqual(given, token);
}

export interface ApiServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startApi(
  daemon: Daemon,
  token: string,
  onShutdown: () => void,
  port = 0,
): Promise<ApiServer> {
  const secret = Buffer.from(token);
  const server = http.createServer(async (req, res) => {
    // The dashboard's pages authenticate with a session cookie (dashboard/auth.ts), not the token.
    if (daemon.dashboard.handle(req, res, req.socket.localPort ?? 0)) return;
    if (!authorized(req, secret)) {
      sendError(
        res,
        401,
        'missing or wrong bearer token; the CLI reads it from the state directory',
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    try {
      switch (route) {
        case 'POST /v1/apply':
          sendJson(res, 200, await daemon.apply(applyRequest(await readJson(req))));
          return;
        case 'POST /v1/delete':
          sendJson(res, 200, await daemon.delete(deleteRequest(await readJson(req))));
          return;
        case 'GET /v1/resources': {
          const q = (name: string) => url.searchParams.get(name) ?? undefined;
          const query: ResourceQuery = {
            ...(q('kind') ? { kind: q('kind')! } : {}),
            ...(q('name') ? { name: q('name')! } : {}),
            ...(q('namespace') ? { namespace: q('namespace')! } : {}),
            ...(q('cluster') ? { cluster: q('cluster')! } : {}),
          };
          sendJson(res, 200, { items: daemon.resources(query) });
          return;
        }
        case 'GET /v1/status':
          sendJson(res, 200, daemon.status());
          return;
        case 'POST /v1/explain':
          sendJson(res, 200, daemon.explain(explainRequest(await readJson(req))));
          return;
        case 'POST /v1/ready': {
          const ready = readyRequest(await readJson(req));
          sendJson(res, 200, {
            instances: await daemon.ready(ready.instances, ready.timeoutMs),
          } satisfies ReadyResponse);
          return;
        }
        case 'POST /v1/override/sign':
          sendJson(res, 200, daemon.signOverride(overrideSignRequest(await readJson(req))));
          return;
        case 'POST /v1/dashboard/login':
          sendJson(res, 200, daemon.dashboard.loginUrl(`http://127.0.0.1:${req.socket.localPort}`));
          return;
        case 'POST /v1/override/rotate-key':
          sendJson(res, 200, daemon.rotateOverrideKey());
          return;
        case 'GET /v1/logs':
          streamLog(daemon, url, res);
          return;
        case 'GET /v1/releases':
          sendJson(res, 200, {
            items: daemon.releaseViews(url.searchParams.get('name') ?? undefined),
          });
          return;
        case 'GET /v1/requests':
          sendRequests(daemon, url, res);
          return;
        case 'POST /v1/shutdown':
          sendJson(res, 200, {});
          onShutdown();
          return;
        default: {
          const command = /^POST \/v1\/releases\/([^/]+)\/([a-z]+)$/.exec(route);
          if (command) {
            sendJson(
              res,
              200,
              await daemon.releaseCommand(
                decodeURIComponent(command[1]!),
                releaseCommand(command[2]!),
              ),
            );
            return;
          }
          sendError(res, 404, `no such API endpoint: ${route}`);
        }
      }
    } catch (error) {
      if (error instanceof RequestError) sendError(res, error.status, error.message, error.issues);
      else if (error instanceof StateError) sendError(res, 500, error.message);
      else sendError(res, 500, `internal error: ${(error as Error).message}`);
    }
  });
  // Long-lived log streams must not keep shutdown waiting.
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function streamLog(daemon: Daemon, url: URL, res: http.ServerResponse): void {
  const workload = url.searchParams.get('workload');
  if (!workload) throw new RequestError(400, 'logs needs ?workload=namespace/name');
  const instance = url.searchParams.get('instance');
  const file = daemon.logFile(
    workload,
    url.searchParams.get('cluster') ?? undefined,
    instance === null ? undefined : Number(instance),
  );
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  sendLog(file, res, url.searchParams.get('follow') === '1');
}

/** Recent requests hop by hop, or, with `follow=1`, each one as it completes (one JSON per line). */
function sendRequests(daemon: Daemon, url: URL, res: http.ServerResponse): void {
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new RequestError(400, 'requests?limit= must be a whole number from 1 to 1000');
  const trace = url.searchParams.get('trace') ?? undefined;
  if (url.searchParams.get('follow') !== '1') {
    sendJson(res, 200, {
      requests: daemon.requests.recent({ limit, ...(trace ? { traceId: trace } : {}) }),
    } satisfies RequestsResponse);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const stop = daemon.requests.follow((r) => {
    if (trace === undefined || r.traceId === trace) res.write(`${JSON.stringify(r)}\n`);
  });
  res.on('close', stop);
}

/** How often a follow looks at the file even without a watch event (watch can miss some). */
const FOLLOW_POLL_MS = 1000;

/**
 * Sends `file` and, when following, whatever is appended to it, until the client goes away. One
 * read at a time, piped so that a slow reader (`lanes logs big | less`) pauses the file instead of
 * filling the daemon's memory. A file that was truncated, replaced or rotated (another inode, or
 * shorter than what was sent) is sent again from its start; a missing one is waited for. A read
 * that fails (the file went away between stat and open) is only a log line lost, never the daemon.
 */
function sendLog(file: string, res: http.ServerResponse, follow: boolean): void {
  let offset = 0;
  let inode: number | undefined;
  let reading: ReadStream | undefined;
  // A watch event or poll while reading: look again when the read is done.
  let again = false;
  let done = false;
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  // A client already gone would never send the 'close' that stops the follow below.
  if (res.destroyed) return;

  const stop = () => {
    done = true;
    reading?.destroy();
    watcher?.close();
    clearInterval(poll);
  };
  // 'close' comes when the response ends and when the client disconnects first.
  res.on('close', stop);
  res.on('error', stop);

  const pump = (): void => {
    if (done) return;
    if (reading) {
      again = true;
      return;
    }
    const stat = statOrUndefined(file);
    if (stat === undefined || stat.ino !== inode || stat.size < offset) {
      offset = 0;
      inode = stat?.ino;
    }
    if (stat === undefined || stat.size <= offset) {
      if (!follow) res.end();
      return;
    }
    const start = offset;
    const stream = createReadStream(file, { start, end: stat.size - 1 });
    reading = stream;
    stream.on('error', () => {
      // Gone or unreadable since the stat: the next look decides (a follow polls anyway).
    });
    stream.on('close', () => {
      // pipe() detaches from res only at 'end'; a failed or destroyed read must detach too.
      stream.unpipe(res);
      reading = undefined;
      offset = start + stream.bytesRead;
      if (!follow) {
        if (!done) res.end();
        return;
      }
      if (again) {
        again = false;
        pump();
      }
    });
    stream.pipe(res, { end: false });
  };

  pump();
  if (!follow) return;
  // Re-read when the file changes: the directory is watched, so a file created or rotated later
  // is seen too; the slow poll covers file systems where watch misses events.
  const name = basename(file);
  try {
    watcher = watch(dirname(file), (_event, changed) => {
      if (changed === null || changed === name) pump();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined;
  }
  poll = setInterval(pump, FOLLOW_POLL_MS);
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
