/**
 * Picks one endpoint among a decision's candidates, per Istio DestinationRule
 * `loadBalancer.simple` (Istio's default is LEAST_REQUEST: `defaultLBAlgorithm()` in
 * istio/istio pilot/pkg/networking/core/cluster_traffic_policy.go) and `loadBalancer.warmup`.
 *
 * - LEAST_REQUEST: Envoy's power of two choices. Two distinct random candidates, the one with
 *   fewer active requests wins, a tie goes to the first draw. (Envoy draws with replacement;
 *   distinct draws never waste the second choice on the first.)
 * - ROUND_ROBIN: a cursor per candidate list. Lists from the routing table are frozen and reused
 *   for every request, so the cursor lives in a WeakMap keyed by the list and goes away with the
 *   table. A list built per request (the engine filters out ejected endpoints) has no identity
 *   to key on, so those share one rotating counter instead.
 * - RANDOM: uniform.
 * - warmup (Envoy slow start, arch_overview/upstream/load_balancing/slow_start): an endpoint
 *   first seen less than `duration` ago has its weight scaled by
 *   `max(minimumPercent / 100, timeFactor ^ (1 / aggression))`, with
 *   `timeFactor = max(age, 1 s) / duration`. Envoy supports slow start for ROUND_ROBIN and
 *   LEAST_REQUEST only, so RANDOM ignores it. While some candidate warms up, LEAST_REQUEST draws
 *   with weight `slowStart / (active + 1)` (Envoy's weighted least request with the default
 *   active_request_bias 1.0) and ROUND_ROBIN runs a smooth weighted round robin (nginx's), which
 *   gives each endpoint its weight's share in a fixed order like Envoy's EDF scheduler.
 *
 * `exclude` holds the endpoints earlier attempts of the same request went to (Istio's retry
 * host predicate `previous_hosts`): they are avoided while any other candidate exists.
 *
 * Without exclude hits and with nobody warming up, a pick allocates nothing.
 */
import type { TableEndpoint, UpstreamPolicy } from '../../core/compiler/table.ts';

export interface Warmup {
  readonly durationMs: number;
  readonly minimumPercent: number;
  readonly aggression: number;
}

/** What this proxy knows about one endpoint at run time. */
export interface EndpointState {
  /** Requests sent to it that have not finished. */
  active: number;
  /** When this proxy first saw it (the start of its warmup). */
  readonly firstSeen: number;
  /** When a request last started on it. */
  lastUsed: number;
}

interface ListInfo {
  /** `EndpointStates` generation the rest was computed at. */
  gen: number;
  /** The latest `firstSeen` among the list's endpoints. */
  newest: number;
}

/** Per-endpoint runtime state of one proxy, by endpoint id. */
export class EndpointStates {
  readonly #byId = new Map<string, EndpointState>();
  /** Bumped whenever an endpoint is added or forgotten; invalidates `#lists`. */
  #gen = 0;
  readonly #lists = new WeakMap<readonly TableEndpoint[], ListInfo>();
  readonly #cursors = new WeakMap<readonly TableEndpoint[], number>();
  readonly #smooth = new WeakMap<readonly TableEndpoint[], Float64Array>();
  /** The cursor for lists that are not frozen (built per request). */
  sharedCursor = 0;
  readonly #now: () => number;

  /** `now`: the clock (ms) `begin` reads when not given a time; the same one `pick` is given. */
  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): EndpointState | undefined {
    return this.#byId.get(id);
  }

  /** Requests in flight to the endpoint (0 when unknown). */
  active(id: string): number {
    return this.#byId.get(id)?.active ?? 0;
  }

  /** The endpoint's state, created (first seen now) when this is the first time. */
  ensure(ep: TableEndpoint, now: number): EndpointState {
    let s = this.#byId.get(ep.id);
    if (s === undefined) {
      s = { active: 0, firstSeen: now, lastUsed: now };
      this.#byId.set(ep.id, s);
      this.#gen++;
    }
    return s;
  }

  /** A request starts on the endpoint. */
  begin(ep: TableEndpoint, now: number = this.#now()): void {
    const s = this.ensure(ep, now);
    s.active++;
    s.lastUsed = now;
  }

  /** A request on the endpoint finished (any outcome). Extra calls never go below zero. */
  end(ep: TableEndpoint): void {
    const s = this.#byId.get(ep.id);
    if (s !== undefined && s.active > 0) s.active--;
  }

  /**
   * Forgets endpoints whose id is not in `current` (the ids of the routing table now in use),
   * except those with requests in flight: their `end` is still to come. Returns how many.
   */
  forget(current: ReadonlySet<string>): number {
    let removed = 0;
    for (const [id, s] of this.#byId) {
      if (!current.has(id) && s.active === 0) {
        this.#byId.delete(id);
        removed++;
      }
    }
    if (removed > 0) this.#gen++;
    return removed;
  }

  /** The latest first-seen time among `list`, registering endpoints not seen before. */
  newestFirstSeen(list: readonly TableEndpoint[], now: number): number {
    const cached = this.#lists.get(list);
    if (cached !== undefined && cached.gen === this.#gen) return cached.newest;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < list.length; i++) {
      const seen = this.ensure(list[i]!, now).firstSeen;
      if (seen > newest) newest = seen;
    }
    // Only frozen lists come back; caching a per-request list would only cost memory.
    if (Object.isFrozen(list)) this.#lists.set(list, { gen: this.#gen, newest });
    return newest;
  }

  cursor(list: readonly TableEndpoint[]): number | undefined {
    return this.#cursors.get(list);
  }

  setCursor(list: readonly TableEndpoint[], cursor: number): void {
    this.#cursors.set(list, cursor);
  }

  /** The smooth weighted round robin's running weights for `list`. */
  smoothWeights(list: readonly TableEndpoint[]): Float64Array {
    let w = this.#smooth.get(list);
    if (w === undefined || w.length !== list.length) {
      w = new Float64Array(list.length);
      this.#smooth.set(list, w);
    }
    return w;
  }
}

/**
 * The share of its normal weight an endpoint gets `ageMs` after it was first seen (Envoy slow
 * start). 1 once the warmup window is over.
 */
export function slowStartFactor(ageMs: number, warmup: Warmup): number {
  if (!(ageMs < warmup.durationMs)) return 1;
  const timeFactor = Math.max(ageMs, 1000) / warmup.durationMs;
  const ramp = timeFactor ** (1 / warmup.aggression);
  return Math.min(1, Math.max(warmup.minimumPercent / 100, ramp));
}

/** An index in [0, n) from one draw; guards against a source that returns 1. */
function draw(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

/**
 * Picks an endpoint for one attempt of a request; undefined only when there are no candidates.
 * `now` is in the same clock as `EndpointStates.begin`.
 */
export function pick(
  candidates: readonly TableEndpoint[],
  policy: UpstreamPolicy,
  states: EndpointStates,
  random: () => number,
  now: number,
  exclude?: ReadonlySet<string>,
): TableEndpoint | undefined {
  if (candidates.length === 0) return undefined;
  let list = candidates;
  let excluded: ReadonlySet<string> | undefined;
  if (exclude !== undefined && exclude.size > 0 && candidates.length > 1) {
    const allowed = countAllowed(candidates, exclude);
    if (allowed > 0 && allowed < candidates.length) {
      // Round robin walks a table list itself and skips, so its cursor keeps its meaning.
      if (policy.loadBalancer === 'ROUND_ROBIN' && Object.isFrozen(candidates)) excluded = exclude;
      else list = candidates.filter((e) => !exclude.has(e.id));
    }
  }
  if (list.length === 1) return list[0];

  const warmup = policy.warmup;
  const warming =
    warmup !== undefined &&
    policy.loadBalancer !== 'RANDOM' &&
    now - states.newestFirstSeen(list, now) < warmup.durationMs;

  switch (policy.loadBalancer) {
    case 'RANDOM':
      return list[draw(random, list.length)];
    case 'ROUND_ROBIN':
      return warming
        ? smoothRoundRobin(list, warmup!, states, random, now, excluded)
        : roundRobin(list, states, random, excluded);
    default:
      return warming
        ? weightedLeastRequest(list, warmup!, states, random, now)
        : twoChoices(list, states, random);
  }
}

function countAllowed(list: readonly TableEndpoint[], exclude: ReadonlySet<string>): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) if (!exclude.has(list[i]!.id)) n++;
  return n;
}

function twoChoices(
  list: readonly TableEndpoint[],
  states: EndpointStates,
  random: () => number,
): TableEndpoint {
  const n = list.length;
  const i = draw(random, n);
  let j = draw(random, n - 1);
  if (j >= i) j++;
  const a = list[i]!;
  const b = list[j]!;
  return states.active(b.id) < states.active(a.id) ? b : a;
}

function roundRobin(
  list: readonly TableEndpoint[],
  states: EndpointStates,
  random: () => number,
  excluded: ReadonlySet<string> | undefined,
): TableEndpoint {
  const n = list.length;
  const frozen = Object.isFrozen(list);
  let cursor = frozen ? states.cursor(list) : states.sharedCursor;
  // A random start, so sidecars that start together do not all begin with the same endpoint.
  if (cursor === undefined) cursor = draw(random, n);
  let chosen = cursor % n;
  if (excluded !== undefined) {
    for (let k = 0; k < n; k++) {
      const at = (cursor + k) % n;
      if (!excluded.has(list[at]!.id)) {
        chosen = at;
        break;
      }
    }
  }
  const next = (chosen + 1) % n;
  if (frozen) states.setCursor(list, next);
  else states.sharedCursor = next;
  return list[chosen]!;
}

function weightedLeastRequest(
  list: readonly TableEndpoint[],
  warmup: Warmup,
  states: EndpointStates,
  random: () => number,
  now: number,
): TableEndpoint {
  // Two passes over the weights instead of an array of them: nothing to allocate.
  let total = 0;
  for (let i = 0; i < list.length; i++) total += leastRequestWeight(list[i]!, warmup, states, now);
  let target = random() * total;
  for (let i = 0; i < list.length; i++) {
    target -= leastRequestWeight(list[i]!, warmup, states, now);
    if (target < 0) return list[i]!;
  }
  return list[list.length - 1]!;
}

function leastRequestWeight(
  ep: TableEndpoint,
  warmup: Warmup,
  states: EndpointStates,
  now: number,
): number {
  const s = states.ensure(ep, now);
  return slowStartFactor(now - s.firstSeen, warmup) / (s.active + 1);
}

function smoothRoundRobin(
  list: readonly TableEndpoint[],
  warmup: Warmup,
  states: EndpointStates,
  random: () => number,
  now: number,
  excluded: ReadonlySet<string> | undefined,
): TableEndpoint {
  if (!Object.isFrozen(list)) {
    // No identity to keep running weights on: a weighted draw gives the same shares.
    let total = 0;
    for (let i = 0; i < list.length; i++) total += warmupWeight(list[i]!, warmup, states, now);
    let target = random() * total;
    for (let i = 0; i < list.length; i++) {
      target -= warmupWeight(list[i]!, warmup, states, now);
      if (target < 0) return list[i]!;
    }
    return list[list.length - 1]!;
  }
  // Every endpoint gains its weight; the one with most gained goes and pays back the total.
  const running = states.smoothWeights(list);
  let total = 0;
  let best = -1;
  for (let i = 0; i < list.length; i++) {
    const w = warmupWeight(list[i]!, warmup, states, now);
    total += w;
    running[i]! += w;
    if (excluded?.has(list[i]!.id)) continue;
    if (best < 0 || running[i]! > running[best]!) best = i;
  }
  running[best]! -= total;
  return list[best]!;
}

function warmupWeight(
  ep: TableEndpoint,
  warmup: Warmup,
  states: EndpointStates,
  now: number,
): number {
  return slowStartFactor(now - states.ensure(ep, now).firstSeen, warmup);
}
