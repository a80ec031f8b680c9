/**
 * An HTTP server on 127.0.0.1 (port 0) that records every request it receives — method, request
 * target exactly as sent (origin-form `/x` or absolute-form `http://host/x`, as a proxy sees it),
 * raw headers in order, body — and answers each with a fixed response. It stands in for an
 * upstream app, a proxy or a collector in tests that check what went over the wire.
 */
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** The request target as it arrived on the wire. */
  readonly target: string;
  readonly httpVersion: string;
  /** Name, value, name, value, … in arrival order, names as sent. */
  readonly rawHeaders: readonly string[];
  /** Node's view: lower-case names, repeated headers joined. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Answer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Answer this long after the request has arrived (and been recorded): a slow upstream. */
  readonly delayMs?: number;
}

export interface RecordingServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Resolves with request number `index` (0-based) once it has arrived completely. */
  request(index: number, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** Lower-case names of the raw headers, in order. */
export function headerNames(req: RecordedRequest): string[] {
  return req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

/** Every value of header `name` (any case), in order. */
export function headerValues(req: RecordedRequest, name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === lower) values.push(req.rawHeaders[i + 1]!);
  }
  return values;
}

/** The single value of header `name`; fails when it was sent more than once. */
export function headerValue(req: RecordedRequest, name: string): string | undefined {
  const values = headerValues(req, name);
  if (values.length > 1) throw new Error(`header ${name} was sent ${values.length} times`);
  return values[0];
}

export async function startRecordingServer(answer: Answer = {}): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const waiters: { index: number; resolve: (r: RecordedRequest) => void }[] = [];
  const body = answer.body ?? 'recorded';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        target: req.url ?? '',
        httpVersion: req.httpVersion,
        rawHeaders: [...req.rawHeaders],
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      for (const w of waiters.filter((w) => w.index === requests.length - 1)) w.resolve(recorded);
      const respond = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          ...answer.headers,
        });
        res.end(body);
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    request(index, timeoutMs = 5000) {
      const have = requests[index];
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `recording server :${port} got ${requests.length} request(s) in ${timeoutMs} ms, waited for request #${index + 1}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          index,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async close() {
      // Keep-alive connections from clients would otherwise hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
