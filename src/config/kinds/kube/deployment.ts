/**
 * Kubernetes `apps/v1 Deployment`. Local mode runs `replicas` instances of the pod template's
 * containers as local processes (SPEC §6); rollout settings have no meaning there and are reported
 * as ignored. Reproduces the API server's Deployment validation that matters before anything runs:
 * a non-empty selector that selects the template's labels.
 */
import { bool, ignored, int, intOrString, obj, oneOf, required } from '../../schema/dsl.ts';
import { defineKind } from '../kind.ts';
import {
  goMap,
  type LabelSelector,
  labelSelector,
  type PodTemplate,
  podTemplate,
  selectorIsEmpty,
  selectorMatches,
} from './pod.ts';

export interface DeploymentSpec {
  /** How many instances to run; Kubernetes' default is 1. */
  readonly replicas: number;
  readonly selector: LabelSelector;
  readonly template: PodTemplate;
}

export const DEFAULT_REPLICAS = 1;

const NO_ROLLOUT =
  'local mode has no rollouts: when the template changes, lanes replaces the instances directly';

const strategy = obj({
  type: oneOf(['Recreate', 'RollingUpdate']),
  rollingUpdate: obj({ maxUnavailable: intOrString(), maxSurge: intOrString() }),
}).check((s, c) => {
  if (s.type === 'Recreate' && s.rollingUpdate !== undefined) {
    c.error("Forbidden: may not be specified when strategy `type` is 'Recreate'", 'rollingUpdate');
  }
});

const spec = obj({
  replicas: int({ min: 0, max: 2147483647 }),
  selector: required(labelSelector),
  template: required(podTemplate),
  strategy: ignored(NO_ROLLOUT, strategy),
  minReadySeconds: ignored(NO_ROLLOUT, int({ min: 0 })),
  revisionHistoryLimit: ignored('lanes keeps no old ReplicaSets to roll back to', int({ min: 0 })),
  paused: ignored(
    'local mode has no rollouts to pause: a changed template takes effect when applied',
    bool(),
  ),
  progressDeadlineSeconds: ignored(NO_ROLLOUT, int({ min: 0 })),
})
  .check((d, c) => {
    if (selectorIsEmpty(d.selector)) {
      c.error('Invalid value: {}: empty selector is invalid for deployment', 'selector');
      return;
    }
    // Kubernetes rejects a Deployment that could never see its own pods.
    if (!selectorMatches(d.selector, d.template.labels)) {
      c.error(
        `Invalid value: ${goMap(d.template.labels)}: \`selector\` does not match template \`labels\``,
        'template',
        'metadata',
        'labels',
      );
    }
  })
  .map(
    (d): DeploymentSpec => ({
      replicas: d.replicas ?? DEFAULT_REPLICAS,
      selector: d.selector,
      template: d.template,
    }),
  );

export const deploymentKind = defineKind<DeploymentSpec>({
  group: 'apps',
  versions: ['v1'],
  kind: 'Deployment',
  scope: 'Namespaced',
  placement: 'cluster',
  spec,
  specRequired: true,
});
