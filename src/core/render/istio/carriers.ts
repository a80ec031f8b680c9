/**
 * How a lane tag is read from the carriers of a group, as Istio match blocks: the route header,
 * then each custom header carrier, then the baggage entry — the first one present wins, as in
 * lanes' own proxies. For each lane, one route takes requests whose baggage already holds the
 * tag and one adds it (Istio cannot edit one baggage member, only add another), so the tag keeps
 * travelling with apps that forward only `baggage`. Each route restores every carrier.
 */
import type { GroupModel } from '../../compiler/lane-model.ts';
import type { IstioStringMatch, MatchBlock } from './match.ts';
import { baggageMemberRegex, re2Literal } from './regex.ts';

export interface HeaderOps {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

export interface TagCase {
  /** The lane the tag names; undefined for a tag that names no usable lane (baselines). */
  readonly lane: string | undefined;
  /** `strict`: the lane of the calling workload (strict groups need no propagation). */
  readonly kind: 'carried' | 'added' | 'unknown' | 'caller' | 'none';
  readonly blocks: readonly MatchBlock[];
  /** Carrier writes that restore the tag on the way out. */
  readonly ops: HeaderOps;
}

export interface GroupCarriers {
  readonly routeHeader: string;
  /** The route header, then the custom header carriers, in lookup order. */
  readonly headers: readonly string[];
  readonly baggageKeys: readonly string[];
}

export function groupCarriers(g: GroupModel): GroupCarriers {
  const headers = [g.routeHeader];
  const baggageKeys: string[] = [];
  for (const c of g.carriers) {
    if (c.type === 'header' && !headers.includes(c.name)) headers.push(c.name);
    if (c.type === 'baggage' && !baggageKeys.includes(c.key)) baggageKeys.push(c.key);
  }
  return { routeHeader: g.routeHeader, headers, baggageKeys };
}

/** Every carrier holds `lane`: what a route writes after it found or stamped the tag. */
export function stampOps(c: GroupCarriers, lane: string, baggage: 'add' | 'keep'): HeaderOps {
  const set: Record<string, string> = {};
  for (const h of c.headers) set[h] = lane;
  if (baggage === 'keep' || c.baggageKeys.length === 0) return { set };
  const add: Record<string, string> = {};
  add.baggage = c.baggageKeys.map((k) => `${k}=${lane}`).join(',');
  return { set, add };
}

function absent(names: readonly string[]): Record<string, IstioStringMatch> {
  const out: Record<string, IstioStringMatch> = {};
  for (const n of names) out[n] = {};
  return out;
}

function block(
  headers: Record<string, IstioStringMatch>,
  without: Record<string, IstioStringMatch>,
): MatchBlock {
  const b: MatchBlock = {};
  if (Object.keys(headers).length > 0) b.headers = headers;
  if (Object.keys(without).length > 0) b.withoutHeaders = without;
  return b;
}

/** A `baggage` header with any of `keys` as a member (whatever its value). */
function anyBaggageKey(keys: readonly string[]): string {
  const alt = keys.length === 1 ? re2Literal(keys[0]!) : `(${keys.map(re2Literal).join('|')})`;
  return `(.*,)?[ \\t]*${alt}[ \\t]*=.*`;
}

/**
 * The cases of a group, in route order: per lane (name order) the tag already in baggage, then
 * the tag only in a header; a header tag that names no usable lane; for strict groups the
 * caller's lane; finally no tag at all.
 */
export function tagCases(
  c: GroupCarriers,
  lanes: readonly string[],
  callers: readonly {
    readonly lane: string;
    readonly selector: Readonly<Record<string, string>>;
  }[],
): TagCase[] {
  const out: TagCase[] = [];
  const [firstKey, ...otherKeys] = c.baggageKeys;
  for (const lane of lanes) {
    const fromHeaders = c.headers.map((h, i) => ({ h, prior: c.headers.slice(0, i) }));
    if (firstKey === undefined) {
      out.push({
        lane,
        kind: 'carried',
        blocks: fromHeaders.map(({ h, prior }) => block({ [h]: { exact: lane } }, absent(prior))),
        ops: stampOps(c, lane, 'keep'),
      });
      continue;
    }
    const holds = { regex: baggageMemberRegex(firstKey, lane) };
    out.push({
      lane,
      kind: 'carried',
      blocks: [
        ...fromHeaders.map(({ h, prior }) =>
          block({ [h]: { exact: lane }, baggage: holds }, absent(prior)),
        ),
        block({ baggage: holds }, absent(c.headers)),
      ],
      ops:
        otherKeys.length === 0
          ? stampOps(c, lane, 'keep')
          : {
              ...stampOps(c, lane, 'keep'),
              add: { baggage: otherKeys.map((k) => `${k}=${lane}`).join(',') },
            },
    });
    out.push({
      lane,
      kind: 'added',
      blocks: [
        ...fromHeaders.map(({ h, prior }) => block({ [h]: { exact: lane } }, absent(prior))),
        ...otherKeys.map((k) =>
          block({ baggage: { regex: baggageMemberRegex(k, lane) } }, { ...absent(c.headers) }),
        ),
      ],
      ops: stampOps(c, lane, 'add'),
    });
  }
  out.push({
    lane: undefined,
    kind: 'unknown',
    blocks: c.headers.map((h, i) => block({ [h]: {} }, absent(c.headers.slice(0, i)))),
    ops: {},
  });
  const noBaggageTag: Record<string, IstioStringMatch> =
    c.baggageKeys.length === 0 ? {} : { baggage: { regex: anyBaggageKey(c.baggageKeys) } };
  for (const { lane, selector } of callers) {
    const b = block({}, { ...absent(c.headers), ...noBaggageTag });
    b.sourceLabels = { ...selector };
    out.push({ lane, kind: 'caller', blocks: [b], ops: stampOps(c, lane, 'add') });
  }
  out.push({ lane: undefined, kind: 'none', blocks: [{}], ops: {} });
  return out;
}
