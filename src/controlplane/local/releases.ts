/**
 * The release driver of the local daemon: it runs each applied Release's state machine
 * (src/controlplane/release/machine.ts) once a second, turns its effects into work — publish a new
 * routing table, measure an analysis window from the daemon's own metrics, plan the promotion,
 * delete workloads — and writes every state to releases.json durably before acting on it, so a
 * daemon killed with `kill -9` resumes each release at its recorded step, with the pause time it
 * had already watched, after `lanes up`.
 *
 * Time is observed time: a tick adds the milliseconds since the previous tick of this process,
 * so the time a dead daemon was away counts for no pause (nobody watched the lane then), and a
 * window of counters that died with the process is started again.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ReleaseSpec } from '../../config/kinds/native/index.ts';
import type { Resource } from '../../config/resource/resource.ts';
import type { ReleaseRouting } from '../../core/compiler/compile.ts';
import type { RoutingTable } from '../../core/compiler/table.ts';
import type { MetricFamily } from '../../dataplane/telemetry/exposition.ts';
import { labelText } from '../../dataplane/telemetry/exposition.ts';
import type { HopMetrics } from '../../dataplane/telemetry/metrics.ts';
import {
  type AnalysisResult,
  analyze,
  measure,
  type Selection,
  type Traffic,
  windowOf,
} from '../release/analysis.ts';
import {
  ACTIVE_PHASES,
  advance,
  type Effect,
  initialState,
  PHASES,
  type Promotion,
  type ReleaseCommand,
  type ReleaseEvent,
  type ReleaseState,
} from '../release/machine.ts';
import {
  brokenReferences,
  laneTemplate,
  promotionPlan,
  releasesOf,
} from '../release/references.ts';
import type { ReleaseView } from './protocol.ts';
import { RequestError } from './request-error.ts';
import { RELEASES_FILE, type StateDir, StateError } from './state/state.ts';

const FORMAT = 'lanes-releases/1';
const TICK_MS = 1000;
/** A tick never counts for more than this (an event loop stalled by a huge apply, a suspend). */
const MAX_TICK_MS = 5000;

type Release = Resource<string, ReleaseSpec>;

export interface ReleaseDriverOptions {
  readonly state: StateDir;
  readonly metrics: HopMetrics;
  /** The applied resources now. */
  readonly resources: () => readonly Resource[];
  /** The table the proxies run now. */
  readonly table: () => RoutingTable | undefined;
  /** A table compiled with these release routings instead of the current ones (for the promotion plan). */
  readonly compileWith: (routing: readonly ReleaseRouting[]) => RoutingTable;
  /** Recompile and publish: the routing changed. */
  readonly publish: () => void;
  /** Deletes Deployments (`namespace/name`) as `lanes delete` would: they drain, then stop. */
  readonly deleteWorkloads: (workloads: readonly string[]) => Promise<void>;
  readonly tickMs?: number;
  /** Wall clock, for history stamps. */
  readonly now?: () => number;
  /** Monotonic ms, for observed time. */
  readonly monotonic?: () => number;
  readonly log?: (line: string) => void;
}

function generationOf(spec: ReleaseSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

function isState(value: unknown): value is ReleaseState {
  const v = value as Partial<ReleaseState> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.generation === 'string' &&
    typeof v.phase === 'string' &&
    typeof v.step === 'number' &&
    Array.isArray(v.history)
  );
}

export class ReleaseDriver {
  readonly #o: ReleaseDriverOptions;
  readonly #states = new Map<string, ReleaseState>();
  /** Per release, the counters when its current analysis window began (this process only). */
  readonly #readings = new Map<string, { gray: Traffic; baseline: Traffic }>();
  readonly #now: () => number;
  readonly #monotonic: () => number;
  #timer: NodeJS.Timeout | undefined;
  #lastTick: number | undefined;
  #deleting = new Set<string>();
  /** Releases this process has ticked at least once (recovery runs on the first tick). */
  readonly #seen = new Set<string>();

  constructor(o: ReleaseDriverOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#monotonic = o.monotonic ?? (() => performance.now());
    this.#load();
  }

  #load(): void {
    const data = this.#o.state.readReleases() as
      | { format?: unknown; releases?: Record<string, unknown> }
      | undefined;
    if (data === undefined) return;
    if (data.format !== FORMAT || typeof data.releases !== 'object' || data.releases === null)
      throw new StateError(
        `${join(this.#o.state.dir, RELEASES_FILE)} is not a lanes release file (format ${JSON.stringify(data.format) ?? 'missing'}, expected ${FORMAT} with a map of releases); lanes will not restart releases from nothing — fix it, or move it away to forget every release's progress`,
      );
    for (const [name, state] of Object.entries(data.releases)) {
      // The counters of the window in progress died with the process that counted them.
      if (isState(state)) this.#states.set(name, { ...state, windowElapsedMs: 0 });
    }
  }

  #persist(): void {
    this.#o.state.writeReleases({ format: FORMAT, releases: Object.fromEntries(this.#states) });
  }

  isActive(name: string): boolean {
    const s = this.#states.get(name);
    return s !== undefined && ACTIVE_PHASES.has(s.phase);
  }

  /**
   * Brings states in line with the applied Releases: a new one starts, a deleted one is
   * forgotten, a finished one whose spec changed starts again; a running one keeps its state.
   */
  sync(resources: readonly Resource[]): void {
    const releases = releasesOf(resources);
    let changed = false;
    const names = new Set(releases.map((r) => r.metadata.name));
    for (const name of [...this.#states.keys()]) {
      if (names.has(name)) continue;
      this.#states.delete(name);
      this.#readings.delete(name);
      changed = true;
    }
    for (const r of releases) {
      const generation = generationOf(r.spec);
      const s = this.#states.get(r.metadata.name);
      if (s === undefined || (s.generation !== generation && !ACTIVE_PHASES.has(s.phase))) {
        this.#states.set(r.metadata.name, initialState(r.spec, generation, this.#now()));
        this.#readings.delete(r.metadata.name);
        changed = true;
      } else if (s.generation !== generation) {
        // Steps or analysis edited under a running release: they apply from the next tick on.
        const step = Math.min(s.step, r.spec.steps.length - 1);
        this.#states.set(r.metadata.name, { ...s, generation, step });
        changed = true;
      }
    }
    if (changed) this.#persist();
  }

  /**
   * What the releases change in the routing, for compile(): of the applied resources, or of
   * those a change would leave (a finished release whose spec changed counts as started again,
   * as sync() will make it).
   */
  routing(resources: readonly Resource[]): ReleaseRouting[] {
    const out: ReleaseRouting[] = [];
    for (const r of releasesOf(resources).sort((a, b) =>
      a.metadata.name < b.metadata.name ? -1 : 1,
    )) {
      const s = this.#states.get(r.metadata.name);
      if (!s) continue;
      const generation = generationOf(r.spec);
      const restarts = s.generation !== generation && !ACTIVE_PHASES.has(s.phase);
      out.push(
        routingOf(r, restarts ? initialState(r.spec, generation, this.#now()) : s, resources),
      );
    }
    return out;
  }

  /**
   * The promotions in force that `after` (what the store would hold after a change) ends: a
   * promoted release deleted, or its spec changed (it starts again, not promoted).
   */
  promotionsEndedBy(after: readonly Resource[]): { release: Release; promotion: Promotion }[] {
    const out: { release: Release; promotion: Promotion }[] = [];
    const next = new Map(releasesOf(after).map((r) => [r.metadata.name, r]));
    for (const r of releasesOf(this.#o.resources())) {
      const s = this.#states.get(r.metadata.name);
      if (!s?.promotion || (s.phase !== 'Promoting' && s.phase !== 'Succeeded')) continue;
      const kept = next.get(r.metadata.name);
      // A running release keeps its state through an edit (sync); a finished one starts again.
      if (kept && (generationOf(kept.spec) === s.generation || ACTIVE_PHASES.has(s.phase)))
        continue;
      out.push({ release: r, promotion: s.promotion });
    }
    return out;
  }

  start(): void {
    if (this.#timer) return;
    this.#lastTick = this.#monotonic();
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs ?? TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One step of every release's clock (the timer calls it; tests may too). */
  tick(): void {
    const now = this.#monotonic();
    const dt = Math.min(MAX_TICK_MS, Math.max(0, now - (this.#lastTick ?? now)));
    this.#lastTick = now;
    const resources = this.#o.resources();
    let publish = false;
    let changed = false;
    for (const r of releasesOf(resources)) {
      const name = r.metadata.name;
      const first = this.#states.get(name);
      if (!first) continue;
      if (!this.#seen.has(name)) {
        this.#seen.add(name);
        if (this.#recover(r, first, resources)) {
          publish = true;
          changed = true;
        }
      }
      const s = this.#states.get(name) ?? first;
      if (!this.#readings.has(name) && ACTIVE_PHASES.has(s.phase)) this.#startWindow(r);
      const broken = ACTIVE_PHASES.has(s.phase) ? brokenReferences(r, resources) : undefined;
      const events: ReleaseEvent[] = broken
        ? [{ type: 'broken', message: broken, now: this.#now() }]
        : [{ type: 'tick', elapsedMs: dt, now: this.#now() }];
      const result = this.#run(r, s, events, resources);
      publish ||= result.publish;
      changed ||= result.state !== s;
    }
    if (changed) this.#persist();
    if (publish) this.#o.publish();
  }

  /** Runs events and the effects they cause, until nothing is left to do now. */
  #run(
    r: Release,
    start: ReleaseState,
    events: ReleaseEvent[],
    resources: readonly Resource[],
    refusal?: { message?: string },
  ): { state: ReleaseState; publish: boolean } {
    const name = r.metadata.name;
    let s = start;
    let publish = false;
    const queue = [...events];
    for (let guard = 0; queue.length > 0 && guard < 100; guard++) {
      const event = queue.shift()!;
      const before = s;
      const next = advance(s, r.spec, event);
      if (next.refused !== undefined && refusal) refusal.message = next.refused;
      s = next.state;
      this.#states.set(name, s);
      if (s.history.length > before.history.length) {
        const last = s.history.at(-1)!;
        this.#o.log?.(`release ${name}: ${last.phase} ${last.weight} %: ${last.message}`);
      }
      for (const effect of next.effects) {
        const follow = this.#effect(r, s, effect, resources);
        if (effect.kind === 'publish') publish = true;
        if (follow) queue.push(follow);
      }
      // A new window began (a step, a resume after a restart): count from here.
      if (
        s.windowElapsedMs === 0 &&
        before.windowElapsedMs !== 0 &&
        !next.effects.some((e) => e.kind === 'analyze')
      )
        this.#startWindow(r);
    }
    return { state: s, publish };
  }

  #effect(
    r: Release,
    s: ReleaseState,
    effect: Effect,
    resources: readonly Resource[],
  ): ReleaseEvent | undefined {
    switch (effect.kind) {
      case 'publish':
        return undefined;
      case 'analyze': {
        const spec = r.spec.analysis;
        if (!spec) return undefined;
        const sel = this.#selection(r);
        if (!sel) return undefined;
        const snapshot = this.#o.metrics.snapshot();
        const now = measure(snapshot, sel);
        const before = this.#readings.get(r.metadata.name);
        this.#readings.set(r.metadata.name, now);
        const result: AnalysisResult = analyze(
          spec,
          windowOf(before?.gray, now.gray),
          windowOf(before?.baseline, now.baseline),
          snapshot.buckets,
          { at: this.#now(), ms: effect.windowMs },
        );
        return { type: 'analysis', result };
      }
      case 'plan-promotion': {
        // The baselines as they were before this promotion: the table compiled without it.
        const others = this.routing(resources).map((x) =>
          x.resource.metadata.name === r.metadata.name ? { ...x, promoted: false } : x,
        );
        const plan = promotionPlan(r, this.#o.compileWith(others), resources);
        return { type: 'promotion-plan', ...plan, now: this.#now() };
      }
      case 'delete-workloads': {
        const name = r.metadata.name;
        if (this.#deleting.has(name)) return undefined;
        this.#deleting.add(name);
        const promoting = s.phase === 'Promoting';
        void this.#o
          .deleteWorkloads(effect.workloads)
          .catch((error: unknown) =>
            this.#o.log?.(
              `release ${name}: deleting ${effect.workloads.join(', ')} failed: ${(error as Error).message}`,
            ),
          )
          .finally(() => {
            this.#deleting.delete(name);
            if (!promoting) return;
            const current = this.#states.get(name);
            const release = releasesOf(this.#o.resources()).find((x) => x.metadata.name === name);
            if (!current || !release) return;
            this.#run(
              release,
              current,
              [{ type: 'cleaned-up', now: this.#now() }],
              this.#o.resources(),
            );
            this.#persist();
          });
        return undefined;
      }
    }
  }

  /**
   * A promotion a killed daemon left halfway: the plan was never recorded, or the cleanup was
   * asked for but never confirmed. Both are asked again (deleting what is gone is a no-op).
   */
  #recover(r: Release, s: ReleaseState, resources: readonly Resource[]): boolean {
    if (s.phase !== 'Promoting') return false;
    if (s.promotion === undefined) {
      const event = this.#effect(r, s, { kind: 'plan-promotion' }, resources);
      if (event) this.#run(r, s, [event], resources);
      return true;
    }
    if (s.promotion.cleanupStarted)
      this.#effect(r, s, { kind: 'delete-workloads', workloads: s.promotion.cleanup }, resources);
    return false;
  }

  #startWindow(r: Release): void {
    const sel = this.#selection(r);
    if (sel) this.#readings.set(r.metadata.name, measure(this.#o.metrics.snapshot(), sel));
  }

  /** The lane's services and their baselines, from the table the proxies run. */
  #selection(r: Release): Selection | undefined {
    const table = this.#o.table();
    const lane = table?.lanes[r.spec.lane];
    if (!table || !lane) return undefined;
    const baselines = new Map<string, string>();
    for (const service of lane.services) {
      const chain = table.services[service]?.lanes?.baselineChain ?? [];
      const base = chain.find((l) => l !== r.spec.lane);
      if (base !== undefined) baselines.set(service, base);
    }
    return { lane: r.spec.lane, services: new Set(lane.services), baselines };
  }

  /** A command from the CLI; resolves with the release's view once its routing is published. */
  command(name: string, command: ReleaseCommand): ReleaseView {
    const resources = this.#o.resources();
    const r = releasesOf(resources).find((x) => x.metadata.name === name);
    const s = this.#states.get(name);
    if (!r || !s)
      throw new RequestError(
        404,
        `release ${name} not found; releases: ${this.names().join(', ') || 'none'}`,
      );
    const refusal: { message?: string } = {};
    const { publish } = this.#run(
      r,
      s,
      [{ type: 'command', command, now: this.#now() }],
      resources,
      refusal,
    );
    if (refusal.message !== undefined)
      throw new RequestError(409, `release ${name}: ${refusal.message}`);
    this.#persist();
    if (publish) this.#o.publish();
    return this.view(name)!;
  }

  names(): string[] {
    return releasesOf(this.#o.resources())
      .map((r) => r.metadata.name)
      .sort();
  }

  view(name: string): ReleaseView | undefined {
    const r = releasesOf(this.#o.resources()).find((x) => x.metadata.name === name);
    const s = this.#states.get(name);
    if (!r || !s) return undefined;
    return viewOf(r, s);
  }

  views(): ReleaseView[] {
    return this.names().flatMap((n) => this.view(n) ?? []);
  }

  /** Gauges for /metrics, as Flagger exports flagger_canary_weight and _status. */
  families(): MetricFamily[] {
    const views = this.views();
    return [
      {
        type: 'gauge',
        name: 'lanes_release_weight',
        help: 'Percent of ingress requests a release sends into its lane now.',
        series: views.map((v) => ({
          labels: labelText({ release: v.name, lane: v.lane }),
          value: v.weight,
        })),
      },
      {
        type: 'gauge',
        name: 'lanes_release_phase',
        help: 'A release phase: 1 for the one it is in, 0 for the others.',
        series: views.flatMap((v) =>
          PHASES.map((p) => ({
            labels: labelText({ release: v.name, lane: v.lane, phase: p }),
            value: v.phase === p ? 1 : 0,
          })),
        ),
      },
      {
        type: 'gauge',
        name: 'lanes_release_failed_analyses',
        help: 'Failed analyses of a release so far (it rolls back at its failureLimit).',
        series: views.map((v) => ({
          labels: labelText({ release: v.name, lane: v.lane }),
          value: v.failures,
        })),
      },
    ];
  }
}

/** The routing a release's state asks for. */
export function routingOf(
  r: Release,
  s: ReleaseState,
  resources: readonly Resource[],
): ReleaseRouting {
  const template = laneTemplate(r, resources);
  const gateOpen = s.phase !== 'Promoting' && s.phase !== 'Succeeded';
  const stepping = s.phase === 'Progressing' || s.phase === 'Paused';
  return {
    resource: r,
    group: r.spec.group,
    lane: r.spec.lane,
    template: typeof template === 'string' ? undefined : template,
    weight: stepping ? s.weight : 0,
    verify: gateOpen ? r.spec.verify?.match : undefined,
    promoted: s.phase === 'Promoting' || s.phase === 'Succeeded',
  };
}

/** The AnalysisPassing condition for each verdict of the last window. */
const ANALYSIS_PASSING = {
  pass: { status: 'True', reason: 'Passed' },
  fail: { status: 'False', reason: 'Failed' },
  inconclusive: { status: 'Unknown', reason: 'Inconclusive' },
} as const satisfies Record<AnalysisResult['verdict'], { status: string; reason: string }>;

function viewOf(r: Release, s: ReleaseState): ReleaseView {
  const spec = r.spec;
  const step = spec.steps[s.step];
  const iso = (ms: number) => new Date(ms).toISOString();
  const last = s.history.at(-1);
  const finished = !ACTIVE_PHASES.has(s.phase);
  return {
    name: r.metadata.name,
    group: spec.group,
    lane: spec.lane,
    phase: s.phase,
    step: s.step + 1,
    steps: spec.steps.map((x) => ({ weight: x.weight, pauseMs: x.pauseMs })),
    weight: s.weight,
    stepElapsedMs: s.stepElapsedMs,
    stepPauseMs: step?.pauseMs ?? 0,
    ...(s.paused ? { pausedBy: s.paused.cause } : {}),
    failures: s.failures,
    ...(spec.analysis
      ? {
          analysis: {
            intervalMs: spec.analysis.intervalMs,
            minRequests: spec.analysis.minRequests,
            failureLimit: spec.analysis.failureLimit,
          },
        }
      : {}),
    ...(s.lastAnalysis ? { lastAnalysis: { ...s.lastAnalysis, at: iso(s.lastAnalysis.at) } } : {}),
    ...(s.promotion
      ? {
          promotion: {
            at: iso(s.promotion.at),
            services: s.promotion.services.map((x) => ({
              service: x.service,
              from: x.from ?? null,
            })),
            cleanup: [...s.promotion.cleanup],
            cleanupDone: s.phase === 'Succeeded',
          },
        }
      : {}),
    ...(s.outcome ? { outcome: s.outcome } : {}),
    conditions: [
      {
        type: 'Progressing',
        status: finished ? 'False' : 'True',
        reason: last?.reason ?? 'Started',
        message: last?.message ?? '',
        lastTransitionTime: iso(last?.at ?? 0),
      },
      {
        type: 'AnalysisPassing',
        ...(s.lastAnalysis === undefined
          ? { status: 'Unknown', reason: 'NotMeasured' }
          : ANALYSIS_PASSING[s.lastAnalysis.verdict]),
        message:
          s.lastAnalysis === undefined
            ? spec.analysis
              ? 'no analysis window has ended yet'
              : 'the release has no analysis'
            : `${s.lastAnalysis.requests} requests in the last window`,
        lastTransitionTime: iso(s.lastAnalysis?.at ?? last?.at ?? 0),
      },
    ],
    history: s.history.map((h) => ({ ...h, at: iso(h.at) })),
  };
}
