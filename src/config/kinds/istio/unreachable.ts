/**
 * Istio's analyzeUnreachableHTTPRules (validation.go): warnings, not errors, for HTTP rules and
 * match blocks that can never be reached because an earlier rule takes every request they match.
 */
import type { CheckContext } from '../../schema/dsl.ts';
import type { HTTPMatchRequest, HTTPRoute, StringMatch } from './types.ts';

const q = (s: string): string => JSON.stringify(s);

function routeName(route: HTTPRoute, i: number): string {
  return route.name ? q(route.name) : `#${i}`;
}

function requestName(match: HTTPMatchRequest, j: number): string {
  return match.name ? q(match.name) : `#${j}`;
}

/** Istio compares match blocks by their JSON without `name`; keys sorted, unset fields left out. */
function matchKey(match: HTTPMatchRequest): string {
  const { name: _name, ...rest } = match;
  return stableJson(rest);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== false)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${q(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface PrefixMatch {
  readonly rule: string;
  readonly match: string;
  readonly prefix: string;
  readonly port: number;
  readonly method: string;
  readonly authority: string;
  readonly headers: Record<string, string>;
  readonly queryParams: Record<string, string>;
  readonly withoutHeaders: Record<string, string>;
}

function exactOrPrefix(m: StringMatch | undefined): string {
  if (m?.exact) return `exact:${m.exact}`;
  if (m?.prefix) return `prefix:${m.prefix}`;
  return '';
}

function mapOf(m: Readonly<Record<string, StringMatch>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = exactOrPrefix(v);
  return out;
}

/** genMatchHTTPRoutes: only blocks with a non-empty URI prefix take part. */
function prefixMatch(
  route: HTTPRoute,
  i: number,
  m: HTTPMatchRequest,
  j: number,
): PrefixMatch | undefined {
  const prefix = m.uri?.prefix;
  if (!prefix) return undefined;
  return {
    rule: routeName(route, i),
    match: requestName(m, j),
    prefix,
    port: m.port ?? 0,
    // A block without a method is compared as GET, as Istio does.
    method: exactOrPrefix(m.method) || 'exact:GET',
    authority: exactOrPrefix(m.authority),
    headers: mapOf(m.headers),
    queryParams: mapOf(m.queryParams),
    withoutHeaders: mapOf(m.withoutHeaders),
  };
}

function mapCovered(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const bv = b[k];
    return bv !== undefined && (a[k] === bv || (a[k] ?? '').startsWith(bv));
  });
}

/** coveredValidation: does the earlier prefix block `a` take every request of `b`? */
function covered(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix)) return false;
  if (a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return (
    mapCovered(a.headers, b.headers) &&
    mapCovered(a.queryParams, b.queryParams) &&
    mapCovered(a.withoutHeaders, b.withoutHeaders)
  );
}

/** Reports the warnings at `http[i]` / `http[i].match[j]` under `c`. */
export function warnUnreachableRules(routes: readonly HTTPRoute[], c: CheckContext): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  const prefixes: { readonly match: PrefixMatch; readonly rule: number; readonly block: number }[] =
    [];
  routes.forEach((route, i) => {
    const matches = route.match ?? [];
    const rule = routeName(route, i);
    if (matches.length === 0) {
      if (catchAll >= 0) {
        c.warn(
          `virtualService rule ${rule} not used (only the last rule can have no matches)`,
          'http',
          i,
        );
      }
      catchAll = i;
      return;
    }
    if (catchAll >= 0) {
      c.warn(
        `virtualService rule ${rule} not used (route without matches defined before)`,
        'http',
        i,
      );
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      const key = matchKey(m);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const dup = routes[earlier];
        c.warn(
          `virtualService rule ${rule} match ${requestName(m, j)} is not used (duplicate/overlapping match in rule ${dup ? routeName(dup, earlier) : `#${earlier}`})`,
          'http',
          i,
          'match',
          j,
        );
        duplicates++;
        return;
      }
      seen.set(key, i);
      const p = prefixMatch(route, i, m, j);
      if (p) prefixes.push({ match: p, rule: i, block: j });
    });
    if (duplicates === matches.length) {
      c.warn(`virtualService rule ${rule} not used (all matches used by prior rules)`, 'http', i);
    }
  });
  for (const [x, a] of prefixes.entries()) {
    for (const b of prefixes.slice(x + 1)) {
      if (b.match.prefix === a.match.prefix || !covered(a.match, b.match)) continue;
      c.warn(
        `virtualService rule ${b.match.rule} match ${b.match.match} of prefix ${b.match.prefix} is not used (duplicate/overlapping match in rule ${a.match.match} of prefix ${a.match.prefix} on ${a.match.rule})`,
        'http',
        b.rule,
        'match',
        b.block,
      );
    }
  }
}
