/**
 * The environment and command line of one local instance, with one meaning of `$(VAR)` for env
 * values, `command` and `args` — Kubernetes' (`expandKubeReferences`: a defined name is
 * replaced, an undefined one stays as written, `$$` is a literal `$`). Pure.
 *
 * What `$(VAR)` can see is what Kubernetes would put in the container spec: the variables the
 * runtime defines first (here PORT, the sidecar proxy, the OpenTelemetry injection and lanes'
 * defaults, like Kubernetes' service-link variables), then the container's `env` entries in
 * order. The daemon's own PATH, HOME, … stand for the image's environment: the process gets
 * them, but `$(HOME)` is not expanded, as Kubernetes does not expand an image's ENV either.
 */
import {
  type EnvVar,
  expandKubeReferences,
  resolveContainerEnv,
} from '../../../config/kinds/kube/index.ts';
import { mergeNodeOptions } from '../otel/env.ts';

/**
 * Defaults for local processes, below the container's env: Python buffers stdout when it is not
 * a terminal, so a local app's log would stay empty until the buffer fills.
 */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = { PYTHONUNBUFFERED: '1' };

export interface InstanceEnvInput {
  /** The daemon's variables every process needs (PATH, HOME, …): not visible to `$(…)`. */
  readonly inherited: Readonly<Record<string, string>>;
  /** What OpenTelemetry injection adds (the operator's webhook, in Kubernetes); may be empty. */
  readonly injected: Readonly<Record<string, string>>;
  /** What the instance must have inside the mesh (PORT, http_proxy, …): wins over the container's env. */
  readonly mesh: Readonly<Record<string, string>>;
  /** The container's `env`, in order. */
  readonly env: readonly EnvVar[];
  /** Command then args, as written. */
  readonly argv: readonly string[];
}

export interface InstanceEnv {
  readonly env: Record<string, string>;
  /** Command then args, expanded. */
  readonly argv: string[];
}

export function instanceEnv(i: InstanceEnvInput): InstanceEnv {
  const runtime = { ...LOCAL_DEFAULTS, ...i.injected, ...i.mesh };
  const declared: Record<string, string> = { ...resolveContainerEnv(i.env, runtime), ...i.mesh };
  // A container's own NODE_OPTIONS keeps what it says, and still loads the injected SDK.
  const injectedOptions = i.injected.NODE_OPTIONS;
  const ownOptions = i.env.findLast((e) => e.name === 'NODE_OPTIONS');
  if (injectedOptions !== undefined && ownOptions !== undefined)
    declared.NODE_OPTIONS = mergeNodeOptions(declared.NODE_OPTIONS, injectedOptions);
  const lookup = (name: string) => (Object.hasOwn(declared, name) ? declared[name] : undefined);
  return {
    env: { ...i.inherited, ...declared },
    argv: i.argv.map((s) => expandKubeReferences(s, lookup)),
  };
}
