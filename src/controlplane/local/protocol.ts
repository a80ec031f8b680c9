/**
 * The control API between the CLI and the local daemon: HTTP/JSON on 127.0.0.1, every request
 * with `Authorization: Bearer <token>` (the token is in the state directory, mode 0600; wrong or
 * missing → 401). These types are the contract; `src/controlplane/local/api.ts` serves them and
 * `src/tools/cli/client.ts` calls them.
 *
 *   POST /v1/apply     ApplyRequest    → 200 ApplyResponse | 400 ErrorResponse (nothing applied)
 *   POST /v1/delete    DeleteRequest   → 200 DeleteResponse | 400/404 ErrorResponse
 *   GET  /v1/resources?kind=&name=&namespace=&cluster=   → 200 ResourcesResponse
 *        (kind=Lane also lists ASMSwimLanes, kind=LaneGroup ASMSwimLaneGroups: one concept)
 *   GET  /v1/status                    → 200 StatusResponse
 *
 * Prometheus metrics are served apart from this API, without the token: `GET /metrics` on the
 * port `StatusResponse.metrics.url` names (src/controlplane/local/metrics.ts).
 *   GET  /v1/logs?workload=ns/name&cluster=&instance=&follow=1 → 200 text/plain (streamed when follow)
 *   POST /v1/ready     ReadyRequest    → 200 ReadyResponse (waits, at most the time asked)
 *   GET  /v1/requests?limit=&trace=    → 200 RequestsResponse (recent requests, hop by hop)
 *   GET  /v1/requests?follow=1         → 200 application/x-ndjson, one RecentRequest per line as each completes
 *   POST /v1/explain   ExplainRequest  → 200 ExplainResponse | 400 ErrorResponse
 *   GET  /v1/releases[?name=]          → 200 ReleasesResponse
 *   POST /v1/releases/NAME/COMMAND     → 200 ReleaseView | 404 | 409 ErrorResponse (COMMAND is
 *                                        approve, pause, resume, promote or abort)
 *   POST /v1/override/sign  OverrideSignRequest → 200 OverrideSignResponse | 400 ErrorResponse
 *   POST /v1/override/rotate-key       → 200 OverrideKeyResponse (every signed override stops working)
 *   POST /v1/dashboard/login           → 200 DashboardLoginResponse (a one-time login URL)
 *   GET  /dashboard/…                  the dashboard page and its data, with a session cookie
 *                                      instead of the token (see dashboard/auth.ts)
 *   POST /v1/shutdown                  → 200 {} (then the daemon stops every workload and exits)
 */
import type { Issue } from '../../config/source/issues.ts';
import type { Condition } from '../../core/compiler/status.ts';
import type { AccessLogEntry } from '../../dataplane/telemetry/access-log.ts';
import type { PauseCause, Phase, ReleaseCommand } from '../release/machine.ts';

/**
 * A status condition as the CLI shows it: the daemon renders each problem's position
 * (`file:line:col path: message`) into `message`, since the CLI has no resource origins.
 */
export type ConditionView = Pick<Condition, 'type' | 'status' | 'message'> & {
  readonly reason: string;
};

export const API_VERSION = 'v1';

export interface SourceText {
  /** Where the text came from (a path, or `<stdin>`), for error messages. */
  readonly file: string;
  readonly text: string;
  /**
   * Absolute directory the documents' relative paths resolve against (a Deployment's
   * `workingDir`, or where its command runs when it has none): the file's own directory; for
   * stdin, the CLI's working directory. Absent: the daemon's working directory.
   */
  readonly dir?: string;
}

export interface ErrorResponse {
  /** One line: what went wrong. */
  readonly error: string;
  /** Every problem, one line each, `file:line:col: Kind ns/name: path: message`. */
  readonly issues: readonly string[];
}

export interface ApplyRequest {
  /** Cluster for Deployments, Services and Gateways; `default` when absent. */
  readonly cluster?: string;
  readonly sources: readonly SourceText[];
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResponse {
  readonly results: readonly { readonly resource: string; readonly action: ApplyAction }[];
  /** Keys of the instances the change started: `POST /v1/ready` says when they accept connections. */
  readonly started: readonly string[];
  /**
   * What the documents say that lanes accepts but ignores, or that is probably not meant
   * (severity `ignored` / `warning`), with where: the CLI summarises repeats.
   */
  readonly issues: readonly Issue[];
  /**
   * What the change broke elsewhere, or could not start, one line each, starting `warning: `
   * (accepted, but the user should know).
   */
  readonly notes: readonly string[];
}

export interface DeleteTarget {
  /** Canonical kind (`Deployment`, `ASMSwimLane`, …); the CLI resolves aliases. */
  readonly kind: string;
  readonly names: readonly string[];
  readonly namespace?: string;
}

export interface DeleteRequest {
  readonly cluster?: string;
  /** Delete what these documents define… */
  readonly sources?: readonly SourceText[];
  /** …or these resources by kind and name. */
  readonly targets?: readonly DeleteTarget[];
  /** Delete even what ends something in force (a promoted release hands its services back). */
  readonly force?: boolean;
}

export interface DeleteResponse {
  readonly results: readonly { readonly resource: string; readonly action: 'deleted' }[];
  /** What the deletion broke elsewhere (a route to a lane that is gone), one line each. */
  readonly notes: readonly string[];
}

export interface ReadyRequest {
  /** Instance keys, as an apply returned them. */
  readonly instances: readonly string[];
  /** How long to wait for the ones still starting (the daemon caps it at 120 s). */
  readonly timeoutMs: number;
}

/** Where one instance stands when the wait ended. */
export interface InstanceReadiness {
  readonly key: string;
  /** `namespace/name` of its Deployment. */
  readonly workload: string;
  readonly index: number;
  /**
   * `ready`; `starting`: runs but does not accept connections yet; `crashed`: exited since it
   * was started (the supervisor restarts it); `gone`: replaced, deleted or stopping.
   */
  readonly state: 'ready' | 'starting' | 'crashed' | 'gone';
  /** Why it is not ready: how it exited or what it is doing, and the last line it wrote. */
  readonly message: string;
}

export interface ReadyResponse {
  readonly instances: readonly InstanceReadiness[];
}

export interface InstanceView {
  readonly index: number;
  readonly status: 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped' | 'failed';
  readonly pid: number | null;
  /** Where the app listens (its PORT). */
  readonly port: number;
  /** The sidecar's inbound listener: the instance's endpoint address. */
  readonly endpoint: string;
  /** The sidecar's outbound listener: the app's http_proxy. */
  readonly proxy: string;
  readonly restarts: number;
  readonly log: string;
  /** Why the last run ended, when it did. */
  readonly lastExit: string | null;
}

export interface ResourceView {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
  /** '' for mesh-wide kinds. */
  readonly cluster: string;
  readonly source: { readonly file: string; readonly line: number };
  /** The document as applied (parsed YAML). */
  readonly manifest: unknown;
  readonly conditions: readonly ConditionView[];
  /** Ignored fields and warnings. */
  readonly notes: readonly string[];
  /** Deployments: their instances. */
  readonly instances?: readonly InstanceView[];
  /** Releases: where they are. */
  readonly release?: ReleaseView;
  /** Lanes (Lane, ASMSwimLane): what the compiler made of it; absent when it did not compile. */
  readonly lane?: LaneSummary;
  /** Lane groups (LaneGroup, ASMSwimLaneGroup), likewise. */
  readonly laneGroup?: LaneGroupSummary;
}

export interface LaneSummary {
  readonly group: string;
  readonly mode: 'permissive' | 'strict';
  /** The header whose value names the lane on every hop. */
  readonly routeHeader: string;
  readonly selector: Readonly<Record<string, string>>;
  /** `namespace/name` of each service in the lane, with its instances in the lane. */
  readonly services: readonly {
    readonly name: string;
    readonly healthy: number;
    readonly total: number;
  }[];
  /** Lanes tried (depth first) before the services' baselines. */
  readonly fallback: readonly string[];
  readonly enabled: boolean;
  readonly disabledReason?: string;
}

export interface LaneGroupSummary {
  readonly mode: 'permissive' | 'strict';
  readonly routeHeader: string;
  /** `namespace/name` of each service. */
  readonly services: readonly string[];
  readonly lanes: readonly string[];
  readonly baseline?: string;
}

/** `GET /v1/resources`' query: every field narrows the list; none lists everything. */
export interface ResourceQuery {
  /** Canonical kind; `Lane` and `LaneGroup` also list their ASM kinds. */
  readonly kind?: string;
  readonly name?: string;
  /** Cluster-scoped resources (namespace '') match every namespace. */
  readonly namespace?: string;
  /** Mesh-wide resources (cluster '') match every cluster. */
  readonly cluster?: string;
}

export interface ResourcesResponse {
  readonly items: readonly ResourceView[];
}

export interface StatusResponse {
  /** Where Prometheus scrapes the mesh (no token); absent while the daemon is still starting. */
  readonly metrics?: { readonly url: string };
  readonly gateways: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly cluster: string;
    readonly url: string;
    /**
     * The port this listener had before, when another program had taken it as the daemon
     * started: the URL changed, and the old one now reaches that program.
     */
    readonly movedFrom?: number;
  }[];
  readonly workloads: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly cluster: string;
    readonly replicas: number;
    readonly ready: number;
    readonly restarts: number;
  }[];
  readonly lanes: readonly {
    readonly name: string;
    readonly group: string;
    readonly services: readonly string[];
    readonly status: string;
  }[];
}

/** A release as the CLI shows it (`lanes release status`, `describe release`). Times are ISO 8601. */
export interface ReleaseView {
  readonly name: string;
  readonly group: string;
  readonly lane: string;
  readonly phase: Phase;
  /** 1-based; 0 while verifying. */
  readonly step: number;
  readonly steps: readonly { readonly weight: number; readonly pauseMs: number }[];
  /** Percent of ingress requests stamped with the lane now (100 once promoted). */
  readonly weight: number;
  /** Observed time in the current step (or gate), and the step's pause. */
  readonly stepElapsedMs: number;
  readonly stepPauseMs: number;
  readonly pausedBy?: PauseCause;
  readonly failures: number;
  readonly analysis?: {
    readonly intervalMs: number;
    readonly minRequests: number;
    readonly failureLimit: number;
  };
  readonly lastAnalysis?: {
    readonly verdict: 'pass' | 'fail' | 'inconclusive';
    readonly at: string;
    readonly windowMs: number;
    readonly requests: number;
    readonly errors: number;
    readonly baselineRequests: number | undefined;
    readonly metrics: readonly {
      readonly metric: 'successRate' | 'latencyP99' | 'errorRateIncrease';
      readonly value: number | undefined;
      readonly op: '>=' | '<=';
      readonly threshold: number;
      readonly verdict: 'pass' | 'fail' | 'inconclusive';
      readonly reason?: string;
    }[];
  };
  readonly promotion?: {
    readonly at: string;
    readonly services: readonly { readonly service: string; readonly from: string | null }[];
    readonly cleanup: readonly string[];
    readonly cleanupDone: boolean;
  };
  /** Why it rolled back or failed. */
  readonly outcome?: { readonly reason: string; readonly message: string };
  readonly conditions: readonly {
    readonly type: 'Progressing' | 'AnalysisPassing';
    readonly status: 'True' | 'False' | 'Unknown';
    readonly reason: string;
    readonly message: string;
    readonly lastTransitionTime: string;
  }[];
  readonly history: readonly {
    readonly at: string;
    readonly phase: Phase;
    readonly step: number;
    readonly weight: number;
    readonly reason: string;
    readonly message: string;
  }[];
}

export type ReleaseCommandName = ReleaseCommand;

export interface ReleasesResponse {
  readonly items: readonly ReleaseView[];
}

export interface ExplainRequest {
  /** Start at a gateway (`namespace/name`)… */
  readonly gateway?: string;
  readonly port?: number;
  /** …or at a workload's sidecar outbound (`namespace/name` of a Deployment), calling `to`. */
  readonly from?: string;
  readonly to?: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Where the proxy would choose at random, follow this lane, subset or service (else the largest share). */
  readonly branch?: string;
  /** `SERVICE=LANE` pairs: the request carries them as an override the mesh signed. */
  readonly override?: string;
}

export interface OverrideSignRequest {
  /** `SERVICE=LANE` pairs, comma-separated: `default/mockb=dev-bob, default/mockc=v2`. */
  readonly pairs: string;
  /** How long it stays valid, a Go duration (`30m`, `1h`); default 1h, at most 24h. */
  readonly ttl?: string;
}

export interface OverrideSignResponse {
  /** The header to send: `lanes-override`. */
  readonly header: string;
  /** Its signed value. */
  readonly value: string;
  /** The pairs as signed (canonical: `namespace/name`, sorted). */
  readonly pairs: string;
  /** ISO 8601: when it stops being followed. */
  readonly expires: string;
  /** The key it is signed with (the first 8 hex digits of its SHA-256). */
  readonly kid: string;
  /** Pairs that will not do what was probably meant (the lane lacks the service, is disabled). */
  readonly warnings: readonly string[];
}

export interface OverrideKeyResponse {
  /** The new key's id. */
  readonly kid: string;
}

export type { ExplainHop, ExplainResponse } from '../../core/explain/walk.ts';

/** One request, hop by hop: the access-log entries of one trace (or one hop without a trace id). */
export interface RecentRequest {
  /** The id its hops share; null for a hop that carried none. */
  readonly traceId: string | null;
  /** When its first hop arrived (ISO 8601). */
  readonly time: string;
  /** As the first hop saw it: what the client sent, and what it got. */
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly status: number;
  readonly durationUs: number;
  /** The lane tag at its first hop. */
  readonly tag: string | null;
  /** Every hop, in the order they were reached. */
  readonly hops: readonly AccessLogEntry[];
}

export interface RequestsResponse {
  readonly requests: readonly RecentRequest[];
}

export interface DashboardLoginResponse {
  /** Open it within a minute; it works once and then sets a session cookie. */
  readonly url: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}
