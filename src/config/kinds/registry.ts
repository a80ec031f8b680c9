/** Every kind lanes accepts, looked up by `apiVersion` + `kind`. */
import type { Resource } from '../resource/resource.ts';
import { didYouMean } from '../schema/did-you-mean.ts';
import { asmKinds } from './asm/index.ts';
import { istioKinds } from './istio/index.ts';
import type { KindDef } from './kind.ts';
import { kubeKinds } from './kube/index.ts';
import { nativeKinds } from './native/index.ts';
import { otelKinds } from './otel.ts';

export const KINDS: readonly KindDef[] = [
  ...nativeKinds,
  ...asmKinds,
  ...istioKinds,
  ...kubeKinds,
  ...otelKinds,
] as readonly KindDef[];

/** Real kinds of the APIs we accept that lanes does not implement; named in the error. */
const KNOWN_UNSUPPORTED: Record<string, readonly string[]> = {
  'networking.istio.io': [
    'ServiceEntry',
    'Sidecar',
    'EnvoyFilter',
    'WorkloadEntry',
    'WorkloadGroup',
    'ProxyConfig',
  ],
  'security.istio.io': ['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication'],
  'telemetry.istio.io': ['Telemetry'],
  'extensions.istio.io': ['WasmPlugin', 'TrafficExtension'],
  'istio.alibabacloud.com': ['ASMHeaderPropagation', 'TrafficLabel'],
  'gateway.networking.k8s.io': ['Gateway', 'HTTPRoute', 'GRPCRoute', 'GatewayClass'],
  '': ['Pod', 'ConfigMap', 'Secret', 'Namespace', 'ServiceAccount', 'Endpoints'],
  apps: ['StatefulSet', 'DaemonSet', 'ReplicaSet'],
};

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export type KindLookup =
  | { ok: true; def: KindDef }
  | { ok: false; message: string; field: 'apiVersion' | 'kind' };

export function lookupKind(apiVersion: string, kind: string): KindLookup {
  const { group, version } = splitApiVersion(apiVersion);
  const sameKind = KINDS.filter((k) => k.kind === kind);
  const exact = sameKind.find((k) => k.group === group && k.versions.includes(version));
  if (exact) return { ok: true, def: exact };
  const sameGroupKind = sameKind.find((k) => k.group === group);
  if (sameGroupKind) {
    return {
      ok: false,
      field: 'apiVersion',
      message: `Unsupported value: ${JSON.stringify(apiVersion)}: ${kind} is served as ${sameGroupKind.versions.map((v) => apiVersionOf(group, v)).join(', ')}`,
    };
  }
  if (KNOWN_UNSUPPORTED[group]?.includes(kind)) {
    return {
      ok: false,
      field: 'kind',
      message: `${kind} (${apiVersion}) is not supported by lanes yet; remove it from the files you apply. Supported kinds: ${supportedList()}`,
    };
  }
  if (sameKind.length > 0) {
    const first = sameKind[0]!;
    return {
      ok: false,
      field: 'apiVersion',
      message: `Unsupported value: ${JSON.stringify(apiVersion)}: ${kind} is served as ${first.versions.map((v) => apiVersionOf(first.group, v)).join(', ')}`,
    };
  }
  const guess = didYouMean(
    kind,
    KINDS.map((k) => k.kind),
  );
  return {
    ok: false,
    field: 'kind',
    message: `unknown kind ${JSON.stringify(kind)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; supported kinds: ${supportedList()}`,
  };
}

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

function supportedList(): string {
  return [
    ...new Set(KINDS.map((k) => `${k.kind} (${apiVersionOf(k.group, k.versions[0]!)})`)),
  ].join(', ');
}

/** Narrows a resource to a kind, so its `spec` has that kind's type. */
export function isKind<S>(resource: Resource, def: KindDef<S>): resource is Resource<string, S> {
  return resource.kind === def.kind && resource.id.group === def.group;
}
