/** Shapes shared by ASM's two kinds (from aliyun/alibabacloud-servicemesh-api, apis v1). */
import { DEFAULT_NAMESPACE } from '../../resource/resource.ts';
import type { ServiceRef } from '../../resource/service-ref.ts';
import {
  ignored,
  int,
  obj,
  record,
  required,
  type Schema,
  str,
  unsupported,
} from '../../schema/dsl.ts';
import { compileFullMatch } from '../../schema/regex.ts';
import { dnsLabel } from '../common.ts';
import { headerName } from '../http-names.ts';

/** ASM's ClusterServiceRef: a service, optionally pinned to a cluster of the mesh. */
export function clusterServiceRef(): Schema<ServiceRef> {
  return obj({
    name: required(dnsLabel('a service name')),
    namespace: dnsLabel('a namespace'),
    cluster: ignored(
      'lanes merges same-named services across clusters, so a lane service is not pinned to one cluster',
      obj({ region: str(), name: str(), id: str() }),
    ),
    trafficPolicyPatch: unsupported(
      'lanes does not patch generated DestinationRules; write a DestinationRule',
    ),
    httpRoutePatch: unsupported('lanes does not patch generated routes; write a VirtualService'),
  }).map((f) => ({ name: f.name, namespace: f.namespace ?? DEFAULT_NAMESPACE }));
}

export interface AsmStringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

/** "only one of the StringMatch type should be used" (ASM's Go comment). */
export function asmStringMatch(): Schema<AsmStringMatch> {
  return obj(
    {
      exact: str(),
      prefix: str(),
      regex: str().check((pattern, c) => {
        const compiled = compileFullMatch(pattern);
        if (!compiled.ok) c.error(`Invalid value: ${JSON.stringify(pattern)}: ${compiled.message}`);
      }),
    },
    { exactlyOneOf: ['exact', 'prefix', 'regex'] },
  );
}

export interface AsmRequestMatch {
  readonly uri?: AsmStringMatch;
  readonly headers?: Readonly<Record<string, AsmStringMatch>>;
}

export function asmRequestMatch(): Schema<AsmRequestMatch> {
  return obj({ uri: asmStringMatch(), headers: record(asmStringMatch(), headerName()) });
}

export interface AsmDestination {
  readonly host: string;
  readonly port?: number;
}

export function asmDestination(): Schema<AsmDestination> {
  return obj({
    host: required(str({ minLength: 1 })),
    portNum: int({ min: 1, max: 65535 }),
  }).map((f) => (f.portNum === undefined ? { host: f.host } : { host: f.host, port: f.portNum }));
}
