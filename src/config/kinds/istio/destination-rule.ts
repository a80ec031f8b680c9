/**
 * Istio `DestinationRule` (networking.istio.io v1 / v1beta1 / v1alpha3): subsets and traffic
 * policies for one host (istio-semantics.md §1.7), with ValidateDestinationRule's checks.
 */
import { list, obj, required, type Schema, str, unsupported } from '../../schema/dsl.ts';
import { defineKind } from '../kind.ts';
import { checkExportToNamespace, exportToSchema, istioLabels } from './common.ts';
import { isDns1123Label, validateWildcardDomain } from './istio-names.ts';
import { trafficPolicySchema } from './traffic-policy.ts';
import type { DestinationRuleSpec, Subset } from './types.ts';

const subsetSchema: Schema<Subset> = obj({
  name: required(
    str().check((name, c) => {
      if (name === '') c.error('subset name cannot be empty');
      else if (!isDns1123Label(name)) c.error(`subset name is invalid: ${name}`);
    }),
  ),
  labels: istioLabels(),
  trafficPolicy: trafficPolicySchema,
}).map((s) => ({ name: s.name, labels: s.labels ?? {}, trafficPolicy: s.trafficPolicy }));

const spec: Schema<DestinationRuleSpec> = obj({
  host: required(
    str().check((host, c) => {
      const message = validateWildcardDomain(host);
      if (message) c.error(message);
    }),
  ),
  trafficPolicy: trafficPolicySchema,
  subsets: list(subsetSchema),
  exportTo: exportToSchema(),
  workloadSelector: unsupported(
    'DestinationRules for selected workloads only; a lanes DestinationRule applies to every caller',
  ),
})
  .check((dr, c) => {
    const seen = new Set<string>();
    dr.subsets?.forEach((s, i) => {
      if (seen.has(s.name)) c.error(`duplicate subset names: ${s.name}`, 'subsets', i, 'name');
      seen.add(s.name);
    });
  })
  .map((dr) => ({
    host: dr.host,
    trafficPolicy: dr.trafficPolicy,
    subsets: dr.subsets ?? [],
    exportTo: dr.exportTo,
  }));

export const destinationRuleKind = defineKind<DestinationRuleSpec>({
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  kind: 'DestinationRule',
  scope: 'Namespaced',
  placement: 'mesh',
  spec,
  specRequired: true,
  checkResource(metadata, dr, c) {
    checkExportToNamespace(dr.exportTo, metadata.namespace, c);
  },
});
