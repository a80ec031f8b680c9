/**
 * `lanes override sign`: the daemon holds the mesh's override key (state directory, mode 0600) and
 * signs pairs a person asks for, after checking them against the current table — only services
 * and lanes the mesh knows, never hosts. The proxies get the key with each snapshot.
 *
 * On a cluster rendered to stock Istio nothing follows overrides (Envoy cannot check an HMAC).
 * With lanes' own proxies in pods, the key would be a Kubernetes Secret (`lanes-override-key` in
 * the control plane's namespace): `lanes override sign` signs with it where the user's RBAC allows
 * `get` on that one Secret (that permission is the right to sign), and the controller hands it to
 * the proxies with their config (README, "Per-request overrides").
 */
import { parseGoDurationNs } from '../../config/schema/duration.ts';
import {
  MAX_OVERRIDE_TTL_MS,
  OVERRIDE_HEADER,
  type OverrideKey,
  pairsText,
  parseOverridePairs,
} from '../../core/carriers/override.ts';
import type { RoutingTable } from '../../core/compiler/table.ts';
import { checkOverridePairs, mintOverride } from '../../core/engine/override.ts';
import type { OverrideSignRequest, OverrideSignResponse } from './protocol.ts';
import { RequestError } from './request-error.ts';

export const DEFAULT_OVERRIDE_TTL = '1h';

/** `ttl` as milliseconds, or a 400 that says what is allowed. */
export function overrideTtlMs(ttl: string): number {
  const ns = parseGoDurationNs(ttl);
  if (ns === undefined || ns <= 0n)
    throw new RequestError(
      400,
      `ttl ${JSON.stringify(ttl)} is not a positive duration such as 30m or 1h`,
    );
  const ms = Number(ns / 1_000_000n);
  if (ms > MAX_OVERRIDE_TTL_MS)
    throw new RequestError(
      400,
      `ttl ${ttl} is over 24h: an override is a bearer credential for debugging; sign a new one when it expires`,
    );
  if (ms < 1000)
    throw new RequestError(
      400,
      `ttl ${ttl} is under a second: a request could not use it in time; give at least 1s (default 1h)`,
    );
  return ms;
}

export function signOverrideRequest(
  table: RoutingTable | undefined,
  key: OverrideKey,
  req: OverrideSignRequest,
  nowMs: number,
): OverrideSignResponse {
  if (!table) throw new RequestError(503, 'the daemon has no routing table yet');
  const parsed = parseOverridePairs(req.pairs);
  if ('error' in parsed)
    throw new RequestError(400, `cannot sign ${JSON.stringify(req.pairs)}: ${parsed.error}`);
  const { errors, warnings } = checkOverridePairs(table, parsed.pairs);
  if (errors.length === 1)
    throw new RequestError(400, `cannot sign ${pairsText(parsed.pairs)}: ${errors[0]}`);
  if (errors.length > 1)
    throw new RequestError(
      400,
      `cannot sign ${pairsText(parsed.pairs)}: the mesh has no such services or lanes`,
      errors,
    );
  const ttlMs = overrideTtlMs(req.ttl ?? DEFAULT_OVERRIDE_TTL);
  const minted = mintOverride(parsed.pairs, { keys: [key], now: () => nowMs }, ttlMs)!;
  return {
    header: OVERRIDE_HEADER,
    value: minted.token,
    pairs: pairsText(parsed.pairs),
    expires: new Date(minted.exp * 1000).toISOString(),
    kid: key.kid,
    warnings,
  };
}
