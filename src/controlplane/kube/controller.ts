/**
 * `lanes controller`: the in-cluster control plane. Informers watch the lane and ASM kinds, Services,
 * Pods, Istio Gateways, VirtualServices, DestinationRules and lanes' own Lua filters; any change
 * marks the mesh dirty; the leader (one replica, through a Lease) reconciles through a
 * rate-limited coalescing queue: plan (pure, reconcile.ts), server-side apply what lanes owns,
 * write back users' objects it merged into, prune what it no longer wants, write status
 * subresources and Events for rejected resources. /healthz and /readyz on the health port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { atField } from '../../core/compiler/status.ts';
import type { EdgeExtensionApi } from '../../core/render/istio/edge-extension.ts';
import { LEASE_NAME } from './install.ts';
import type { CacheView, KubeApi, WatchedKind } from './kube-api.ts';
import { LeaderElector } from './leader.ts';
import type { KubeObj } from './objects.ts';
import { planReconcile } from './reconcile.ts';
import { newRejections, statusWrites } from './status.ts';
import { CoalescingQueue, type QueueClock } from './work-queue.ts';

const LANE_KINDS: readonly WatchedKind[] = [
  { apiVersion: 'lanes.dev/v1alpha1', kind: 'LaneGroup', plural: 'lanegroups' },
  { apiVersion: 'lanes.dev/v1alpha1', kind: 'Lane', plural: 'lanes' },
  { apiVersion: 'lanes.dev/v1alpha1', kind: 'Mesh', plural: 'meshes' },
];
/**
 * Watched so that a Release applied to a cluster gets a status saying that nothing here runs it
 * (Degraded, ReleaseNotRendered), rather than sitting there silently; only where its CRD is
 * installed (a cluster installed before it had one still runs the controller).
 */
const RELEASE_KIND: WatchedKind = {
  apiVersion: 'lanes.dev/v1alpha1',
  kind: 'Release',
  plural: 'releases',
};
const ASM_KINDS: readonly WatchedKind[] = [
  {
    apiVersion: 'istio.alibabacloud.com/v1',
    kind: 'ASMSwimLaneGroup',
    plural: 'asmswimlanegroups',
  },
  { apiVersion: 'istio.alibabacloud.com/v1', kind: 'ASMSwimLane', plural: 'asmswimlanes' },
];
const OWNED = 'app.kubernetes.io/managed-by=lanes';
const CLUSTER_KINDS: readonly WatchedKind[] = [
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', plural: 'gateways' },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', plural: 'virtualservices' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', plural: 'destinationrules' },
];
const EXTENSION_KINDS: Readonly<Record<EdgeExtensionApi, WatchedKind>> = {
  EnvoyFilter: {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    plural: 'envoyfilters',
    labelSelector: OWNED,
  },
  TrafficExtension: {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'TrafficExtension',
    plural: 'trafficextensions',
    labelSelector: OWNED,
  },
};

const PLURALS = new Map([...LANE_KINDS, RELEASE_KIND, ...ASM_KINDS].map((k) => [k.kind, k.plural]));

export interface ControllerOptions {
  /** The controller's namespace: its Lease, and Events about cluster-scoped resources. */
  readonly namespace: string;
  /** This replica's name in the Lease (the pod name). */
  readonly identity: string;
  readonly healthPort: number;
  readonly healthHost?: string;
  readonly edgeExtension?: EdgeExtensionApi;
  readonly istioNamespace?: string;
  /** At most one reconcile per interval (default 1 s). */
  readonly minIntervalMs?: number;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly clock?: QueueClock;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

export interface WriteCounts {
  apply: number;
  replace: number;
  prune: number;
  status: number;
  event: number;
}

export class Controller {
  readonly #api: KubeApi;
  readonly #o: ControllerOptions;
  readonly #caches: CacheView[] = [];
  readonly #queue: CoalescingQueue;
  readonly #elector: LeaderElector;
  readonly #now: () => Date;
  readonly #log: (line: string) => void;
  #server: http.Server | undefined;
  #synced = false;
  #problem = 'starting';
  readonly writes: WriteCounts = { apply: 0, replace: 0, prune: 0, status: 0, event: 0 };
  reconciles = 0;

  constructor(api: KubeApi, options: ControllerOptions) {
    this.#api = api;
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? (() => {});
    this.#queue = new CoalescingQueue(() => this.#reconcile(), {
      minInterval: options.minIntervalMs ?? 1000,
      minBackoff: 500,
      maxBackoff: 60_000,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.#elector = new LeaderElector(api.leases, {
      namespace: options.namespace,
      name: LEASE_NAME,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
    });
    this.#elector.onChange((leading) => {
      this.#log(leading ? `${options.identity} leads` : `${options.identity} stands by`);
      if (leading) this.#queue.mark();
    });
  }

  get leading(): boolean {
    return this.#elector.leading;
  }

  get queueStats() {
    return this.#queue.stats;
  }

  /** Resolves once no reconcile is pending or running. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  get healthAddress(): AddressInfo | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async start(): Promise<void> {
    this.#server = http.createServer((req, res) => {
      const ok = req.url === '/healthz' || (req.url === '/readyz' && this.#synced);
      res.writeHead(ok ? 200 : req.url === '/readyz' ? 503 : 404, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : req.url === '/readyz' ? `${this.#problem}\n` : 'not found\n');
    });
    await new Promise<void>((resolve) =>
      this.#server!.listen(this.#o.healthPort, this.#o.healthHost ?? '0.0.0.0', resolve),
    );
    const kinds = [...LANE_KINDS, ...CLUSTER_KINDS];
    if (await this.#api.hasCrd('asmswimlanegroups.istio.alibabacloud.com'))
      kinds.push(...ASM_KINDS);
    else
      this.#log(
        'ASM lane CRDs are not installed: ASMSwimLaneGroup and ASMSwimLane are not watched',
      );
    if (await this.#api.hasCrd('releases.lanes.dev')) kinds.push(RELEASE_KIND);
    else
      this.#log(
        'the Release CRD is not installed (lanes install adds it): Releases are not watched',
      );
    if (this.#o.edgeExtension) kinds.push(EXTENSION_KINDS[this.#o.edgeExtension]);
    for (const k of kinds) {
      const cache = this.#api.informer(
        k,
        () => this.#queue.mark(),
        (error) => this.#log(`watch ${k.kind}: ${(error as Error)?.message ?? String(error)}`),
      );
      this.#caches.push(cache);
    }
    await Promise.all(this.#caches.map((c) => c.start()));
    this.#synced = true;
    this.#problem = '';
    this.#elector.start();
  }

  async stop(): Promise<void> {
    this.#queue.stop();
    await this.#elector.stop();
    await Promise.all(this.#caches.map((c) => c.stop()));
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
    this.#server?.closeAllConnections();
  }

  async #reconcile(): Promise<void> {
    if (!this.#elector.leading) return;
    this.reconciles++;
    const objects: KubeObj[] = this.#caches.flatMap((c) => c.list());
    const plan = planReconcile(objects, {
      ...(this.#o.edgeExtension ? { edgeExtension: this.#o.edgeExtension } : {}),
      ...(this.#o.istioNamespace ? { istioNamespace: this.#o.istioNamespace } : {}),
    });
    const failures: string[] = [];
    const attempt = async (
      what: string,
      write: () => Promise<void>,
      counter: keyof WriteCounts,
    ) => {
      try {
        await write();
        this.writes[counter]++;
      } catch (error) {
        failures.push(`${what}: ${(error as Error).message}`);
      }
    };
    for (const o of plan.apply)
      await attempt(
        `apply ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
        () => this.#api.apply(o),
        'apply',
      );
    for (const o of plan.replace)
      await attempt(
        `update ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
        () => this.#api.replaceObject(o),
        'replace',
      );
    for (const r of plan.prune)
      await attempt(
        `delete ${r.kind} ${r.namespace}/${r.name}`,
        () => this.#api.remove(r),
        'prune',
      );
    for (const f of failures) this.#log(f);

    const now = this.#now();
    const programmed = { ok: failures.length === 0, message: failures.join('; ') };
    for (const w of statusWrites(plan, programmed, now.toISOString())) {
      await attempt(
        `status of ${w.ref.kind} ${w.ref.name}`,
        () =>
          this.#api.applyStatus(
            w.ref,
            PLURALS.get(w.ref.kind) ?? `${w.ref.kind.toLowerCase()}s`,
            w.status,
          ),
        'status',
      );
    }
    for (const r of newRejections(plan)) {
      const live = plan.laneObjects;
      const uid = [...live.values()].find(
        (o) => o.kind === r.ref.kind && o.metadata.name === r.ref.name,
      )?.metadata.uid;
      await attempt(
        `event for ${r.ref.kind} ${r.ref.name}`,
        () =>
          this.#api.event(
            r.ref.namespace || this.#o.namespace,
            r.ref,
            uid,
            'Warning',
            'Rejected',
            atField(r.fieldPath, r.message),
            now,
          ),
        'event',
      );
    }
    // A write that failed (a conflict with a user's concurrent change) is retried with backoff.
    if (failures.length > 0) throw new Error(failures.join('; '));
  }
}
