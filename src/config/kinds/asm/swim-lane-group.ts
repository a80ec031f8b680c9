/**
 * Alibaba ASM `ASMSwimLaneGroup` (istio.alibabacloud.com/v1), accepted verbatim. Field meanings:
 * reference/lane-systems.md §1.2–1.5. The compiler converts it into a native lane group.
 */
import { type ServiceRef, serviceKey } from '../../resource/service-ref.ts';
import {
  bool,
  ignored,
  list,
  obj,
  oneOf,
  record,
  required,
  str,
  unsupported,
} from '../../schema/dsl.ts';
import { dnsLabel } from '../common.ts';
import { headerName, laneHeaderName } from '../http-names.ts';
import { defineKind } from '../kind.ts';
import { laneName } from '../native/refs.ts';
import { type AsmRequestMatch, asmRequestMatch, clusterServiceRef } from './shared.ts';

/** ASM's default route header in strict mode (its console generates routes on it). */
export const ASM_DEFAULT_ROUTE_HEADER = 'x-asm-prefer-tag';

export interface AsmSwimLaneGroupSpec {
  readonly services: readonly ServiceRef[];
  readonly gateway: { readonly name: string; readonly namespace: string } | undefined;
  readonly ingressRouting:
    | { readonly strategy: 'rule_based' }
    | {
        readonly strategy: 'weighted';
        readonly hosts: readonly string[];
        readonly requestMatches: readonly AsmRequestMatch[];
      };
  readonly isPermissive: boolean;
  readonly routeHeader: string;
  readonly traceHeader: string | undefined;
  readonly fallbackTarget: string | undefined;
  /** `namespace/name` → lane. */
  readonly serviceLevelFallback: Readonly<Record<string, string>>;
}

const SERVICE_KEY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const fallbackMap = () =>
  record(
    laneName(),
    str({
      pattern: SERVICE_KEY,
      patternHint: 'keys are services written namespace/name, e.g. default/mocka',
    }),
  );

const permissiveModeConfiguration = obj({
  routeHeader: laneHeaderName(),
  traceHeader: headerName(),
  fallbackTarget: laneName(),
  serviceLevelFallbackTarget: fallbackMap(),
  // The published walkthrough (and so our reference story) spells the field without "Target".
  serviceLevelFallback: fallbackMap(),
}).check((f, c) => {
  if (f.serviceLevelFallback !== undefined && f.serviceLevelFallbackTarget !== undefined) {
    c.error(
      'Invalid value: serviceLevelFallback and serviceLevelFallbackTarget are two spellings of one field; keep one',
      'serviceLevelFallback',
    );
  }
  if (f.traceHeader !== undefined && f.routeHeader === undefined) {
    c.error('Required value: the header whose value names the lane on every hop', 'routeHeader');
  }
});

const ingress = obj({
  gateway: obj({
    name: required(dnsLabel('a gateway name')),
    namespace: dnsLabel('a namespace'),
    type: oneOf(['ASM', 'ingress']),
  }),
  ingressRouting: obj({
    ingressRoutingStrategy: oneOf(['rule_based', 'weighted']),
    weightedRoutingRule: obj({
      hosts: list(str({ minLength: 1 }), { min: 1 }),
      requestMatches: list(asmRequestMatch()),
    }),
  }),
});

const spec = obj({
  services: required(list(clusterServiceRef(), { min: 1 })),
  ingress,
  isPermissive: bool(),
  permissiveModeConfiguration,
  defaultTrafficPolicyPatch: unsupported(
    'lanes does not patch generated DestinationRules; write a DestinationRule',
  ),
  defaultHttpRoutePatch: unsupported(
    'lanes does not patch generated routes; write a VirtualService',
  ),
  autoUpdate: ignored('lanes recompiles on every change to services and endpoints, always'),
})
  .check((f, c) => {
    const pmc = f.permissiveModeConfiguration;
    if (f.isPermissive && pmc === undefined) {
      c.error(
        'Required value: permissiveModeConfiguration is required when isPermissive is true',
        'permissiveModeConfiguration',
      );
    }
    if (f.isPermissive && pmc !== undefined && pmc.routeHeader === undefined) {
      c.error(
        'Required value: the header whose value names the lane on every hop',
        'permissiveModeConfiguration',
        'routeHeader',
      );
    }
    const members = new Set(f.services.map(serviceKey));
    const seen = new Set<string>();
    f.services.forEach((s, i) => {
      const key = serviceKey(s);
      if (seen.has(key)) c.error(`Duplicate value: ${key}`, 'services', i);
      seen.add(key);
    });
    for (const field of ['serviceLevelFallback', 'serviceLevelFallbackTarget'] as const) {
      for (const key of Object.keys(pmc?.[field] ?? {})) {
        if (!members.has(key)) {
          c.error(
            `Invalid value: ${JSON.stringify(key)}: not a service of this group (services: ${[...members].join(', ')})`,
            'permissiveModeConfiguration',
            field,
            key,
          );
        }
      }
    }
    const routing = f.ingress?.ingressRouting;
    if (
      routing?.ingressRoutingStrategy === 'weighted' &&
      routing.weightedRoutingRule === undefined
    ) {
      c.error(
        'Required value: the weighted strategy needs weightedRoutingRule',
        'ingress',
        'ingressRouting',
        'weightedRoutingRule',
      );
    }
  })
  .map((f): AsmSwimLaneGroupSpec => {
    const pmc = f.permissiveModeConfiguration;
    const routing = f.ingress?.ingressRouting;
    const gw = f.ingress?.gateway;
    return {
      services: f.services,
      gateway: gw ? { name: gw.name, namespace: gw.namespace ?? 'istio-system' } : undefined,
      ingressRouting:
        routing?.ingressRoutingStrategy === 'weighted'
          ? {
              strategy: 'weighted',
              hosts: routing.weightedRoutingRule?.hosts ?? ['*'],
              requestMatches: routing.weightedRoutingRule?.requestMatches ?? [],
            }
          : { strategy: 'rule_based' },
      isPermissive: f.isPermissive ?? false,
      routeHeader: pmc?.routeHeader ?? ASM_DEFAULT_ROUTE_HEADER,
      traceHeader: pmc?.traceHeader,
      fallbackTarget: pmc?.fallbackTarget,
      serviceLevelFallback: pmc?.serviceLevelFallback ?? pmc?.serviceLevelFallbackTarget ?? {},
    };
  });

export const asmSwimLaneGroupKind = defineKind<AsmSwimLaneGroupSpec>({
  group: 'istio.alibabacloud.com',
  versions: ['v1'],
  kind: 'ASMSwimLaneGroup',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: true,
});
