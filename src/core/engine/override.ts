/**
 * Per-request overrides at each hop: "for service S use lane L" for one request and everything it
 * causes (the Linkerd 1 dtab idea, made safe). The token format is core/carriers/override.ts;
 * here is what a gateway and a sidecar do with it.
 *
 * - It travels like the lane tag: its own header (`lanes-override`), a baggage entry of the same
 *   name when the mesh carries tags in baggage, and the sidecars' trace-id memory when the mesh
 *   carries tags by trace id — so apps that forward only `baggage` or `traceparent` carry it too.
 * - A hop follows it only if the mesh signed it (HMAC with the mesh's key) and it has not expired.
 *   A gateway whose clients are trusted (`lanes.dev/trust-client-lane`) also takes an unsigned
 *   one, or Linkerd's `l5d-dtab`, checks it against the table, and signs it itself, so the hops
 *   behind it can verify it like any other.
 * - Anything else is removed from the request and reported (the access log, explain's steps, and
 *   at a gateway the `x-lanes-override` response header), never followed.
 * - Checking costs nothing when the request carries no override: a few header lookups.
 *
 * The override never changes the tag: it wins over it only for the services it names
 * (destination.ts), and every other hop goes where the tag says.
 */
import { getBaggageValue } from '../carriers/baggage.ts';
import { parseDtab } from '../carriers/dtab.ts';
import {
  LINKERD_CTX_DTAB_HEADER,
  LINKERD_DTAB_HEADER,
  OVERRIDE_BAGGAGE_KEY,
  OVERRIDE_HEADER,
  OVERRIDE_RESPONSE_HEADER,
  type OverridePair,
  type ParsedOverride,
  pairsText,
  parseOverride,
  serializeOverride,
  signOverride,
  verifyOverride,
} from '../carriers/override.ts';
import type { RoutingTable } from '../compiler/table.ts';
import { traceIdOf, traceKey } from './tags.ts';
import type {
  Decision,
  HeaderOp,
  OverrideInfo,
  OverrideRejection,
  OverrideSource,
  OverrideTrust,
  RequestView,
  TraceMemoryReader,
  VerifiedOverride,
} from './types.ts';

/** How long an override a trusting gateway signs for its client stays valid downstream. */
export const GATEWAY_SIGNED_TTL_MS = 15 * 60 * 1000;

/** What one hop makes of the override a request carries. */
export interface HopOverride {
  /** Service key → lane, when the hop follows an override. */
  readonly lanes: ReadonlyMap<string, string> | undefined;
  readonly info: OverrideInfo | undefined;
  /** The signed value the request carries on (for the trace memory). */
  readonly token: string | undefined;
  /** A trusting gateway's client sent an override it cannot follow as written (400). */
  readonly invalid: string | undefined;
}

export const NO_OVERRIDE: HopOverride = {
  lanes: undefined,
  info: undefined,
  token: undefined,
  invalid: undefined,
};

type Checked =
  | {
      readonly kind: 'follow';
      readonly verified: VerifiedOverride;
      /** Signed by the mesh (before this hop), or by this gateway for its trusted client. */
      readonly signer: 'mesh' | 'gateway';
    }
  | { readonly kind: 'reject'; readonly reason: OverrideRejection; readonly message: string }
  | { readonly kind: 'invalid'; readonly message: string };

type SignedCheck = Extract<Checked, { kind: 'follow' | 'reject' }>;

function sourceLabel(source: OverrideSource): string {
  switch (source) {
    case 'header':
      return `header ${OVERRIDE_HEADER}`;
    case 'baggage':
      return `baggage entry ${OVERRIDE_BAGGAGE_KEY}`;
    case 'trace-memory':
      return 'the trace memory';
    case 'l5d-dtab':
      return `header ${LINKERD_DTAB_HEADER}`;
    case 'l5d-ctx-dtab':
      return `header ${LINKERD_CTX_DTAB_HEADER}`;
  }
}

function until(exp: number): string {
  return new Date(exp * 1000).toISOString();
}

/** Whether the mesh carries lane tags in baggage: then the override rides there too. */
function carriesBaggage(table: RoutingTable): boolean {
  for (const ctx of table.tagContexts) if (ctx.baggageKeys.length > 0) return true;
  return false;
}

/**
 * Problems with pairs a person wrote, against the current table: `errors` make them unusable
 * (a service the mesh does not have, one in no lane group, a lane of another group), `warnings`
 * say they will not do what was probably meant (the lane lacks the service, or is disabled).
 */
export function checkOverridePairs(
  table: RoutingTable,
  pairs: readonly OverridePair[],
): { readonly errors: string[]; readonly warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const p of pairs) {
    const svc = table.services[p.service];
    if (!svc) {
      errors.push(`${p.service} is not a service of the mesh`);
      continue;
    }
    const lanes = svc.lanes;
    if (!lanes) {
      errors.push(`${p.service} is in no lane group, so there is no lane to choose for it`);
      continue;
    }
    const lane = table.lanes[p.lane];
    if (!lane || lane.group !== lanes.group) {
      const own = Object.values(table.lanes)
        .filter((l) => l.group === lanes.group)
        .map((l) => l.name);
      errors.push(
        `${p.lane} is not a lane of ${p.service}'s group ${lanes.group} (its lanes: ${own.join(', ') || 'none'})`,
      );
      continue;
    }
    if (!lane.enabled)
      warnings.push(
        `lane ${p.lane} is disabled (${lane.disabledReason ?? 'disabled'}): ${p.service} goes to its baselines`,
      );
    else if (lanes.byLane[p.lane] === undefined)
      warnings.push(
        lanes.mode === 'strict'
          ? `lane ${p.lane} does not contain ${p.service}: requests fail with OVERRIDE_STRICT_MISS (strict group)`
          : `lane ${p.lane} does not contain ${p.service}: requests fall back to its baselines`,
      );
  }
  return { errors, warnings };
}

/** A signed token for pairs the hop has checked; the trust's first key signs. */
export function mintOverride(
  pairs: readonly OverridePair[],
  trust: OverrideTrust,
  ttlMs: number,
): { readonly token: string; readonly exp: number } | undefined {
  const key = trust.keys[0];
  if (!key) return undefined;
  const exp = Math.floor((trust.now() + ttlMs) / 1000);
  return { token: signOverride(pairs, key, exp), exp };
}

/** Bound of a proxy's memo of verified values; past it the memo starts over. */
const VERIFIED_MEMO_MAX = 1024;

function verifiedOf(
  pairs: readonly OverridePair[],
  token: string,
  exp: number,
  kid: string,
): VerifiedOverride {
  return {
    pairs: pairsText(pairs),
    lanes: new Map(pairs.map((p) => [p.service, p.lane])),
    token,
    exp,
    kid,
  };
}

/** A value this proxy verified before and still unexpired: no parse, no HMAC. */
function memoized(text: string, trust: OverrideTrust | undefined): SignedCheck | undefined {
  const hit = trust?.verified?.get(text);
  if (hit === undefined || hit.exp * 1000 <= trust!.now()) return undefined;
  return { kind: 'follow', verified: hit, signer: 'mesh' };
}

function checkSigned(
  text: string,
  parsed: ParsedOverride,
  trust: OverrideTrust | undefined,
): SignedCheck {
  if (!trust)
    return { kind: 'reject', reason: 'foreign-key', message: 'this proxy has no override key' };
  const v = verifyOverride(parsed, trust.keys, trust.now());
  if (!v.ok) return { kind: 'reject', reason: v.reason, message: v.message };
  const verified = verifiedOf(parsed.pairs, serializeOverride(parsed), v.exp, v.kid);
  const memo = trust.verified;
  if (memo) {
    if (memo.size >= VERIFIED_MEMO_MAX) memo.clear();
    memo.set(text, verified);
  }
  return { kind: 'follow', verified, signer: 'mesh' };
}

/** A trusting gateway's client: check the pairs against the table, then sign them. */
function signForClient(
  table: RoutingTable,
  pairs: readonly OverridePair[],
  trust: OverrideTrust | undefined,
  what: string,
): Checked {
  const { errors } = checkOverridePairs(table, pairs);
  if (errors.length > 0) return { kind: 'invalid', message: `${what}: ${errors.join('; ')}` };
  const key = trust?.keys[0];
  const minted = trust ? mintOverride(pairs, trust, GATEWAY_SIGNED_TTL_MS) : undefined;
  if (!minted || !key)
    return {
      kind: 'reject',
      reason: 'foreign-key',
      message: 'this gateway has no override key to sign it with',
    };
  return {
    kind: 'follow',
    verified: verifiedOf(pairs, minted.token, minted.exp, key.kid),
    signer: 'gateway',
  };
}

function checkToken(
  text: string,
  trusted: boolean,
  table: RoutingTable,
  trust: OverrideTrust | undefined,
): Checked {
  const known = memoized(text, trust);
  if (known) return known;
  const parsed = parseOverride(text);
  if (!parsed.ok)
    return trusted
      ? { kind: 'invalid', message: `${OVERRIDE_HEADER}: ${parsed.error}` }
      : { kind: 'reject', reason: 'malformed', message: `it is malformed: ${parsed.error}` };
  if (parsed.override.signature) return checkSigned(text, parsed.override, trust);
  if (!trusted)
    return { kind: 'reject', reason: 'unsigned', message: 'it is not signed by the mesh' };
  return signForClient(table, parsed.override.pairs, trust, OVERRIDE_HEADER);
}

function checkDtab(
  text: string,
  trusted: boolean,
  table: RoutingTable,
  trust: OverrideTrust | undefined,
): Checked {
  if (!trusted)
    return {
      kind: 'reject',
      reason: 'unsigned',
      message:
        'Linkerd dtab headers carry no signature; only a gateway that trusts its clients (lanes.dev/trust-client-lane) follows them',
    };
  const parsed = parseDtab(text);
  if (!parsed.ok) return { kind: 'invalid', message: parsed.error };
  return signForClient(table, parsed.pairs, trust, LINKERD_DTAB_HEADER);
}

function followed(
  c: Checked & { kind: 'follow' },
  source: OverrideSource,
  steps: string[] | undefined,
): HopOverride {
  const v = c.verified;
  steps?.push(
    `override ${v.pairs} from ${sourceLabel(source)} (${
      c.signer === 'mesh'
        ? `signed by the mesh with key ${v.kid}, valid until ${until(v.exp)}`
        : `unsigned, from a client this gateway trusts; signed by the gateway until ${until(v.exp)}`
    })`,
  );
  return {
    lanes: v.lanes,
    info: { status: 'followed', pairs: v.pairs, source, applied: false },
    token: v.token,
    invalid: undefined,
  };
}

function rejected(
  reason: OverrideRejection,
  message: string,
  source: OverrideSource,
  removed: boolean,
  steps: string[] | undefined,
): HopOverride {
  steps?.push(
    `override from ${sourceLabel(source)} ${removed ? 'removed and ' : ''}not followed: ${message}`,
  );
  return {
    lanes: undefined,
    info: { status: 'rejected', reason, message, source },
    token: undefined,
    invalid: undefined,
  };
}

/**
 * Ops that make the override's carriers hold `token`, given what the request carries now in its
 * header and its baggage entry (already read: no second scan of the baggage).
 */
function carryOps(
  table: RoutingTable,
  token: string,
  header: string | undefined,
  inBaggage: string | undefined,
  ops: HeaderOp[],
): void {
  if (header !== token) ops.push({ op: 'set', name: OVERRIDE_HEADER, value: token });
  if (carriesBaggage(table)) {
    if (inBaggage !== token)
      ops.push({ op: 'set-baggage', key: OVERRIDE_BAGGAGE_KEY, value: token });
  } else if (inBaggage !== undefined) {
    ops.push({ op: 'remove-baggage', keys: [OVERRIDE_BAGGAGE_KEY] });
  }
}

function removeOps(header: boolean, baggage: boolean, ops: HeaderOp[]): void {
  if (header) ops.push({ op: 'remove', name: OVERRIDE_HEADER });
  if (baggage) ops.push({ op: 'remove-baggage', keys: [OVERRIDE_BAGGAGE_KEY] });
}

/**
 * At a gateway: what the client sent, checked. Linkerd's headers are always removed (a followed
 * dtab goes on as `lanes-override`); an override not followed is removed from every carrier; a
 * followed one is written canonically into each. `req` is the request after edge hygiene.
 */
export function gatewayOverride(
  table: RoutingTable,
  req: RequestView,
  trusted: boolean,
  trust: OverrideTrust | undefined,
  ops: HeaderOp[],
  steps: string[] | undefined,
): HopOverride {
  const header = req.header(OVERRIDE_HEADER);
  const dtab = req.header(LINKERD_DTAB_HEADER);
  const ctxDtab = req.header(LINKERD_CTX_DTAB_HEADER);
  const baggage = req.header('baggage');
  const inBaggage =
    baggage === undefined ? undefined : getBaggageValue(baggage, OVERRIDE_BAGGAGE_KEY);
  if (
    header === undefined &&
    inBaggage === undefined &&
    dtab === undefined &&
    ctxDtab === undefined
  )
    return NO_OVERRIDE;
  if (dtab !== undefined) ops.push({ op: 'remove', name: LINKERD_DTAB_HEADER });
  if (ctxDtab !== undefined) ops.push({ op: 'remove', name: LINKERD_CTX_DTAB_HEADER });
  if ((dtab !== undefined || ctxDtab !== undefined) && (header ?? inBaggage) !== undefined)
    steps?.push(
      `Linkerd's dtab headers removed: the lanes-override the request carries comes first`,
    );
  // lanes' own header first, then its baggage entry, then Linkerd's (context, then user: later wins).
  let source: OverrideSource;
  let checked: Checked;
  if (header !== undefined || inBaggage !== undefined) {
    source = header !== undefined ? 'header' : 'baggage';
    checked = checkToken((header ?? inBaggage)!, trusted, table, trust);
  } else {
    source = dtab !== undefined ? 'l5d-dtab' : 'l5d-ctx-dtab';
    const text =
      ctxDtab !== undefined && dtab !== undefined ? `${ctxDtab};${dtab}` : (dtab ?? ctxDtab)!;
    checked = checkDtab(text, trusted, table, trust);
  }
  switch (checked.kind) {
    case 'follow': {
      const result = followed(checked, source, steps);
      carryOps(table, checked.verified.token, header, inBaggage, ops);
      return result;
    }
    case 'reject':
      removeOps(header !== undefined, inBaggage !== undefined, ops);
      return rejected(checked.reason, checked.message, source, true, steps);
    case 'invalid':
      steps?.push(`override from ${sourceLabel(source)} cannot be followed: ${checked.message}`);
      return {
        lanes: undefined,
        info: { status: 'rejected', reason: 'malformed', message: checked.message, source },
        token: undefined,
        invalid: checked.message,
      };
  }
}

/**
 * At a sidecar: the override from its header, else its baggage entry, else (outbound, when
 * `memory` is given) the trace memory; followed only when signed by the mesh and unexpired. On
 * the outbound side (`ops` given) a followed override is restored into every carrier and one
 * not followed is removed; the inbound side only reads (and remembers, see overrideMemory).
 */
export function sidecarOverride(
  table: RoutingTable,
  req: RequestView,
  memory: TraceMemoryReader | undefined,
  trust: OverrideTrust | undefined,
  ops: HeaderOp[] | undefined,
  steps: string[] | undefined,
): HopOverride {
  const header = req.header(OVERRIDE_HEADER);
  // Only gateways put it there, and only when the mesh carries tags in baggage.
  const baggage = carriesBaggage(table) ? req.header('baggage') : undefined;
  const inBaggage =
    baggage === undefined ? undefined : getBaggageValue(baggage, OVERRIDE_BAGGAGE_KEY);
  let remembered: string | undefined;
  if (header === undefined && inBaggage === undefined && memory !== undefined)
    remembered = fromMemory(table, req, memory);
  const dtab = req.header(LINKERD_DTAB_HEADER);
  const ctxDtab = req.header(LINKERD_CTX_DTAB_HEADER);
  const text = header ?? inBaggage ?? remembered;
  if (text === undefined && dtab === undefined && ctxDtab === undefined) return NO_OVERRIDE;
  if (ops) {
    if (dtab !== undefined) ops.push({ op: 'remove', name: LINKERD_DTAB_HEADER });
    if (ctxDtab !== undefined) ops.push({ op: 'remove', name: LINKERD_CTX_DTAB_HEADER });
  }
  if (text === undefined)
    return rejected(
      'unsigned',
      'Linkerd dtab headers are followed only at a gateway that trusts its clients',
      dtab !== undefined ? 'l5d-dtab' : 'l5d-ctx-dtab',
      ops !== undefined,
      steps,
    );
  const source: OverrideSource =
    header !== undefined ? 'header' : inBaggage !== undefined ? 'baggage' : 'trace-memory';
  const checked = memoized(text, trust) ?? checkSidecarText(text, trust);
  if (checked.kind === 'reject') {
    if (ops) removeOps(header !== undefined, inBaggage !== undefined, ops);
    return rejected(checked.reason, checked.message, source, ops !== undefined, steps);
  }
  const result = followed(checked, source, steps);
  if (ops) carryOps(table, checked.verified.token, header, inBaggage, ops);
  return result;
}

/** At a sidecar every client is a workload: only a value the mesh signed is followed. */
function checkSidecarText(text: string, trust: OverrideTrust | undefined): SignedCheck {
  const parsed = parseOverride(text);
  if (!parsed.ok)
    return { kind: 'reject', reason: 'malformed', message: `it is malformed: ${parsed.error}` };
  if (!parsed.override.signature)
    return { kind: 'reject', reason: 'unsigned', message: 'it is not signed by the mesh' };
  return checkSigned(text, parsed.override, trust);
}

function fromMemory(
  table: RoutingTable,
  req: RequestView,
  memory: TraceMemoryReader,
): string | undefined {
  for (const ctx of table.tagContexts) {
    for (const header of ctx.traceHeaders) {
      const id = traceIdOf(header, req);
      if (id === undefined) continue;
      const token = memory.get(traceKey(OVERRIDE_HEADER, id));
      if (token !== undefined) return token;
    }
  }
  return undefined;
}

/** What the decision reports: `applied` when the override chose the lane of this hop's service. */
export function overrideOutcome(o: HopOverride, applied: boolean): OverrideInfo | undefined {
  const info = o.info;
  if (info === undefined || !applied || info.status !== 'followed') return info;
  return { ...info, applied: true };
}

/**
 * At a gateway, the response tells the client what became of the override it sent (only the
 * verdict: the client's own text never goes back into a header).
 */
export function overrideResponseOp(info: OverrideInfo | undefined): HeaderOp | undefined {
  if (info === undefined) return undefined;
  const value = info.status === 'followed' ? `followed ${info.pairs}` : `rejected: ${info.reason}`;
  return { op: 'set', name: OVERRIDE_RESPONSE_HEADER, value };
}

/** A decision with what its hop did with the override, when there was one. */
export function withOverride<D extends Decision>(d: D, info: OverrideInfo | undefined): D {
  return info === undefined ? d : { ...d, override: info };
}

/**
 * Inbound: trace id → override entries to record, so the app's calls in the same trace get the
 * override back even when the app forwards only its trace header.
 */
export function overrideMemory(
  table: RoutingTable,
  req: RequestView,
  token: string,
  out: { traceKey: string; lane: string }[],
  steps: string[] | undefined,
): void {
  for (const ctx of table.tagContexts) {
    for (const header of ctx.traceHeaders) {
      const id = traceIdOf(header, req);
      if (id === undefined) continue;
      const key = traceKey(OVERRIDE_HEADER, id);
      if (out.some((e) => e.traceKey === key)) continue;
      out.push({ traceKey: key, lane: token });
      steps?.push(`remember trace ${id} (${header}) → the override`);
    }
  }
}
