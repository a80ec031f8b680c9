/**
 * The control API (src/control/protocol.ts) over HTTP/JSON on 127.0.0.1. Every request needs
 * the bearer token from the state directory; anything else is 401. Errors are JSON with one line
 * saying what went wrong and every issue on its own line.
 */
import { timingSafeEqual } from 'node:crypto';
import { createReadStream, type FSWatcher, statSync, watch } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { ErrorResponse } from '../control/protocol.ts';
import type { Daemon } from './daemon.ts';
import { applyRequest, deleteRequest, explainRequest } from './requests.ts';
import { StateError } from './state.ts';
import { RequestError } from './store.ts';

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
          const query: Parameters<Daemon['resources']>[0] = {
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
        case 'GET /v1/logs':
          streamLog(daemon, url, req, res);
          return;
        case 'POST /v1/shutdown':
          sendJson(res, 200, {});
          onShutdown();
          return;
        default:
          sendError(res, 404, `no such API endpoint: ${route}`);
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

function streamLog(
  daemon: Daemon,
  url: URL,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const workload = url.searchParams.get('workload');
  if (!workload) throw new RequestError(400, 'logs needs ?workload=namespace/name');
  const instance = url.searchParams.get('instance');
  const file = daemon.logFile(
    workload,
    url.searchParams.get('cluster') ?? undefined,
    instance === null ? undefined : Number(instance),
  );
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  let offset = 0;
  // One read at a time: a watch event and the poll firing together must not interleave chunks.
  let reading = false;
  let again = false;
  const pump = (then?: () => void) => {
    if (reading) {
      again = true;
      return;
    }
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      size = 0;
    }
    if (size <= offset) {
      then?.();
      return;
    }
    reading = true;
    const stream = createReadStream(file, { start: offset, end: size - 1 });
    offset = size;
    stream.on('data', (c) => res.write(c));
    stream.on('close', () => {
      reading = false;
      if (again) {
        again = false;
        pump(then);
      } else then?.();
    });
  };
  if (url.searchParams.get('follow') !== '1') {
    pump(() => res.end());
    return;
  }
  pump();
  // Follow: re-read when the file grows (fs.watch, plus a slow poll where watch misses events or
  // the file does not exist yet).
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, () => pump());
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(() => pump(), 1000);
  req.on('close', () => {
    watcher?.close();
    clearInterval(poll);
  });
}
