/**
 * Istio HTTPRoute and HTTPMatchRequest (VS.proto), with validateHTTPRoute's checks from
 * istio/istio pkg/config/validation/virtualservice.go. Fields lanes cannot honour are errors that
 * name themselves; nothing is dropped silently.
 */
import { bool, list, obj, required, type Schema, str, unsupported } from '../../schema/dsl.ts';
import {
  authorityWrites,
  destination,
  gatewayRef,
  headersSchema,
  int32,
  istioDuration,
  istioLabels,
  portMessage,
  stringMatch,
  stringMatchMap,
  uint32,
} from './common.ts';
import {
  directResponseSchema,
  faultSchema,
  redirectSchema,
  retriesSchema,
  rewriteSchema,
} from './http-actions.ts';
import { isDns1123Label } from './istio-names.ts';
import type { HTTPMatchRequest, HTTPRoute, HTTPRouteDestination } from './types.ts';

const matchRequest: Schema<HTTPMatchRequest> = obj({
  name: str(),
  uri: stringMatch('uri', { emptyPrefix: true }),
  scheme: stringMatch('scheme'),
  method: stringMatch('method'),
  authority: stringMatch('authority'),
  headers: stringMatchMap('headers', 'header match'),
  withoutHeaders: stringMatchMap('withoutHeaders', 'withoutHeaders match'),
  queryParams: stringMatchMap('queryParams', 'query param match'),
  port: uint32().check((port, c) => {
    const message = port === 0 ? undefined : portMessage(port);
    if (message) c.error(message);
  }),
  sourceLabels: istioLabels(),
  sourceNamespace: str().check((ns, c) => {
    if (ns !== '' && !isDns1123Label(ns)) c.error(`sourceNamespace match ${ns} is invalid`);
  }),
  gateways: list(gatewayRef()),
  ignoreUriCase: bool(),
  statPrefix: str(),
})
  // Proto zero values are "unset": port 0 matches any port.
  .map((m) => ({
    ...m,
    port: m.port || undefined,
    sourceNamespace: m.sourceNamespace || undefined,
  }));

const routeDestination: Schema<HTTPRouteDestination> = obj({
  destination: required(destination()),
  weight: int32().check((w, c) => {
    if (w < 0) c.error(`weight ${w} < 0`);
  }),
  headers: headersSchema(),
});

const MIRRORING = 'traffic mirroring (mirror, mirrors, mirrorPercentage)';

export const httpRouteSchema: Schema<HTTPRoute> = obj({
  name: str(),
  match: list(matchRequest),
  route: list(routeDestination),
  redirect: redirectSchema,
  directResponse: directResponseSchema,
  delegate: unsupported(
    'delegate VirtualServices (a route handed to another VirtualService); write the rules here',
  ),
  rewrite: rewriteSchema,
  timeout: istioDuration(),
  retries: retriesSchema,
  fault: faultSchema,
  mirror: unsupported(MIRRORING),
  mirrors: unsupported(MIRRORING),
  mirrorPercentage: unsupported(MIRRORING),
  mirrorPercent: unsupported(MIRRORING),
  mirror_percent: unsupported(MIRRORING),
  corsPolicy: unsupported('CORS policies; let the application answer CORS preflight requests'),
  headers: headersSchema(),
})
  .check((r, c) => {
    checkActions(r, c.error.bind(c));
    if (r.redirect?.prefixRewrite && r.match?.some((m) => m.uri && m.uri.prefix === undefined)) {
      c.error(
        'redirect prefix_rewrite requires all URI matches to use prefix match type',
        'redirect',
        'prefixRewrite',
      );
    }
    // validateAuthorityRewrite: the authority may be written in one place only.
    let current = r.rewrite?.authority ?? '';
    for (const [op, name, value] of authorityWrites(r.headers)) {
      if (current !== '') {
        c.error(
          `authority header cannot be set multiple times: have ${JSON.stringify(current)}, attempting to set ${JSON.stringify(value)}`,
          'headers',
          'request',
          op,
          name,
        );
        break;
      }
      current = value;
    }
    const route = r.route ?? [];
    if (route.length > 1 && route.reduce((sum, d) => sum + (d.weight ?? 0), 0) === 0) {
      c.error('total destination weight = 0', 'route');
    }
  })
  .map((r) => ({
    name: r.name,
    match: r.match,
    route: r.route,
    redirect: r.redirect,
    directResponse: r.directResponse,
    rewrite: r.rewrite,
    timeout: r.timeout,
    retries: r.retries,
    fault: r.fault,
    headers: r.headers,
  }));

type Report = (message: string, ...path: string[]) => void;

interface Actions {
  readonly route?: readonly unknown[] | undefined;
  readonly redirect?: unknown;
  readonly directResponse?: unknown;
  readonly rewrite?: unknown;
  readonly fault?: unknown;
}

/** validateHTTPRouteConflict: exactly one action, and what may go with it. */
function checkActions(r: Actions, error: Report): void {
  const hasRoute = (r.route?.length ?? 0) > 0;
  if (r.redirect) {
    if (hasRoute) error('HTTP route cannot contain both route and redirect', 'redirect');
    if (r.fault) error('HTTP route cannot contain both fault and redirect', 'fault');
    if (r.rewrite) error('HTTP route rule cannot contain both rewrite and redirect', 'rewrite');
    if (r.directResponse) {
      error('HTTP route rule cannot contain both direct_response and redirect', 'directResponse');
    }
  } else if (r.directResponse) {
    if (hasRoute)
      error('HTTP route cannot contain both route and direct_response', 'directResponse');
    if (r.fault) error('HTTP route cannot contain both fault and direct_response', 'fault');
    if (r.rewrite)
      error('HTTP route rule cannot contain both rewrite and direct_response', 'rewrite');
  } else if (!hasRoute) {
    error('HTTP route, redirect or direct_response is required');
  }
}
