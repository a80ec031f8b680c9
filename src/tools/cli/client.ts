/**
 * The control API client (`src/controlplane/local/protocol.ts`). The base URL and the token come from the
 * state directory; every failure becomes a `CliError` with a one-line message the user can act on.
 *
 * It uses node:http with a fresh connection per call rather than `fetch()`: the API is on
 * loopback, a CLI makes one or two calls, and `fetch()` (and Node's global agent) would follow
 * `http_proxy` under `NODE_USE_ENV_PROXY=1`, which is set inside every local workload.
 */
import http from 'node:http';
import { join } from 'node:path';
import type {
  ApplyRequest,
  ApplyResponse,
  DashboardLoginResponse,
  DeleteRequest,
  DeleteResponse,
  ErrorResponse,
  ExplainRequest,
  ExplainResponse,
  OverrideKeyResponse,
  OverrideSignRequest,
  OverrideSignResponse,
  ReadyRequest,
  ReadyResponse,
  ReleaseCommandName,
  ReleasesResponse,
  ReleaseView,
  RequestsResponse,
  ResourceQuery,
  ResourcesResponse,
  StatusResponse,
} from '../../controlplane/local/protocol.ts';
import {
  type DaemonInfo,
  noDaemonMessage,
  readDaemonInfo,
  readToken,
  StateDirError,
  staleDaemonMessage,
  TOKEN_FILE,
} from '../../controlplane/local/state/state-dir.ts';
import { CliError } from './io.ts';

export interface LogsQuery {
  /** `namespace/name` of a Deployment. */
  readonly workload: string;
  readonly cluster?: string;
  readonly instance?: number;
  readonly follow?: boolean;
}

/** The API answered with an error status; `issues` are already one line each. */
export class ApiError extends CliError {
  override name = 'ApiError';
  readonly status: number;

  constructor(status: number, message: string, issues: readonly string[]) {
    super(message, { details: issues });
    this.status = status;
  }
}

/** Finds the daemon of a state directory; fails with the messages users see. */
export function connect(stateDir: string): Client {
  try {
    const state = readDaemonInfo(stateDir);
    if (state.status === 'absent') throw new CliError(noDaemonMessage(stateDir));
    if (state.status === 'stale') {
      throw new CliError(staleDaemonMessage(stateDir, state.info.pid));
    }
    return new Client(stateDir, state.info, readToken(stateDir));
  } catch (error) {
    if (error instanceof StateDirError) throw new CliError(error.message);
    throw error;
  }
}

export class Client {
  readonly stateDir: string;
  readonly daemon: DaemonInfo;
  readonly #token: string;

  constructor(stateDir: string, daemon: DaemonInfo, token: string) {
    this.stateDir = stateDir;
    this.daemon = daemon;
    this.#token = token;
  }

  apply(req: ApplyRequest): Promise<ApplyResponse> {
    return this.#json('POST', '/v1/apply', req);
  }

  delete(req: DeleteRequest): Promise<DeleteResponse> {
    return this.#json('POST', '/v1/delete', req);
  }

  resources(query: ResourceQuery): Promise<ResourcesResponse> {
    return this.#json('GET', withQuery('/v1/resources', { ...query }));
  }

  status(): Promise<StatusResponse> {
    return this.#json('GET', '/v1/status');
  }

  releases(name?: string): Promise<ReleasesResponse> {
    return this.#json(
      'GET',
      `/v1/releases${name === undefined ? '' : `?name=${encodeURIComponent(name)}`}`,
    );
  }

  releaseCommand(name: string, command: ReleaseCommandName): Promise<ReleaseView> {
    return this.#json('POST', `/v1/releases/${encodeURIComponent(name)}/${command}`);
  }

  /** Waits (at most `timeoutMs`) for instances an apply started; says where each stands. */
  ready(req: ReadyRequest): Promise<ReadyResponse> {
    return this.#json('POST', '/v1/ready', req);
  }

  explain(req: ExplainRequest): Promise<ExplainResponse> {
    return this.#json('POST', '/v1/explain', req);
  }

  signOverride(req: OverrideSignRequest): Promise<OverrideSignResponse> {
    return this.#json('POST', '/v1/override/sign', req);
  }

  dashboardLogin(): Promise<DashboardLoginResponse> {
    return this.#json('POST', '/v1/dashboard/login', {});
  }

  rotateOverrideKey(): Promise<OverrideKeyResponse> {
    return this.#json('POST', '/v1/override/rotate-key', {});
  }

  async shutdown(): Promise<void> {
    await this.#json('POST', '/v1/shutdown', {});
  }

  /** Recent requests, hop by hop. */
  requests(query: { limit?: number; trace?: string }): Promise<RequestsResponse> {
    return this.#json(
      'GET',
      withQuery('/v1/requests', {
        limit: query.limit === undefined ? undefined : String(query.limit),
        trace: query.trace,
      }),
    );
  }

  /** Each request as it completes, one JSON per line, until the daemon or `signal` ends it. */
  async followRequests(
    trace: string | undefined,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<Buffer>> {
    return this.#stream(withQuery('/v1/requests', { follow: '1', trace }), signal);
  }

  /** The log as a byte stream; with `follow` it ends when the daemon or `signal` ends it. */
  async logs(query: LogsQuery, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const path = withQuery('/v1/logs', {
      workload: query.workload,
      cluster: query.cluster,
      instance: query.instance === undefined ? undefined : String(query.instance),
      follow: query.follow ? '1' : undefined,
    });
    return this.#stream(path, signal);
  }

  /** A GET whose answer is read as it comes (a log, followed requests). */
  async #stream(path: string, signal: AbortSignal | undefined): Promise<AsyncIterable<Buffer>> {
    const res = await this.#send('GET', path, undefined, signal);
    if (res.statusCode !== 200) {
      const body = await readBody(res);
      throw this.#statusError('GET', path, res.statusCode ?? 0, body);
    }
    return res;
  }

  async #json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.#send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
    );
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status !== 200) throw this.#statusError(method, path, status, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the daemon sent a response that is not JSON to ${method} ${path}`);
    }
  }

  #send(
    method: string,
    path: string,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.daemon.api);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.#token}`,
        accept: 'application/json',
      };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      // agent: false — one connection, closed afterwards, and never an env-configured proxy.
      const req = http.request(url, { method, headers, agent: false, signal });
      req.on('response', resolve);
      req.on('error', (error) => reject(this.#networkError(error, method, path)));
      req.end(body);
    });
  }

  #networkError(error: Error, method: string, path: string): Error {
    if (error.name === 'AbortError') return error;
    const code = (error as NodeJS.ErrnoException).code;
    // Nothing listens on the recorded port: the daemon died without removing daemon.json.
    if (code === 'ECONNREFUSED') {
      return new CliError(staleDaemonMessage(this.stateDir, this.daemon.pid));
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      // A change may already be stored when the connection drops (the daemon stopping mid-apply).
      const maybe =
        method === 'GET'
          ? ''
          : '; the change may or may not have been made: check with `lanes get`';
      return new CliError(
        `the daemon at ${this.daemon.api} closed the connection during ${method} ${path}; is it shutting down?${maybe}`,
      );
    }
    return new CliError(`cannot reach the daemon at ${this.daemon.api}: ${error.message}`);
  }

  #statusError(method: string, path: string, status: number, text: string): CliError {
    if (status === 401) {
      return new CliError(
        `the daemon refused the token in ${join(this.stateDir, TOKEN_FILE)} (is this the state directory of the running daemon?)`,
      );
    }
    const parsed = parseErrorResponse(text);
    if (parsed) return new ApiError(status, parsed.error, parsed.issues);
    const first = text.trim().split('\n', 1)[0] ?? '';
    return new ApiError(
      status,
      `the daemon answered ${status} to ${method} ${path.split('?', 1)[0]}${first ? `: ${first}` : ''}`,
      [],
    );
  }
}

function parseErrorResponse(text: string): ErrorResponse | undefined {
  try {
    const value = JSON.parse(text) as Partial<ErrorResponse> | null;
    if (typeof value?.error !== 'string') return undefined;
    const issues = Array.isArray(value.issues)
      ? value.issues.filter((i): i is string => typeof i === 'string')
      : [];
    return { error: oneLine(value.error), issues: issues.map(oneLine) };
  } catch {
    return undefined;
  }
}

/** The "one line per error" rule holds even when the daemon sends a multi-line message. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function withQuery(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
