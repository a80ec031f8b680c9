/**
 * `LaneGroup`: the services that take part in lanes, how the lane tag travels (route header and
 * carriers), the mode, the baselines, and the gateways where lanes are entered.
 */

import { assertNever } from '../../../util/assert-never.ts';
import { DEFAULT_NAMESPACE } from '../../resource/resource.ts';
import type { ServiceRef } from '../../resource/service-ref.ts';
import { byShape, list, obj, oneOf, required, str } from '../../schema/dsl.ts';
import { isValidBaggageKey, TRACE_ID_HEADERS } from '../carrier-names.ts';
import { dnsLabel, portNumber } from '../common.ts';
import { headerName, laneHeaderName } from '../http-names.ts';
import { defineKind } from '../kind.ts';
import { type GatewayRef, gatewayRef, laneName, serviceRef } from './refs.ts';

/** How the lane tag travels through applications, besides the route header itself. */
export type Carrier =
  | { readonly type: 'header'; readonly name: string }
  | { readonly type: 'baggage'; readonly key: string }
  | { readonly type: 'traceId'; readonly header: string };

export interface GroupService {
  readonly ref: ServiceRef;
  /** This service's ordered baselines, tried after the lane's own fallback chain. */
  readonly fallback: readonly string[];
}

export interface LaneIngress {
  readonly gateway: GatewayRef;
  readonly hosts: readonly string[];
  readonly destination: { readonly host: string; readonly port?: number };
}

export interface LaneGroupSpec {
  readonly mode: 'permissive' | 'strict';
  readonly routeHeader: string;
  readonly carriers: readonly Carrier[];
  readonly baseline?: string;
  readonly services: readonly GroupService[];
  readonly ingress: readonly LaneIngress[];
}

const carrier = obj({
  type: required(oneOf(['header', 'baggage', 'traceId'])),
  name: laneHeaderName(),
  // The same test the proxy applies when it writes the key into baggage.
  key: str().check((key, c) => {
    if (!isValidBaggageKey(key))
      c.error(`Invalid value: ${JSON.stringify(key)}: a baggage key must be an RFC 9110 token`);
  }),
  header: headerName(),
}).check((f, c) => {
  const allowed = { header: ['name'], baggage: ['key'], traceId: ['header'] }[f.type];
  for (const field of ['name', 'key', 'header'] as const) {
    if (f[field] !== undefined && !allowed.includes(field)) {
      c.error(
        `${field} does not apply to a carrier of type ${f.type} (it takes ${allowed.join(', ')})`,
        field,
      );
    }
  }
  if (f.type === 'header' && f.name === undefined) c.error('Required value', 'name');
  if (f.type === 'traceId' && f.header === undefined) {
    c.error(
      `Required value: the header holding the trace id: ${TRACE_ID_HEADERS.join(', ')} or a custom header`,
      'header',
    );
  }
});

const groupService = byShape<GroupService>({
  scalar: serviceRef().map((ref) => ({ ref, fallback: [] })),
  // The same name and namespace rules as any service reference, plus the service's fallback.
  map: obj({
    name: required(dnsLabel('a service name')),
    namespace: dnsLabel('a namespace'),
    fallback: list(laneName()),
  }).map((f) => ({
    ref: { namespace: f.namespace ?? DEFAULT_NAMESPACE, name: f.name },
    fallback: f.fallback ?? [],
  })),
});

const ingress = obj({
  gateway: required(gatewayRef()),
  hosts: list(str({ minLength: 1 }), { min: 1 }),
  destination: required(obj({ host: required(str({ minLength: 1 })), port: portNumber() })),
}).map(
  (f): LaneIngress => ({
    gateway: f.gateway,
    hosts: f.hosts ?? ['*'],
    destination:
      f.destination.port === undefined
        ? { host: f.destination.host }
        : { host: f.destination.host, port: f.destination.port },
  }),
);

const spec = obj({
  mode: oneOf(['permissive', 'strict']).doc({
    description: 'permissive: a lane without a service falls back along its chain; strict: never',
    default: 'permissive',
  }),
  routeHeader: required(
    laneHeaderName().doc({ description: 'the header whose value is the lane tag on every hop' }),
  ),
  carriers: list(carrier),
  baseline: laneName(),
  services: required(list(groupService, { min: 1 })),
  ingress: list(ingress),
})
  .check((f, c) => {
    const seen = new Map<string, number>();
    f.services.forEach((s, i) => {
      const key = `${s.ref.namespace}/${s.ref.name}`;
      const first = seen.get(key);
      if (first !== undefined)
        c.error(`Duplicate value: ${key} is already listed at services[${first}]`, 'services', i);
      else seen.set(key, i);
    });
    f.carriers?.forEach((carrier, i) => {
      if (carrier.type === 'header' && carrier.name === f.routeHeader) {
        c.error(
          `Invalid value: ${JSON.stringify(carrier.name)}: the route header always carries the tag; list other headers here`,
          'carriers',
          i,
          'name',
        );
      }
    });
  })
  .map(
    (f): LaneGroupSpec => ({
      mode: f.mode ?? 'permissive',
      routeHeader: f.routeHeader,
      carriers: (f.carriers ?? []).map((c): Carrier => {
        switch (c.type) {
          case 'header':
            return { type: 'header', name: c.name ?? '' };
          case 'baggage':
            return { type: 'baggage', key: c.key ?? f.routeHeader };
          case 'traceId':
            return { type: 'traceId', header: c.header ?? 'traceparent' };
          default:
            return assertNever(c.type);
        }
      }),
      ...(f.baseline === undefined ? {} : { baseline: f.baseline }),
      services: f.services,
      ingress: f.ingress ?? [],
    }),
  );

export const laneGroupKind = defineKind<LaneGroupSpec>({
  group: 'lanes.dev',
  versions: ['v1alpha1'],
  kind: 'LaneGroup',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: true,
});
