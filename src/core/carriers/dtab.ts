/**
 * The subset of Linkerd 1's dtab syntax (`l5d-dtab`, `l5d-ctx-dtab`) that means "for service S
 * use lane L", for migrating from Linkerd: `/svc/mockb => /lane/dev-bob; /svc/mockc => /lane/v2`.
 *
 * Linkerd's dtab is a general rewriting language: a request named `/svc/<host>` is rewritten by
 * prefix until it reaches a concrete destination, later entries winning. lanes keeps only the
 * rewrite whose destination is a lane — never a host, an address, another service or a namer —
 * so an accepted dtab can do nothing a signed `lanes-override` could not. Everything else is an
 * error that names the construct, because silently ignoring a rule a developer wrote is a
 * misroute they cannot see:
 *
 * - prefixes other than `/svc/NAME` with one segment (`/svc`, `/svc/*`, `/http/1.1/GET/web`,
 *   `/svc/web/v2`), and NAME with a port (`/svc/web:8080`);
 * - destinations other than `/lane/LANE`: `/srv/…`, `/svc/…` (one service to another),
 *   `/$/inet/HOST/PORT` and other `/$/` namers, `/#/…` namers;
 * - the NameTree operators: weights and unions (`0.9 * /lane/a & 0.1 * /lane/b`), alternates
 *   (`/lane/a | /lane/b`), and the special trees `~` (neg), `!` (fail), `$` (empty).
 *
 * Several entries for one service: the last wins, as in Linkerd ("later rules have higher
 * precedence"). `l5d-ctx-dtab` and `l5d-dtab` together read as ctx then user, as Linkerd's
 * ServerFilter concatenates them.
 */
import {
  isLaneName,
  MAX_OVERRIDE_LENGTH,
  MAX_OVERRIDE_PAIRS,
  type OverridePair,
  overrideService,
} from './override.ts';

export type DtabResult =
  | { readonly ok: true; readonly pairs: readonly OverridePair[] }
  | { readonly ok: false; readonly error: string };

function unsupportedTree(tree: string): string {
  if (tree.includes('|'))
    return 'alternates (|) are not supported: an override names exactly one lane';
  if (tree.includes('&') || /^\d*\.?\d+\s*\*/.test(tree))
    return 'weights and unions (N * … & …) are not supported: an override names exactly one lane';
  if (tree === '~' || tree === '!' || tree === '$')
    return `the special tree ${tree} (neg, fail, empty) is not supported`;
  if (tree.startsWith('/$/inet'))
    return `${tree} names an address, and an override never targets a host, an address or a port`;
  if (tree.startsWith('/$/')) return `Linkerd's special namers (${tree}) are not supported`;
  if (tree.startsWith('/#/')) return `namers (${tree}) are not supported`;
  if (tree.startsWith('/svc/'))
    return `${tree} sends one service to another, which an override never does; write /lane/LANE`;
  return `${tree} is not /lane/LANE, the only destination lanes supports`;
}

function entry(raw: string): OverridePair | string {
  const arrow = raw.indexOf('=>');
  if (arrow < 0) return `${JSON.stringify(raw)} is not PREFIX => DESTINATION`;
  const prefix = raw.slice(0, arrow).trim();
  const tree = raw.slice(arrow + 2).trim();
  const segments = prefix.split('/');
  if (segments[0] !== '' || segments[1] !== 'svc')
    return `the prefix ${prefix} is not supported: only /svc/NAME`;
  if (segments.length !== 3 || segments[2] === '')
    return `the prefix ${prefix} is not supported: only /svc/NAME with one segment`;
  const name = segments[2]!;
  if (name === '*') return 'wildcard prefixes (/svc/*) are not supported';
  if (name.includes(':'))
    return `the prefix ${prefix} has a port, which is not supported: an override chooses a lane for the whole service`;
  const service = overrideService(name);
  if (service === undefined) return `${name} in ${prefix} is not a service name`;
  const m = /^\/lane\/([^/\s]+)$/.exec(tree);
  if (!m) return unsupportedTree(tree);
  const lane = m[1]!;
  if (!isLaneName(lane)) return `${lane} in ${tree} is not a lane name`;
  return { service, lane };
}

/** The pairs a dtab says, or the first construct lanes does not support. */
export function parseDtab(text: string): DtabResult {
  if (text.length > MAX_OVERRIDE_LENGTH)
    return { ok: false, error: `l5d-dtab: the value is over ${MAX_OVERRIDE_LENGTH} characters` };
  const byService = new Map<string, string>();
  for (const raw of text.split(';')) {
    if (raw.trim() === '') continue;
    const e = entry(raw);
    if (typeof e === 'string') return { ok: false, error: `l5d-dtab: ${e}` };
    byService.delete(e.service); // the later entry wins, and takes the later place
    byService.set(e.service, e.lane);
  }
  if (byService.size === 0) return { ok: false, error: 'l5d-dtab: it has no entry' };
  if (byService.size > MAX_OVERRIDE_PAIRS)
    return {
      ok: false,
      error: `l5d-dtab: it names ${byService.size} services; at most ${MAX_OVERRIDE_PAIRS}`,
    };
  const pairs = [...byService].map(([service, lane]) => ({ service, lane }));
  pairs.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  return { ok: true, pairs };
}
