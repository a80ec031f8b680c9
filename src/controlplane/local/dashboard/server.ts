/**
 * The dashboard under `/dashboard/` on the daemon's loopback listener: a login that trades a
 * one-time code for a session cookie (auth.ts), the page's files (assets.ts), the snapshot as
 * JSON, and server-sent events that push a new snapshot when anything in it changed (checked
 * every `tickMs`, once for all open pages). Read-only: every endpoint is a GET.
 */
import type http from 'node:http';
import type { RoutingTable } from '../../../core/compiler/table.ts';
import type { MetricsSnapshot } from '../../../dataplane/telemetry/metrics.ts';
import { Assets } from './assets.ts';
import { DashboardAuth } from './auth.ts';
import type {
  DashboardSnapshot,
  GatewayRow,
  LaneMapGroup,
  RequestRow,
  ResourceRow,
  TrafficUpdate,
  WorkloadRow,
} from './client/protocol.ts';
import { laneMap, otherServices } from './lane-map.ts';
import { TrafficRates } from './traffic.ts';

/** What the dashboard reads from the daemon: views, never the daemon itself. */
export interface DashboardSource {
  /** The routing table in force and its version; undefined before the first publish. */
  table(): { readonly version: number; readonly table: RoutingTable } | undefined;
  gateways(): readonly GatewayRow[];
  workloads(): readonly WorkloadRow[];
  resources(): readonly ResourceRow[];
  /** The hop counters every gateway and sidecar keeps (what GET /metrics serves). */
  metrics(): MetricsSnapshot;
  /** The latest `limit` requests with their hops, oldest first (the daemon's recent requests). */
  requests?(limit: number): readonly RequestRow[];
}

/** How many recent requests an open page is sent. */
export const RECENT_REQUESTS = 50;

export interface DashboardOptions {
  /** How often open pages are brought up to date (default 1 s). */
  readonly tickMs?: number;
  readonly now?: () => number;
}

/** Sent with every answer: nothing here may be framed, sniffed, cached or load other origins. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

function text(res: http.ServerResponse, status: number, message: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${message}\n`);
}

export class Dashboard {
  readonly auth: DashboardAuth;
  readonly assets = new Assets();
  readonly #source: DashboardSource;
  readonly #tickMs: number;
  readonly #streams = new Set<http.ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #lastSnapshot = '';
  #lastRequests = '';
  readonly #traffic = new TrafficRates();
  readonly #now: () => number;
  /** The lane map of the last table seen: recomputed only when the table changes. */
  #mapOf: { table: RoutingTable; groups: LaneMapGroup[] } | undefined;

  constructor(source: DashboardSource, options: DashboardOptions = {}) {
    this.#source = source;
    this.#tickMs = options.tickMs ?? 1000;
    this.auth = new DashboardAuth(options.now);
    this.#now = options.now ?? Date.now;
  }

  /** A one-time login URL on `baseUrl` (the daemon's `http://127.0.0.1:PORT`). */
  loginUrl(baseUrl: string): { readonly url: string; readonly expiresAt: string } {
    const { code, expiresAt } = this.auth.loginCode();
    this.assets.warm();
    return {
      url: `${baseUrl}/dashboard/login?code=${code}`,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  snapshot(): DashboardSnapshot {
    const current = this.#source.table();
    let groups: LaneMapGroup[] = [];
    if (current) {
      if (this.#mapOf?.table !== current.table)
        this.#mapOf = { table: current.table, groups: laneMap(current.table) };
      groups = this.#mapOf.groups;
    }
    return {
      version: current?.version ?? 0,
      generatedAt: new Date(this.#now()).toISOString(),
      groups,
      otherServices: current ? otherServices(current.table) : [],
      gateways: this.#source.gateways(),
      workloads: this.#source.workloads(),
      resources: this.#source.resources(),
    };
  }

  /** Answers a request under `/dashboard`; false for any other path (not ours). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, port: number): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 must get nothing.
    const host = req.headers.host ?? '';
    if (!LOOPBACK_HOSTS.some((h) => host === `${h}:${port}`)) {
      text(res, 421, `the dashboard answers only at 127.0.0.1:${port} or localhost:${port}`);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(res, 405, 'the dashboard only reads: GET');
      return true;
    }
    if (path === '/dashboard/login') {
      const session = this.auth.redeem(url.searchParams.get('code') ?? '');
      if (session === undefined) {
        text(
          res,
          403,
          'this login link was used already or has expired; run `lanes dashboard` for a new one',
        );
        return true;
      }
      // Off the URL at once, so the used code is not in the history or a bookmark.
      send(res, 303, 'text/plain; charset=utf-8', 'logged in\n', {
        location: '/dashboard/',
        'set-cookie': DashboardAuth.cookie(session),
      });
      return true;
    }
    if (!this.auth.allows(req.headers.cookie)) {
      text(res, 401, 'not logged in: run `lanes dashboard` and open the URL it prints');
      return true;
    }
    if (path === '/dashboard' || path === '/dashboard/') return this.#file(res, 'index.html');
    if (path.startsWith('/dashboard/static/'))
      return this.#file(res, path.slice('/dashboard/static/'.length));
    if (path === '/dashboard/api/snapshot') {
      send(res, 200, 'application/json', JSON.stringify(this.snapshot()));
      return true;
    }
    if (path === '/dashboard/api/events') {
      this.#openStream(res);
      return true;
    }
    text(res, 404, `no such dashboard path: ${path}`);
    return true;
  }

  #file(res: http.ServerResponse, name: string): true {
    const asset = this.assets.get(name);
    if (!asset) text(res, 404, `no such file: ${name}`);
    else send(res, 200, asset.type, asset.body);
    return true;
  }

  #openStream(res: http.ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream',
      connection: 'keep-alive',
    });
    // The whole snapshot first, then whatever changes.
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    const requests = this.#requests();
    if (requests !== undefined) res.write(`event: requests\ndata: ${requests}\n\n`);
    this.#streams.add(res);
    res.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stop();
    });
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs);
  }

  /** The traffic since the last call (rates) and since the daemon started (totals). */
  traffic(): TrafficUpdate {
    const gateways = new Set(Object.keys(this.#source.table()?.table.gateways ?? {}));
    return this.#traffic.update(this.#source.metrics(), gateways, this.#now());
  }

  /**
   * Once per tick for every open page: the traffic, and the snapshot when something in it
   * changed.
   */
  #tick(): void {
    const snapshot = this.snapshot();
    const json = JSON.stringify({ ...snapshot, generatedAt: '' });
    const changed = json !== this.#lastSnapshot;
    this.#lastSnapshot = json;
    let frame = changed ? `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n` : '';
    frame += `event: traffic\ndata: ${JSON.stringify(this.traffic())}\n\n`;
    const requests = this.#requests();
    if (requests !== undefined && requests !== this.#lastRequests) {
      this.#lastRequests = requests;
      frame += `event: requests\ndata: ${requests}\n\n`;
    }
    for (const res of this.#streams) res.write(frame);
  }

  /** The recent requests as JSON, or undefined where the source keeps none. */
  #requests(): string | undefined {
    const rows = this.#source.requests?.(RECENT_REQUESTS);
    return rows === undefined ? undefined : JSON.stringify(rows);
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Ends every open event stream (the daemon is shutting down). */
  close(): void {
    this.#stop();
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }
}
