import type { KindDef } from '../kind.ts';
import { deploymentKind } from './deployment.ts';
import { serviceKind } from './service.ts';

export type { DeploymentSpec } from './deployment.ts';
export { DEFAULT_REPLICAS } from './deployment.ts';
export type {
  ContainerPortSpec,
  ContainerSpec,
  EnvVar,
  InjectionRequest,
  LabelSelector,
  PodTemplate,
  Protocol,
  SelectorOperator,
  SelectorRequirement,
} from './pod.ts';
export {
  DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
  expandKubeReferences,
  resolveContainerEnv,
  selectorMatches,
} from './pod.ts';
export type { ServicePortSpec, ServiceSpec } from './service.ts';
export { deploymentKind, serviceKind };

export const kubeKinds: readonly KindDef[] = [serviceKind, deploymentKind] as readonly KindDef[];
