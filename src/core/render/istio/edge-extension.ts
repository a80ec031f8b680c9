/**
 * Edge hygiene that stock Istio cannot do with a VirtualService: removing the lane member of
 * `baggage` a client sent (header operations replace whole headers). Opt-in, rendered as an Envoy
 * Lua filter at each gateway that does not trust clients:
 * - Istio 1.30 and later: `TrafficExtension` (extensions.istio.io/v1alpha1), phase AUTHN, so it
 *   runs before authorization (a filter that changes headers after authz could bypass it);
 * - earlier Istio (and ASM): `EnvoyFilter` (networking.istio.io/v1alpha3), inserted first in the
 *   gateway's HTTP filter chain.
 * Envoy's Lua filter clears the route cache when it changes request headers, so the route is
 * chosen on the cleaned request. The filter also removes the route header and custom carrier
 * headers before routing (the VirtualService `remove`s apply only after routing).
 *
 * `applyEdgeHygiene` is the same algorithm in TypeScript: the equivalence suite runs it in front of
 * lanes' gateway, and a test runs the Lua source under a real Lua interpreter (when installed)
 * over the same inputs, so the two cannot drift apart.
 */
import type { IstioObject } from './objects.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from './ownership.ts';

export type EdgeExtensionApi = 'TrafficExtension' | 'EnvoyFilter';

export interface EdgeHygiene {
  /** Headers removed whole: route headers and custom carrier headers. */
  readonly headers: readonly string[];
  /** Keys of `baggage` members removed. */
  readonly baggageKeys: readonly string[];
}

function luaString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The Lua source of the filter. */
export function edgeHygieneLua(h: EdgeHygiene): string {
  return `-- lanes edge hygiene: a client must not choose its own lane.
local HEADERS = {${h.headers.map(luaString).join(', ')}}
local BAGGAGE_KEYS = {${h.baggageKeys.map((k) => `[${luaString(k)}] = true`).join(', ')}}

-- Keeps every baggage member whose key is not a lane key, trimmed, in order.
function lanes_strip_baggage(value)
  local kept = {}
  for member in string.gmatch(value, "[^,]+") do
    local trimmed = string.match(member, "^[ \\t]*(.-)[ \\t]*$")
    local key = string.match(trimmed, "^([^=; \\t]+)[ \\t]*=")
    if trimmed ~= "" and (key == nil or not BAGGAGE_KEYS[key]) then
      table.insert(kept, trimmed)
    end
  end
  return table.concat(kept, ",")
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  for _, name in ipairs(HEADERS) do
    headers:remove(name)
  end
  local baggage = headers:get("baggage")
  if baggage ~= nil then
    local rest = lanes_strip_baggage(baggage)
    if rest == "" then
      headers:remove("baggage")
    else
      headers:replace("baggage", rest)
    end
  end
end
`;
}

/** The Lua filter's effect on a request's headers (lower-case names, repeated values joined). */
export function applyEdgeHygiene(
  h: EdgeHygiene,
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (!h.headers.includes(k.toLowerCase())) out[k] = v;
  const name = Object.keys(out).find((k) => k.toLowerCase() === 'baggage');
  if (name !== undefined) {
    const rest = stripBaggage(out[name]!, h.baggageKeys);
    if (rest === '') delete out[name];
    else out[name] = rest;
  }
  return out;
}

export function stripBaggage(value: string, keys: readonly string[]): string {
  const kept: string[] = [];
  for (const member of value.split(',')) {
    if (member === '') continue;
    const trimmed = member.replace(/^[ \t]*/, '').replace(/[ \t]*$/, '');
    const key = /^([^=; \t]+)[ \t]*=/.exec(trimmed)?.[1];
    if (trimmed !== '' && (key === undefined || !keys.includes(key))) kept.push(trimmed);
  }
  return kept.join(',');
}

export interface GatewayWorkload {
  /** `namespace/name` of the Gateway. */
  readonly key: string;
  readonly selector: Readonly<Record<string, string>>;
}

function objectName(gateway: string): string {
  return `lanes-edge-hygiene-${gateway.replace('/', '-')}`.slice(0, 253);
}

export function edgeExtensionObject(
  api: EdgeExtensionApi,
  gateway: GatewayWorkload,
  hygiene: EdgeHygiene,
  istioNamespace: string,
): IstioObject {
  const metadata = {
    name: objectName(gateway.key),
    // Selector-based filters in Istio's root namespace apply to the gateway pods wherever they run.
    namespace: istioNamespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
  };
  const code = edgeHygieneLua(hygiene);
  if (api === 'TrafficExtension') {
    return {
      apiVersion: 'extensions.istio.io/v1alpha1',
      kind: 'TrafficExtension',
      metadata,
      spec: {
        selector: { matchLabels: { ...gateway.selector } },
        phase: 'AUTHN',
        priority: 1000,
        lua: { inlineCode: code },
      },
    };
  }
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata,
    spec: {
      workloadSelector: { labels: { ...gateway.selector } },
      configPatches: [
        {
          applyTo: 'HTTP_FILTER',
          match: {
            context: 'GATEWAY',
            listener: {
              filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } },
            },
          },
          patch: {
            operation: 'INSERT_FIRST',
            value: {
              name: 'lanes.edge_hygiene',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua',
                default_source_code: { inline_string: code },
              },
            },
          },
        },
      ],
    },
  };
}
