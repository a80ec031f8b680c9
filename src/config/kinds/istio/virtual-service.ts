/**
 * Istio `VirtualService` (networking.istio.io v1 / v1beta1 / v1alpha3), HTTP routes only, with
 * Istio's semantics (istio-semantics.md §1.1-1.6) and ValidateVirtualService's checks and warnings.
 */
import { list, obj, type Schema, str, unsupported } from '../../schema/dsl.ts';
import { defineKind } from '../kind.ts';
import { checkExportToNamespace, exportToSchema, gatewayRef, isJwtClaimKey } from './common.ts';
import { httpRouteSchema } from './http-route.ts';
import { hostsOverlap, isIpAddress, validateWildcardDomain } from './istio-names.ts';
import type { HTTPRoute, VirtualServiceSpec } from './types.ts';
import { warnUnreachableRules } from './unreachable.ts';

const MESH = 'mesh';
const HTTP_ONLY = 'lanes routes HTTP only; use http routes';

const spec: Schema<VirtualServiceSpec> = obj({
  hosts: list(str()),
  gateways: list(gatewayRef()),
  http: list(httpRouteSchema),
  tls: unsupported(`TLS (SNI) routes; ${HTTP_ONLY}`),
  tcp: unsupported(`TCP routes; ${HTTP_ONLY}`),
  exportTo: exportToSchema(),
})
  .check((vs, c) => {
    const hosts = vs.hosts ?? [];
    const gateways = vs.gateways ?? [];
    const http = vs.http ?? [];
    // Istio's isGateway: bound to gateways only when `gateways` is set and leaves out `mesh`.
    const appliesToGateway = gateways.length > 0 && !gateways.includes(MESH);
    if (hosts.length === 0) {
      c.error(
        'Required value: a VirtualService needs hosts (one without hosts is a delegate VirtualService, which lanes does not support yet)',
        'hosts',
      );
    }
    let allHostsValid = true;
    hosts.forEach((host, i) => {
      const message = validateWildcardDomain(host);
      if (message) {
        if (!isIpAddress(host)) {
          c.error(message, 'hosts', i);
          allHostsValid = false;
        }
      } else if (!appliesToGateway && host === '*') {
        c.error(
          'wildcard host * is not allowed for virtual services bound to the mesh gateway',
          'hosts',
          i,
        );
        allHostsValid = false;
      }
    });
    if (allHostsValid) {
      hosts.forEach((a, i) => {
        hosts.slice(i + 1).forEach((b, k) => {
          if (hostsOverlap(a, b)) {
            c.error(`duplicate hosts in virtual service: ${a} & ${b}`, 'hosts', i + 1 + k);
          }
        });
      });
    }
    if (http.length === 0) c.error('http, tcp or tls must be provided in virtual service', 'http');
    checkJwtClaimRoutes(http, gateways, appliesToGateway, c.error.bind(c));
    warnUnreachableRules(http, c);
  })
  .map((vs) => ({
    hosts: vs.hosts ?? [],
    gateways: vs.gateways ?? [],
    http: vs.http ?? [],
    exportTo: vs.exportTo,
  }));

type Report = (message: string, ...path: (string | number)[]) => void;

/**
 * `@request.auth.claims.*` header keys route on JWT claims. Istio allows them on gateways only;
 * lanes has no JWT authentication, so on gateways they are "not supported yet".
 */
function checkJwtClaimRoutes(
  http: readonly HTTPRoute[],
  gateways: readonly string[],
  appliesToGateway: boolean,
  error: Report,
): void {
  http.forEach((route, i) => {
    route.match?.forEach((m, j) => {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const key of Object.keys(m[field] ?? {})) {
          if (!isJwtClaimKey(key)) continue;
          error(
            appliesToGateway
              ? `not supported by lanes yet: JWT claim based routing (key: ${key}) needs JWT authentication, which lanes does not have`
              : `JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${gateways.join(' ')}]`,
            'http',
            i,
            'match',
            j,
            field,
            key,
          );
        }
      }
    });
  });
}

export const virtualServiceKind = defineKind<VirtualServiceSpec>({
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  kind: 'VirtualService',
  scope: 'Namespaced',
  placement: 'mesh',
  spec,
  specRequired: true,
  checkResource(metadata, vs, c) {
    checkExportToNamespace(vs.exportTo, metadata.namespace, c);
  },
});
