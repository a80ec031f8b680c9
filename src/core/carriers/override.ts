/**
 * The per-request override token (`lanes-override`): "for service S use lane L", for one request
 * and everything it causes, signed by the mesh.
 *
 *   default/mockb=dev-bob,default/mockc=v2;exp=1767225600;kid=3f2a9c1e;sig=<43 base64url>
 *
 * Pairs name a service (`namespace/name`, or any host form the mesh resolves, short names in
 * `default`) and a lane — never a host, an address or a port: the grammar has no room for them,
 * and the engine looks a lane up only among the lanes of the service's group. `exp` is Unix
 * seconds, `kid` the first 8 hex digits of SHA-256(key) (it tells "signed with another key" from
 * "tampered with"), `sig` the HMAC-SHA256 over the canonical pairs, `exp` and `kid`, base64url.
 * Canonical means sorted by service, no spaces, so a token re-spelt in transit still verifies.
 *
 * Everything here is computation on strings and bytes given by the caller: the key comes from
 * the proxy's snapshot, the time from its clock. Linkerd's unsigned `l5d-dtab` syntax is in
 * dtab.ts; what a hop does with either is in core/engine/override.ts.
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { parseServiceHost, serviceKey } from '../../config/resource/service-ref.ts';

/** lanes' own header, also the key of its W3C baggage entry. */
export const OVERRIDE_HEADER = 'lanes-override';
export const OVERRIDE_BAGGAGE_KEY = 'lanes-override';
/** Linkerd 1's per-request dtab headers: the user's, and the context one Linkerd forwards. */
export const LINKERD_DTAB_HEADER = 'l5d-dtab';
export const LINKERD_CTX_DTAB_HEADER = 'l5d-ctx-dtab';
/** On a gateway's response: whether the override the client sent was followed, and if not why. */
export const OVERRIDE_RESPONSE_HEADER = 'x-lanes-override';

/** More pairs than anyone debugging needs; keeps the token far below baggage's 8 KiB. */
export const MAX_OVERRIDE_PAIRS = 16;
export const MAX_OVERRIDE_LENGTH = 2048;
/** The longest life `lanes override sign` gives a token: it is a bearer credential. */
export const MAX_OVERRIDE_TTL_MS = 24 * 3600 * 1000;

export interface OverridePair {
  /** `namespace/name`. */
  readonly service: string;
  readonly lane: string;
}

export interface OverrideSignature {
  /** Unix seconds. */
  readonly exp: number;
  readonly kid: string;
  readonly sig: string;
}

export interface ParsedOverride {
  /** Sorted by service, each service once. */
  readonly pairs: readonly OverridePair[];
  readonly signature: OverrideSignature | undefined;
}

export type ParseResult =
  | { readonly ok: true; readonly override: ParsedOverride }
  | { readonly ok: false; readonly error: string };

export interface OverrideKey {
  readonly kid: string;
  /** Imported once: an HMAC from raw key bytes imports them again each time (~8× slower). */
  readonly secret: KeyObject;
}

/** A key with its id: the first 8 hex digits of its SHA-256, which reveals nothing of it. */
export function overrideKey(secret: Uint8Array): OverrideKey {
  if (secret.length < 16) throw new RangeError('an override key needs at least 16 bytes');
  return {
    kid: createHash('sha256').update(secret).digest('hex').slice(0, 8),
    secret: createSecretKey(secret),
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Lane names are Kubernetes object names (DNS-1123 subdomains). */
const LANE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const KID = /^[0-9a-f]{8}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;
const EXP = /^[0-9]{1,12}$/;

function trimOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** `name` → `default/name`; every host form the mesh resolves; undefined for anything else. */
export function overrideService(text: string): string | undefined {
  const ref = parseServiceHost(text, 'default');
  if (!ref || !DNS_LABEL.test(ref.namespace) || !DNS_LABEL.test(ref.name)) return undefined;
  return serviceKey(ref);
}

export function isLaneName(text: string): boolean {
  return LANE_NAME.test(text);
}

/**
 * Pairs as written by a person or a client: `svc=lane` separated by commas (spaces allowed).
 * Errors name the pair and say what is allowed.
 */
export function parseOverridePairs(text: string): { pairs: OverridePair[] } | { error: string } {
  const pairs: OverridePair[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const item = trimOws(raw);
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0 || item.indexOf('=', eq + 1) >= 0)
      return { error: `${JSON.stringify(item)} is not SERVICE=LANE` };
    const serviceText = trimOws(item.slice(0, eq));
    const lane = trimOws(item.slice(eq + 1));
    const service = overrideService(serviceText);
    if (service === undefined)
      return {
        error: `${JSON.stringify(serviceText)} is not a service name (namespace/name, or name in default); an override names services and lanes, never hosts, addresses or ports`,
      };
    if (!isLaneName(lane))
      return {
        error: `${JSON.stringify(lane)} is not a lane name (lower-case letters, digits, '-' and '.'); an override names lanes, never hosts, addresses or ports`,
      };
    if (seen.has(service)) return { error: `${service} is named twice` };
    seen.add(service);
    pairs.push({ service, lane });
  }
  if (pairs.length === 0) return { error: 'it names no SERVICE=LANE pair' };
  if (pairs.length > MAX_OVERRIDE_PAIRS)
    return { error: `it names ${pairs.length} services; at most ${MAX_OVERRIDE_PAIRS}` };
  pairs.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  return { pairs };
}

/** A `lanes-override` value: pairs, then `exp`, `kid` and `sig` all three or none. */
export function parseOverride(text: string): ParseResult {
  if (text.length > MAX_OVERRIDE_LENGTH)
    return { ok: false, error: `the value is over ${MAX_OVERRIDE_LENGTH} characters` };
  const parts = text.split(';');
  const parsed = parseOverridePairs(parts[0]!);
  if ('error' in parsed) return { ok: false, error: parsed.error };
  const params = new Map<string, string>();
  for (const raw of parts.slice(1)) {
    const item = trimOws(raw);
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (name !== 'exp' && name !== 'kid' && name !== 'sig')
      return {
        ok: false,
        error: `unknown parameter ${JSON.stringify(name)} (known: exp, kid, sig)`,
      };
    if (params.has(name)) return { ok: false, error: `${name} is given twice` };
    params.set(name, eq < 0 ? '' : item.slice(eq + 1));
  }
  if (params.size === 0)
    return { ok: true, override: { pairs: parsed.pairs, signature: undefined } };
  const exp = params.get('exp');
  const kid = params.get('kid');
  const sig = params.get('sig');
  if (exp === undefined || kid === undefined || sig === undefined)
    return { ok: false, error: 'a signed override needs exp, kid and sig' };
  if (!EXP.test(exp)) return { ok: false, error: 'exp must be Unix seconds' };
  if (!KID.test(kid)) return { ok: false, error: 'kid must be 8 lower-case hex digits' };
  if (!SIG.test(sig)) return { ok: false, error: 'sig must be 43 base64url characters' };
  return { ok: true, override: { pairs: parsed.pairs, signature: { exp: Number(exp), kid, sig } } };
}

/** `default/mockb=dev-bob,default/mockc=v2`: what is signed, logged and shown. */
export function pairsText(pairs: readonly OverridePair[]): string {
  let out = '';
  for (const p of pairs) out += `${out === '' ? '' : ','}${p.service}=${p.lane}`;
  return out;
}

/** A signed override written canonically (sorted pairs, no spaces): what hops pass on. */
export function serializeOverride(override: ParsedOverride): string {
  const s = override.signature;
  const text = pairsText(override.pairs);
  return s ? `${text};exp=${s.exp};kid=${s.kid};sig=${s.sig}` : text;
}

function mac(secret: KeyObject, pairs: string, exp: number, kid: string): string {
  return createHmac('sha256', secret)
    .update(`lanes-override v1\n${pairs}\n${exp}\n${kid}`)
    .digest('base64url');
}

/** The signed token for `pairs` (sorted, as parseOverridePairs returns them), valid until `exp`. */
export function signOverride(
  pairs: readonly OverridePair[],
  key: OverrideKey,
  exp: number,
): string {
  const text = pairsText(pairs);
  return `${text};exp=${exp};kid=${key.kid};sig=${mac(key.secret, text, exp, key.kid)}`;
}

export type Verdict =
  | { readonly ok: true; readonly exp: number; readonly kid: string }
  | {
      readonly ok: false;
      readonly reason: 'unsigned' | 'expired' | 'foreign-key' | 'bad-signature';
      readonly message: string;
    };

/** Whether a parsed override was signed by one of `keys` and is still valid at `nowMs`. */
export function verifyOverride(
  override: ParsedOverride,
  keys: readonly OverrideKey[],
  nowMs: number,
): Verdict {
  const s = override.signature;
  if (!s) return { ok: false, reason: 'unsigned', message: 'it is not signed by the mesh' };
  const key = keys.find((k) => k.kid === s.kid);
  if (!key)
    return {
      ok: false,
      reason: 'foreign-key',
      message: `it is signed with key ${s.kid}, which this mesh does not have`,
    };
  const expected = Buffer.from(mac(key.secret, pairsText(override.pairs), s.exp, s.kid));
  const given = Buffer.from(s.sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return {
      ok: false,
      reason: 'bad-signature',
      message: 'its signature does not match its content',
    };
  // Checked after the signature, so an unsigned client cannot learn anything from the wording.
  if (s.exp * 1000 <= nowMs)
    return {
      ok: false,
      reason: 'expired',
      message: `it expired at ${new Date(s.exp * 1000).toISOString()}`,
    };
  return { ok: true, exp: s.exp, kid: s.kid };
}
