/**
 * The built-in mock service: the local runner for Alibaba's demo image `…/asm-mock:*` (SPEC §6).
 * Reads `app`, `version` and optionally `upstream_url` from the environment, listens on `PORT`
 * (127.0.0.1 only) and answers every request with
 *
 *     -> <app>(version: <version>, ip: <address>)
 *
 * followed by the body of its upstream's answer when `upstream_url` is set. That is the format of
 * the published walkthrough's output (`-> mocka(version: v1, ip: 192.168.1.27)-> mockb(version:
 * v1, ip: 192.168.1.30)-> mockc(…)`): the parts are joined with nothing in between, so the answer
 * has no trailing newline either.
 *
 * Like the original, its own code forwards no request header to the upstream. Baggage and
 * traceparent reach the next hop only when OpenTelemetry instrumentation is injected
 * (`src/controlplane/local/otel/register.ts`), which is what the lane demo is about. The upstream call is a plain
 * node:http `http.get`, the call the instrumentation patches and that Node sends through the
 * sidecar when `http_proxy` and `NODE_USE_ENV_PROXY=1` are set.
 *
 * Faults, for demonstrating and testing releases with plain YAML (the container's env): with
 * `fault_error_percent` (0-100) that share of requests is answered `fault_error_status` (default
 * 500) by the mock itself, without calling its upstream, and `fault_delay_ms` delays every answer.
 *
 * Two flavours beside the original: `client: fetch` makes the upstream call with `fetch()` (which
 * Node sends through the sidecar by CONNECT; the SDK's undici instrumentation forwards the
 * headers), and `protocol: grpc` serves the same answer over gRPC (grpc.ts), with an upstream
 * written `grpc://host:port`.
 *
 * Run it as `node src/controlplane/local/mock/server.ts`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createGrpcMockServer, grpcClient } from './grpc.ts';

/** This file, for starting the mock as its own process: `node <MOCK_SERVER_PATH>`. */
export const MOCK_SERVER_PATH = fileURLToPath(import.meta.url);

export interface MockConfig {
  readonly app: string;
  readonly version: string;
  /** An http:// or grpc:// URL, or undefined for the last service of a chain. */
  readonly upstreamUrl: string | undefined;
  /** 0 picks a free port (the listening line on stdout says which). */
  readonly port: number;
  readonly fault: MockFault;
  /** What the mock serves: HTTP/1.1 (the default) or gRPC. */
  readonly protocol: 'http' | 'grpc';
  /** How an http:// upstream is called: node:http (the default) or fetch(). */
  readonly client: 'http' | 'fetch';
}

export interface MockFault {
  /** Percent of requests answered with `errorStatus` by the mock itself. */
  readonly errorPercent: number;
  readonly errorStatus: number;
  /** Added before every answer. */
  readonly delayMs: number;
}

export const NO_FAULT: MockFault = { errorPercent: 0, errorStatus: 500, delayMs: 0 };

function numberEnv(
  env: Env,
  name: string,
  min: number,
  max: number,
  fallback: number,
  what: string,
): number | string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(n >= min && n <= max))
    return `env ${name} must be ${what} from ${min} to ${max}, got ${JSON.stringify(raw)}`;
  return n;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The configuration, or a one-line message saying what is wrong with the environment. */
export function readMockConfig(env: Env): MockConfig | string {
  const app = env.app;
  const version = env.version;
  if (!app) return 'env app is required: the service name the mock answers with';
  if (!version) return 'env version is required: the version the mock answers with';
  const rawPort = env.PORT;
  if (rawPort === undefined || !/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    return `env PORT must be a port number from 0 to 65535, got ${JSON.stringify(rawPort ?? null)}`;
  }
  const upstreamUrl = env.upstream_url || undefined;
  if (upstreamUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(upstreamUrl);
    } catch {
      return `env upstream_url must be an http:// or grpc:// URL, got ${JSON.stringify(upstreamUrl)}`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'grpc:') {
      return `env upstream_url must be an http:// or grpc:// URL, got ${JSON.stringify(upstreamUrl)}`;
    }
  }
  const protocol = env.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'grpc')
    return `env protocol must be http or grpc, got ${JSON.stringify(protocol)}`;
  const client = env.client ?? 'http';
  if (client !== 'http' && client !== 'fetch')
    return `env client must be http or fetch, got ${JSON.stringify(client)}`;
  const errorPercent = numberEnv(env, 'fault_error_percent', 0, 100, 0, 'a percentage');
  if (typeof errorPercent === 'string') return errorPercent;
  const errorStatus = numberEnv(env, 'fault_error_status', 500, 599, 500, 'a 5xx status');
  if (typeof errorStatus === 'string') return errorStatus;
  if (!Number.isInteger(errorStatus))
    return `env fault_error_status must be a whole 5xx status, got ${JSON.stringify(env.fault_error_status)}`;
  const delayMs = numberEnv(env, 'fault_delay_ms', 0, 600_000, 0, 'milliseconds');
  if (typeof delayMs === 'string') return delayMs;
  return {
    app,
    version,
    upstreamUrl,
    port: Number(rawPort),
    fault: { errorPercent, errorStatus, delayMs },
    protocol,
    client,
  };
}

/** What the upstream answered: its status (HTTP) and body. */
interface UpstreamAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * The upstream call of a mock whose upstream speaks HTTP, made with fetch(): no headers of its
 * own, like the node:http one. Node sends it through `http_proxy` under NODE_USE_ENV_PROXY.
 */
async function fetchUpstream(url: string, signal: AbortSignal): Promise<UpstreamAnswer> {
  const res = await fetch(url, { signal });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

export function createMockServer(
  config: MockConfig,
  random: () => number = Math.random,
): http.Server {
  let self = '';
  const fault = config.fault;
  const grpcUpstream = config.upstreamUrl?.startsWith('grpc:')
    ? grpcClient(new URL(config.upstreamUrl).host)
    : undefined;
  const server = http.createServer((req, res) => {
    // Whatever the client sent is not used; reading it keeps the connection reusable.
    req.resume();
    if (fault.delayMs > 0) {
      const timer = setTimeout(() => handle(req, res), fault.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else handle(req, res);
  });
  const handle = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (fault.errorPercent > 0 && random() * 100 < fault.errorPercent) {
      answer(
        res,
        fault.errorStatus,
        `${self} fault: injected error (fault_error_percent ${fault.errorPercent})`,
      );
      return;
    }
    if (config.upstreamUrl === undefined) {
      answer(res, 200, self);
      return;
    }
    if (grpcUpstream) {
      // An HTTP mock in front of a gRPC one: the call's text is not used, its answer is.
      grpcUpstream('call').then(
        (text) => answer(res, 200, `${self}${text}`),
        (err: Error) => answer(res, 502, `${self} upstream error: ${err.message}`),
      );
      return;
    }
    if (config.client === 'fetch') {
      const abort = new AbortController();
      fetchUpstream(config.upstreamUrl, abort.signal).then(
        (up) => answer(res, up.status, Buffer.concat([Buffer.from(self), up.body])),
        (err: Error) => answer(res, 502, `${self} upstream error: ${err.message}`),
      );
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      return;
    }
    // No options and no headers: nothing from the incoming request is copied by this code.
    const upstream = http.get(config.upstreamUrl, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (chunk: Buffer) => chunks.push(chunk));
      up.on('end', () => {
        // The upstream's status passes through, so a failure further down the chain (a mesh
        // error, say) stays visible to the client along with its body.
        answer(res, up.statusCode ?? 502, Buffer.concat([Buffer.from(self), ...chunks]));
      });
      up.on('error', (err) => answer(res, 502, `${self} upstream error: ${err.message}`));
      up.on('close', () => {
        if (!up.complete) answer(res, 502, `${self} upstream error: connection closed mid-answer`);
      });
    });
    upstream.on('error', (err) => answer(res, 502, `${self} upstream error: ${err.message}`));
    // The client went away: stop waiting for the upstream.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };
  // Known once listening (PORT may be 0), and kept: after close() the address is gone, while
  // requests in flight still need it.
  server.once('listening', () => {
    // Locally every instance has the same IP, so the port is what tells instances apart.
    const { port } = server.address() as AddressInfo;
    self = `-> ${config.app}(version: ${config.version}, ip: 127.0.0.1:${port})`;
  });
  return server;
}

function answer(res: http.ServerResponse, status: number, body: string | Buffer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Why the mock cannot listen, and for a taken port what to give instead. */
function listenFailure(port: number, err: NodeJS.ErrnoException): string {
  const why = err.code ?? err.message;
  return err.code === 'EADDRINUSE'
    ? `cannot listen on 127.0.0.1:${port}: another program is listening there (EADDRINUSE); give another PORT (lanes mock --port), or 0 for any free one`
    : `cannot listen on 127.0.0.1:${port}: ${why}`;
}

function fail(message: string, code: number): never {
  process.stderr.write(`mock: ${message}\n`);
  process.exit(code);
}

/** The gRPC flavour (faults apply to the HTTP one only). */
async function mainGrpc(config: MockConfig): Promise<void> {
  let self = '';
  const upstream = config.upstreamUrl
    ? config.upstreamUrl.startsWith('grpc:')
      ? grpcClient(new URL(config.upstreamUrl).host)
      : async () => {
          // A gRPC mock in front of an HTTP one.
          const up = await fetchUpstream(config.upstreamUrl!, AbortSignal.timeout(30_000));
          return up.body.toString('utf8');
        }
    : undefined;
  const server = createGrpcMockServer(() => self, upstream);
  const port = await server
    .listen(config.port)
    .catch((err: NodeJS.ErrnoException) => fail(listenFailure(config.port, err), 1));
  self = `-> ${config.app}(version: ${config.version}, ip: 127.0.0.1:${port})`;
  process.stdout.write(
    `mock ${config.app} (version ${config.version}, gRPC) listening on 127.0.0.1:${port}\n`,
  );
  process.once('SIGTERM', () => {
    server.close();
    process.once('SIGTERM', () => process.exit(0));
  });
}

function main(): void {
  const config = readMockConfig(process.env);
  if (typeof config === 'string') fail(config, 2);
  if (config.protocol === 'grpc') {
    void mainGrpc(config);
    return;
  }
  const server = createMockServer(config);
  server.on('error', (err: NodeJS.ErrnoException) => {
    fail(listenFailure(config.port, err), 1);
  });
  server.listen(config.port, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(
      `mock ${config.app} (version ${config.version}) listening on 127.0.0.1:${port}\n`,
    );
  });
  process.once('SIGTERM', () => {
    // Stop accepting, let requests in flight finish, then exit 0 by running out of work (no
    // process.exit, so an injected SDK still flushes its spans). A second SIGTERM ends it at once.
    server.close();
    server.closeIdleConnections();
    process.once('SIGTERM', () => process.exit(0));
  });
}

if (import.meta.main) main();
