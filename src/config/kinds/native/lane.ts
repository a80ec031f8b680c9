/**
 * `Lane`: one isolated environment of a group — which instances belong to it (label selector),
 * which services it contains, where its requests fall back to, and the gateway rules that send
 * requests into it.
 */
import type { ServiceRef } from '../../resource/service-ref.ts';
import { bool, int, list, obj, required, str } from '../../schema/dsl.ts';
import { labelMap, portNumber } from '../common.ts';
import { headerName } from '../http-names.ts';
import { defineKind } from '../kind.ts';
import { type MatchExpr, matchExpr } from './match.ts';
import { type GatewayRef, gatewayRef, laneName, serviceRef } from './refs.ts';

/** Which share of matching requests a rule sends into the lane. */
export type EntrySplit =
  | { readonly kind: 'all' }
  /** A random `percent` of matching requests. */
  | { readonly kind: 'weight'; readonly percent: number }
  /** `hash(lane/key) % 100 < percent`: the same key always gets the same answer. */
  | {
      readonly kind: 'sticky';
      readonly percent: number;
      readonly key: { readonly header: string } | { readonly cookie: string };
    };

export interface EntryRule {
  readonly name: string;
  /** Gateways the rule applies to; empty means every ingress of the group. */
  readonly gateways: readonly GatewayRef[];
  readonly match: MatchExpr | undefined;
  readonly split: EntrySplit;
  readonly destination: { readonly host: string; readonly port?: number } | undefined;
}

export interface LaneSpec {
  readonly group: string;
  readonly enabled: boolean;
  readonly selector: Readonly<Record<string, string>>;
  /** Services deployed in this lane; undefined means every service of the group. */
  readonly services: readonly ServiceRef[] | undefined;
  /** Lanes tried, in order, before the services' baselines, when this lane lacks a service. */
  readonly fallback: readonly string[];
  readonly entry: readonly EntryRule[];
}

const percent = () => int({ min: 0, max: 100 });

const sticky = obj(
  { percent: required(percent()), header: headerName(), cookie: str({ minLength: 1 }) },
  { exactlyOneOf: ['header', 'cookie'] },
);

const entryRule = obj(
  {
    name: str({ minLength: 1 }),
    gateways: list(gatewayRef()),
    match: matchExpr,
    weight: percent(),
    sticky,
    destination: obj({ host: required(str({ minLength: 1 })), port: portNumber() }),
  },
  { atMostOneOf: ['weight', 'sticky'] },
);

const spec = obj({
  group: required(str({ minLength: 1 })),
  enabled: bool().doc({
    description: 'false: requests tagged with this lane use the baselines',
    default: true,
  }),
  selector: required(labelMap()),
  services: list(serviceRef()),
  fallback: list(laneName()),
  entry: list(entryRule),
})
  .check((f, c) => {
    if (Object.keys(f.selector).length === 0) {
      c.error(
        'Required value: a lane needs at least one label to select its instances',
        'selector',
      );
    }
    const names = new Set<string>();
    f.entry?.forEach((rule, i) => {
      const name = rule.name ?? `rule-${i}`;
      if (names.has(name)) c.error(`Duplicate value: ${JSON.stringify(name)}`, 'entry', i, 'name');
      names.add(name);
    });
  })
  .map(
    (f): LaneSpec => ({
      group: f.group,
      enabled: f.enabled ?? true,
      selector: f.selector,
      services: f.services,
      fallback: f.fallback ?? [],
      entry: (f.entry ?? []).map(
        (rule, i): EntryRule => ({
          name: rule.name ?? `rule-${i}`,
          gateways: rule.gateways ?? [],
          match: rule.match,
          split:
            rule.weight !== undefined
              ? { kind: 'weight', percent: rule.weight }
              : rule.sticky !== undefined
                ? {
                    kind: 'sticky',
                    percent: rule.sticky.percent,
                    key:
                      rule.sticky.header !== undefined
                        ? { header: rule.sticky.header }
                        : { cookie: rule.sticky.cookie ?? '' },
                  }
                : { kind: 'all' },
          destination:
            rule.destination === undefined
              ? undefined
              : rule.destination.port === undefined
                ? { host: rule.destination.host }
                : { host: rule.destination.host, port: rule.destination.port },
        }),
      ),
    }),
  );

export const laneKind = defineKind<LaneSpec>({
  group: 'lanes.dev',
  versions: ['v1alpha1'],
  kind: 'Lane',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: true,
});
