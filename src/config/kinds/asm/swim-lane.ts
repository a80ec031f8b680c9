/**
 * Alibaba ASM `ASMSwimLane` (istio.alibabacloud.com/v1), accepted verbatim. A lane joins its group
 * through the metadata label `swimlane-group: <group>` (reference/lane-systems.md §1.1, §1.3).
 */
import type { ServiceRef } from '../../resource/service-ref.ts';
import { bool, int, list, obj, required, str } from '../../schema/dsl.ts';
import { labelMap } from '../common.ts';
import { defineKind } from '../kind.ts';
import {
  type AsmDestination,
  type AsmRequestMatch,
  asmDestination,
  asmRequestMatch,
  clusterServiceRef,
} from './shared.ts';

export const SWIMLANE_GROUP_LABEL = 'swimlane-group';

export interface AsmIngressRule {
  readonly name: string;
  readonly online: boolean;
  readonly hosts: readonly string[];
  readonly match: AsmRequestMatch | undefined;
  readonly destination: AsmDestination;
}

export interface AsmSwimLaneSpec {
  readonly labelSelector: Readonly<Record<string, string>>;
  /** Undefined means every service of the group (ASM strict mode). */
  readonly services: readonly ServiceRef[] | undefined;
  readonly ingressRules: readonly AsmIngressRule[];
  readonly ingressWeight:
    | { readonly destination: AsmDestination; readonly weight: number }
    | undefined;
}

const ingressRule = obj({
  name: str({ minLength: 1 }),
  online: bool(),
  hosts: list(str({ minLength: 1 }), { min: 1 }),
  match: asmRequestMatch(),
  route: required(obj({ destination: required(asmDestination()) })),
});

const spec = obj({
  labelSelector: required(labelMap()),
  services: list(clusterServiceRef()),
  ingressRules: list(ingressRule),
  ingressWeight: obj({
    destination: required(asmDestination()),
    weight: required(int({ min: 0, max: 100 })),
  }),
})
  .check((f, c) => {
    if (Object.keys(f.labelSelector).length === 0) {
      c.error(
        'Required value: a lane needs at least one label to select its pods',
        'labelSelector',
      );
    }
  })
  .map(
    (f): AsmSwimLaneSpec => ({
      labelSelector: f.labelSelector,
      services: f.services,
      ingressRules: (f.ingressRules ?? []).map((r, i) => ({
        name: r.name ?? `rule-${i}`,
        online: r.online ?? true,
        hosts: r.hosts ?? ['*'],
        match: r.match,
        destination: r.route.destination,
      })),
      ingressWeight: f.ingressWeight,
    }),
  );

export const asmSwimLaneKind = defineKind<AsmSwimLaneSpec>({
  group: 'istio.alibabacloud.com',
  versions: ['v1'],
  kind: 'ASMSwimLane',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: true,
  checkResource(metadata, _spec, c) {
    if (!metadata.labels[SWIMLANE_GROUP_LABEL]) {
      c.error(
        `Required value: an ASMSwimLane joins its group through the label ${SWIMLANE_GROUP_LABEL}: <group name>`,
        'metadata',
        'labels',
      );
    }
  },
});
