/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the
 * holder renews `renewTime` every `retryPeriod`; another candidate takes the Lease once it has not
 * been renewed for `leaseDuration`; every write carries the resourceVersion it read, so two
 * candidates cannot both win (the loser gets 409 Conflict). A leader that fails to renew within
 * `renewDeadline` stops leading before anyone else may start.
 */

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface Lease {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion?: string;
  };
  readonly spec: LeaseSpec;
}

/** The Lease API the elector needs (client-node in the cluster, the fake API server in tests). */
export interface LeaseApi {
  get(namespace: string, name: string): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  /** Fails (throws) when `lease.metadata.resourceVersion` is not the current one. */
  replace(lease: Lease): Promise<Lease>;
}

export interface ElectorOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly now?: () => number;
}

export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #o: ElectorOptions;
  readonly #now: () => number;
  #leading = false;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #listeners: ((leading: boolean) => void)[] = [];

  constructor(api: LeaseApi, options: ElectorOptions) {
    this.#api = api;
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get leading(): boolean {
    return this.#leading;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.#listeners.push(listener);
  }

  start(): void {
    this.#stopped = false;
    void this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#leading) {
      // Hand over at once: an expired renewTime lets the next candidate take it now.
      try {
        const lease = await this.#api.get(this.#o.namespace, this.#o.name);
        if (lease?.spec.holderIdentity === this.#o.identity)
          await this.#api.replace({
            ...lease,
            spec: { ...lease.spec, leaseDurationSeconds: 1, renewTime: new Date(0).toISOString() },
          });
      } catch {
        // The Lease expires by itself.
      }
      this.#set(false);
    }
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch {
      // Counted below: a leader that cannot renew within the deadline steps down.
    }
    if (this.#leading && this.#now() - this.#lastRenew > this.#o.renewDeadlineMs) this.#set(false);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#loop(), this.#o.retryPeriodMs);
    this.#timer.unref?.();
  }

  /** One round: take a free or expired Lease, or renew ours. Resolves with whether we lead. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#now();
    const stamp = new Date(now).toISOString();
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const current = await this.#api.get(this.#o.namespace, this.#o.name);
    if (!current) {
      await this.#api.create({
        metadata: { name: this.#o.name, namespace: this.#o.namespace },
        spec: {
          holderIdentity: this.#o.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: stamp,
          renewTime: stamp,
          leaseTransitions: 0,
        },
      });
      return this.#won(now);
    }
    const spec = current.spec;
    const mine = spec.holderIdentity === this.#o.identity;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? 0) * 1000 <= now;
    if (!mine && !expired && spec.holderIdentity) {
      this.#set(false);
      return false;
    }
    await this.#api.replace({
      metadata: current.metadata,
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine ? spec.acquireTime : stamp,
        renewTime: stamp,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    });
    return this.#won(now);
  }

  #won(now: number): boolean {
    this.#lastRenew = now;
    this.#set(true);
    return true;
  }

  #set(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    for (const l of this.#listeners) l(leading);
  }
}
