/** References between native resources: services, gateways and lanes by name. */
import { DEFAULT_NAMESPACE } from '../../resource/resource.ts';
import { parseServiceHost, type ServiceRef } from '../../resource/service-ref.ts';
import { byShape, obj, required, type Schema, str } from '../../schema/dsl.ts';
import { dnsLabel, dnsSubdomain } from '../common.ts';

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
}

/** `mocka`, `team/mocka`, `mocka.team`, `mocka.team.svc.cluster.local`, or `{name, namespace}`. */
export function serviceRef(): Schema<ServiceRef> {
  return byShape<ServiceRef>({
    scalar: str({ minLength: 1 })
      .check((text, c) => {
        if (!parseServiceHost(text, DEFAULT_NAMESPACE)) {
          c.error(
            `Invalid value: ${JSON.stringify(text)}: must name a service as name, namespace/name or name.namespace.svc.cluster.local`,
          );
        }
      })
      .map((text) => parseServiceHost(text, DEFAULT_NAMESPACE) ?? { namespace: '', name: text }),
    map: obj({
      name: required(dnsLabel('a service name')),
      namespace: dnsLabel('a namespace'),
    }).map((f) => ({ name: f.name, namespace: f.namespace ?? DEFAULT_NAMESPACE })),
  });
}

/** `namespace/name` or `name` (namespace `default`), as in Istio's `gateways` lists. */
export function gatewayRef(): Schema<GatewayRef> {
  return str({
    pattern: /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    patternHint: 'a gateway reference must be namespace/name or name',
  }).map((text) => {
    const slash = text.indexOf('/');
    return slash < 0
      ? { namespace: DEFAULT_NAMESPACE, name: text }
      : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
  });
}

export function laneName(): Schema<string> {
  return dnsSubdomain('a lane name');
}
