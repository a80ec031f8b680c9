/**
 * The local mesh in one process (SPEC §6): the applied resources, the compiler, the config store
 * every proxy follows, the gateway listeners, and the workloads with their sidecars. Every change
 * of resources or of instance readiness recompiles and publishes one new snapshot. What the API
 * shows of all that is built elsewhere (resource-views.ts, workload-views.ts, explain-apps.ts);
 * this class composes and serialises changes.
 */
import { resourceKey, resourceLabel } from '../../config/resource/resource.ts';
import { type OverrideKey, overrideKey } from '../../core/carriers/override.ts';
import { compile } from '../../core/compiler/compile.ts';
import { endpointsFor } from '../../core/compiler/endpoints.ts';
import { describeCondition, type ResourceStatus } from '../../core/compiler/status.ts';
import type { RoutingTable } from '../../core/compiler/table.ts';
import { explainWalk, type Start } from '../../core/explain/walk.ts';
import { ConfigStore } from '../../dataplane/config.ts';
import { AccessLog, fileSink } from '../../dataplane/telemetry/access-log.ts';
import type { MetricFamily } from '../../dataplane/telemetry/exposition.ts';
import { HopMetrics } from '../../dataplane/telemetry/metrics.ts';
import { releaseIssues } from '../release/references.ts';
import { Dashboard } from './dashboard/server.ts';
import { dashboardSource } from './dashboard-source.ts';
import { emptyLanes } from './empty-lanes.ts';
import { appOf, fromWorkload, gatewayStart } from './explain-apps.ts';
import { Gateways } from './gateways.ts';
import { lostRoutes } from './lost-routes.ts';
import { daemonFamilies, type MetricsServer, startMetricsServer } from './metrics.ts';
import { signOverrideRequest } from './overrides.ts';
import { promotionApplyCheck, promotionDeleteCheck } from './promotion-guard.ts';
import type {
  ApplyRequest,
  ApplyResponse,
  DeleteRequest,
  DeleteResponse,
  DeleteTarget,
  ExplainRequest,
  ExplainResponse,
  InstanceReadiness,
  OverrideKeyResponse,
  OverrideSignRequest,
  OverrideSignResponse,
  ReleaseCommandName,
  ReleaseView,
  ResourceQuery,
  ResourceView,
  StatusResponse,
} from './protocol.ts';
import { readinessOf } from './readiness.ts';
import { RecentRequests } from './recent-requests.ts';
import { ReleaseDriver } from './releases.ts';
import { RequestError } from './request-error.ts';
import { resourceViews } from './resource-views.ts';
import type { StateDir } from './state/state.ts';
import { ResourceStore } from './store.ts';
import {
  instancesOf,
  type WorkloadView,
  workloadSummary,
  workloadViews,
} from './workload-views.ts';
import { isDeployment } from './workloads/runnable.ts';
import { cleanupOrphans, Supervisor } from './workloads/supervisor.ts';
import { writeToolShims } from './workloads/tool-shims.ts';
import { type ReconcileResult, Workloads } from './workloads/workloads.ts';

/** access.log is rotated to access.log.1 at this size. */
const ACCESS_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** The key of the metrics listener's port in ports.json (gateway keys always contain `@`). */
const METRICS_PORT_KEY = 'metrics';

/** How long a replaced generation of a Deployment keeps serving while its successor starts. */
const SETTLE_MS = 60_000;
/** The longest one `ready()` call waits. */
const MAX_READY_WAIT_MS = 120_000;

export interface DaemonOptions {
  /** Where the daemon says what it does on its own (release transitions). */
  readonly log?: (line: string) => void;
  /**
   * The CLI that started the daemon (its main module): instances find it as `lanes` on their
   * PATH, beside the daemon's `node`. Undefined: they get the daemon's `node` only.
   */
  readonly cli?: string;
}

export class Daemon {
  readonly state: StateDir;
  readonly store: ResourceStore;
  readonly config = new ConfigStore();
  readonly accessLog: AccessLog;
  /** Every hop of every gateway and sidecar, counted (GET /metrics, release analysis). */
  readonly metrics = new HopMetrics();
  /** The access log's hops joined into requests, for `lanes requests` and the dashboard. */
  readonly requests = new RecentRequests();
  readonly gateways: Gateways;
  readonly supervisor: Supervisor;
  readonly workloads: Workloads;
  /** Runs every applied Release (steps, analysis, rollback, promotion), durably. */
  readonly releases: ReleaseDriver;
  /** The dashboard's pages and data, served on the API's listener under /dashboard/. */
  readonly dashboard: Dashboard;
  #statuses: readonly ResourceStatus[] = [];
  #table: RoutingTable | undefined;
  #mutations: Promise<unknown> = Promise.resolve();
  #publishQueued = false;
  #readyWaiters: (() => void)[] = [];
  #metricsServer: MetricsServer | undefined;
  /** The mesh's per-request override key, published to every proxy with each snapshot. */
  #overrideKeys: readonly OverrideKey[];

  private constructor(state: StateDir, options: DaemonOptions) {
    this.state = state;
    writeToolShims(state.binDir, { node: process.execPath, cli: options.cli });
    const guard = {
      releases: () => this.releases,
      resources: () => this.store.resources(),
      instances: () => this.workloads.endpointInstances(),
    };
    const promotionKept = promotionApplyCheck(guard);
    this.store = new ResourceStore(state, {
      apply: (applied, all, before) => [
        ...releaseIssues(applied, all, before, { active: (name) => this.releases.isActive(name) }),
        ...promotionKept(applied, all, before),
      ],
      delete: promotionDeleteCheck(guard),
    });
    this.#overrideKeys = [overrideKey(state.overrideSecret())];
    this.dashboard = new Dashboard(dashboardSource(this));
    // Every hop of every request is a line: cap it, so a mesh left running does not fill the disk.
    const accessLogFile = `${state.dir}/access.log`;
    this.requests.seed(accessLogFile);
    this.accessLog = new AccessLog(
      fileSink(accessLogFile, undefined, { maxBytes: ACCESS_LOG_MAX_BYTES }),
    );
    this.gateways = new Gateways(state, this.config, this.accessLog, [this.metrics, this.requests]);
    this.supervisor = new Supervisor({
      onChange: (s) => {
        this.workloads.onState(s);
        for (const w of this.#readyWaiters.splice(0)) w();
      },
      pidFile: state.pidFile,
    });
    this.workloads = new Workloads({
      supervisor: this.supervisor,
      source: this.config,
      logsDir: state.logsDir,
      compileCacheDir: state.compileCacheDir,
      binDir: state.binDir,
      dirOf: (r) => this.store.dirOf(r),
      accessLog: this.accessLog,
      hopObservers: [this.metrics, this.requests],
      changed: () => this.#schedulePublish(),
    });
    this.releases = new ReleaseDriver({
      state,
      metrics: this.metrics,
      resources: () => this.store.resources(),
      table: () => this.#table,
      compileWith: (releases) =>
        compile(
          this.store.resources(),
          endpointsFor(this.store.resources(), this.workloads.endpointInstances()),
          { releases },
        ).table,
      publish: () => this.#schedulePublish(),
      deleteWorkloads: (workloads) => this.#deleteWorkloads(workloads),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /**
   * Opens the state, cleans up after a crashed daemon, restores every resource and workload. A
   * workload that cannot start is reported in `problems`, not fatal: the rest of the mesh comes up.
   */
  static async start(
    state: StateDir,
    options: DaemonOptions = {},
  ): Promise<{
    daemon: Daemon;
    orphans: number;
    /** Instances restored: `ready(started, …)` waits for them. */
    started: readonly string[];
    problems: readonly string[];
  }> {
    const orphans = await cleanupOrphans(state.pidFile);
    const daemon = new Daemon(state, options);
    daemon.store.restore();
    const { started, problems } = await daemon.#reconcile(Date.now() + SETTLE_MS);
    daemon.releases.start();
    return { daemon, orphans, started, problems };
  }

  /** Runs mutations one at a time: two applies never interleave. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#mutations.then(work, work);
    this.#mutations = run.catch(() => {});
    return run;
  }

  /** Coalesces bursts (ten instances becoming ready) into one publish. */
  #schedulePublish(): void {
    if (this.#publishQueued) return;
    this.#publishQueued = true;
    queueMicrotask(() => {
      this.#publishQueued = false;
      this.#publish();
    });
  }

  #publish(): void {
    const resources = this.store.resources();
    const endpoints = endpointsFor(resources, this.workloads.endpointInstances());
    this.releases.sync(resources);
    const { table, statuses } = compile(resources, endpoints, {
      releases: this.releases.routing(resources),
    });
    this.#table = table;
    this.#statuses = statuses;
    this.config.publish(table, this.#overrideKeys);
  }

  /** Signs an override for `lanes override sign`, after checking its pairs against the table. */
  signOverride(req: OverrideSignRequest): OverrideSignResponse {
    return signOverrideRequest(this.#table, this.#overrideKeys[0]!, req, Date.now());
  }

  /** A new override key: every override signed so far stops being followed at once. */
  rotateOverrideKey(): OverrideKeyResponse {
    this.state.rotateOverrideSecret();
    this.#overrideKeys = [overrideKey(this.state.overrideSecret())];
    if (this.#table) this.config.publish(this.#table, this.#overrideKeys);
    return { kid: this.#overrideKeys[0]!.kid };
  }

  get table(): RoutingTable | undefined {
    return this.#table;
  }

  /** Every resource's conditions, as of the last compile. */
  get statuses(): readonly ResourceStatus[] {
    return this.#statuses;
  }

  apply(req: ApplyRequest): Promise<ApplyResponse> {
    return this.#serialize(async () => {
      const broken = this.#failingConditions();
      const { results, notes, applied } = this.store.apply(req.sources, req.cluster);
      const { started, problems } = await this.#reconcile(Date.now() + SETTLE_MS);
      return {
        results,
        started,
        issues: [...notes, ...emptyLanes(applied, this.store.resources())],
        notes: [...this.#newlyFailing(broken), ...problems.map((p) => `warning: ${p}`)],
      };
    });
  }

  delete(req: DeleteRequest): Promise<DeleteResponse> {
    return this.#serialize(async () => {
      const broken = this.#failingConditions();
      const routed = this.#table;
      const deleted = this.store.delete(req.sources, req.targets, req.cluster, req.force);
      const { problems } = await this.#reconcile(Date.now() + SETTLE_MS);
      return {
        results: deleted.map((resource) => ({ resource, action: 'deleted' as const })),
        notes: [
          ...this.#newlyFailing(broken),
          ...(this.#table ? lostRoutes(routed, this.#table) : []),
          ...problems.map((p) => `warning: ${p}`),
        ],
      };
    });
  }

  /** Compiles, then brings listeners and processes in line; a replaced generation settles by `deadline`. */
  async #reconcile(deadline: number): Promise<ReconcileResult> {
    const resources = this.store.resources();
    this.#publish();
    await this.gateways.reconcile(resources);
    const result = await this.workloads.reconcile(resources, deadline);
    this.#publish();
    return result;
  }

  /** `resource/condition` of every condition that is False now. */
  #failingConditions(): Set<string> {
    return new Set(
      this.#statuses.flatMap((s) =>
        s.conditions
          .filter((c) => c.status === 'False')
          .map((c) => `${resourceKey(s.id)}/${c.type}`),
      ),
    );
  }

  /**
   * What a change broke elsewhere: deleting a lane leaves a VirtualService pointing at a subset
   * that no longer exists. The change itself is valid, so it is a warning, not a rejection — but
   * the user hears about it now, not from a 503 later.
   */
  #newlyFailing(before: ReadonlySet<string>): string[] {
    const out: string[] = [];
    const byKey = new Map(this.store.resources().map((r) => [resourceKey(r.id), r]));
    for (const s of this.#statuses) {
      const resource = byKey.get(resourceKey(s.id));
      for (const c of s.conditions) {
        if (c.status !== 'False' || before.has(`${resourceKey(s.id)}/${c.type}`)) continue;
        const message = resource ? describeCondition(resource, c) : c.message;
        out.push(
          `warning: ${resourceLabel(s.id)} is now ${c.type}=False (${c.reason}): ${message}`,
        );
      }
    }
    return out;
  }

  /**
   * Waits until none of the instances a change started is still starting — each is ready, has
   * crashed, or is gone — or `timeoutMs` has passed, and says where each stands. Only those: an
   * unrelated workload that never listens must not slow every apply down.
   */
  async ready(keys: readonly string[], timeoutMs: number): Promise<InstanceReadiness[]> {
    const deadline = Date.now() + Math.max(0, Math.min(timeoutMs, MAX_READY_WAIT_MS));
    const wanted = new Set(keys);
    for (;;) {
      const now = Date.now();
      const found = this.workloads
        .instances()
        .filter((i) => wanted.has(i.key))
        .map((i) => readinessOf(i, this.workloads.state(i.key), now));
      if (found.every((r) => r.state !== 'starting') || now >= deadline) return found;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(200, deadline - now));
        this.#readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Everything GET /metrics serves. */
  metricFamilies(): MetricFamily[] {
    const memories = this.workloads
      .instances()
      .filter((i) => !i.leaving)
      .map((i) => ({
        workload: i.workload,
        cluster: i.cluster,
        instance: i.index,
        stats: i.sidecar.traceMemory.stats(),
      }));
    return [
      ...this.metrics.families(),
      ...daemonFamilies(memories, this.config.stats()),
      ...this.releases.families(),
    ];
  }

  /**
   * Serves /metrics on a loopback port, the same one as last time when it is free (ports.json),
   * so a scrape config written once keeps working across restarts.
   */
  async serveMetrics(): Promise<MetricsServer> {
    const ports = this.state.readPorts();
    const families = () => this.metricFamilies();
    let server: MetricsServer;
    try {
      server = await startMetricsServer(families, ports[METRICS_PORT_KEY] ?? 0);
    } catch {
      server = await startMetricsServer(families, 0);
    }
    if (ports[METRICS_PORT_KEY] !== server.port)
      this.state.writePorts({ ...ports, [METRICS_PORT_KEY]: server.port });
    this.#metricsServer = server;
    return server;
  }

  status(): StatusResponse {
    return {
      ...(this.#metricsServer ? { metrics: { url: this.#metricsServer.url } } : {}),
      gateways: this.gateways.views(),
      workloads: this.workloadViews().map(workloadSummary),
      lanes: Object.values(this.#table?.lanes ?? {}).map((l) => ({
        name: l.name,
        group: l.group.slice(l.group.indexOf('/') + 1),
        services: [...l.services],
        status: l.enabled ? 'enabled' : `disabled: ${l.disabledReason ?? 'disabled'}`,
      })),
    };
  }

  /** Every Deployment with its current instances (`lanes status`, the dashboard). */
  workloadViews(): WorkloadView[] {
    return workloadViews(this.store.resources().filter(isDeployment), this.workloads);
  }

  resources(query: ResourceQuery): ResourceView[] {
    return resourceViews(
      {
        resources: this.store.resources(),
        statuses: this.#statuses,
        table: this.#table,
        instancesOf: (r) => (isDeployment(r) ? instancesOf(r, this.workloads) : undefined),
        releaseOf: (r) =>
          r.kind === 'Release' && r.id.group === 'lanes.dev'
            ? this.releases.view(r.metadata.name)
            : undefined,
      },
      query,
    );
  }

  explain(req: ExplainRequest): ExplainResponse {
    const table = this.#table;
    if (!table) throw new RequestError(503, 'the daemon has no routing table yet');
    const headers = { ...req.headers };
    if (req.override !== undefined) {
      // As `lanes override sign` would, for just long enough to walk.
      const signed = this.signOverride({ pairs: req.override, ttl: '5m' });
      headers[signed.header] = signed.value;
    }
    const mesh = { instances: this.workloads.instances(), resources: this.store.resources() };
    let start: Start;
    if (req.gateway) start = gatewayStart(table, req.gateway, req.port);
    else if (req.from && req.to)
      start = { kind: 'outbound', workload: fromWorkload(mesh, req.from), to: req.to };
    else
      throw new RequestError(
        400,
        'explain needs --gateway NS/NAME, or --from WORKLOAD and --to SERVICE',
      );
    return explainWalk(table, {
      start,
      ...(req.method !== undefined ? { method: req.method } : {}),
      ...(req.path !== undefined ? { path: req.path } : {}),
      headers,
      appOf: (e) => appOf(mesh, e),
      ...(req.branch !== undefined ? { branch: req.branch } : {}),
      overrides: { keys: this.#overrideKeys, now: Date.now },
    });
  }

  /** The log file of a workload's instance. */
  logFile(workload: string, cluster: string | undefined, instance: number | undefined): string {
    const name = workload.includes('/') ? workload : `default/${workload}`;
    const candidates = this.workloads
      .instances()
      .filter((i) => i.workload === name && (cluster === undefined || i.cluster === cluster))
      // The current generation, not one replaced and still stopping.
      .sort((a, b) => Number(a.leaving) - Number(b.leaving));
    const chosen = candidates.find((i) => instance === undefined || i.index === instance);
    if (!chosen) {
      const what = `no instance of ${name}${instance === undefined ? '' : ` #${instance}`}${cluster ? ` in cluster ${cluster}` : ''}`;
      // The workload runs, only not that instance: name the instances it has, not every workload.
      if (candidates.length > 0) {
        const have = [
          ...new Set(candidates.map((i) => `#${i.index}${cluster ? '' : ` (${i.cluster})`}`)),
        ];
        throw new RequestError(
          404,
          `${what}; it has ${have.join(', ')}: give --instance one of those`,
        );
      }
      const known = this.store
        .resources()
        .filter(isDeployment)
        .map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
      throw new RequestError(404, `${what}; workloads: ${known.join(', ') || 'none'}`);
    }
    return chosen.logFile;
  }

  /** Every release, or the one named. */
  releaseViews(name?: string): ReleaseView[] {
    if (name === undefined) return this.releases.views();
    const view = this.releases.view(name);
    if (!view)
      throw new RequestError(
        404,
        `release ${name} not found; releases: ${this.releases.names().join(', ') || 'none'}`,
      );
    return [view];
  }

  /** approve, pause, resume, promote or abort; resolves once the new routing is published. */
  releaseCommand(name: string, command: ReleaseCommandName): Promise<ReleaseView> {
    return this.#serialize(async () => {
      const view = this.releases.command(name, command);
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      return view;
    });
  }

  /**
   * Deletes Deployments as `lanes delete deployment` does (each drains before it stops); those
   * already gone are skipped, so a cleanup asked for again after a restart does no harm.
   */
  async #deleteWorkloads(workloads: readonly string[]): Promise<void> {
    const wanted = new Set(workloads);
    const byCluster = new Map<string, Map<string, string[]>>();
    for (const d of this.store.resources().filter(isDeployment)) {
      if (!wanted.has(`${d.metadata.namespace}/${d.metadata.name}`)) continue;
      const namespaces = byCluster.get(d.id.cluster) ?? new Map<string, string[]>();
      namespaces.set(d.metadata.namespace, [
        ...(namespaces.get(d.metadata.namespace) ?? []),
        d.metadata.name,
      ]);
      byCluster.set(d.id.cluster, namespaces);
    }
    for (const [cluster, namespaces] of byCluster) {
      const targets: DeleteTarget[] = [...namespaces].map(([namespace, names]) => ({
        kind: 'Deployment',
        names,
        namespace,
      }));
      await this.delete({ cluster, targets });
    }
  }

  async shutdown(): Promise<void> {
    this.releases.stop();
    this.dashboard.close();
    await this.#mutations.catch(() => {});
    await this.workloads.stopAll();
    await this.gateways.closeAll();
    await this.#metricsServer?.close();
    await this.accessLog.close();
  }
}
