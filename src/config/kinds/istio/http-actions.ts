/**
 * The parts of an Istio HTTPRoute that act on a matched request: redirect, direct response,
 * rewrite, retries and fault injection (VS.proto; checks from istio/istio validation.go).
 */
import { bool, obj, oneOf, required, type Schema, str, unsupported } from '../../schema/dsl.ts';
import { compileRe2 } from '../../schema/regex.ts';
import { int32, istioDuration, percentage, percentMessage, portMessage, uint32 } from './common.ts';
import type {
  HTTPDirectResponse,
  HTTPFaultInjection,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
} from './types.ts';

/** validateHTTPRedirect; `prefixRewrite` against the match blocks is checked by the route. */
export const redirectSchema: Schema<HTTPRedirect> = obj(
  {
    uri: str(),
    prefixRewrite: str(),
    authority: str(),
    scheme: str(),
    port: uint32(),
    derivePort: oneOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']),
    redirectCode: uint32(),
  },
  { atMostOneOf: ['port', 'derivePort'] },
)
  .check((r, c) => {
    if (
      !r.uri &&
      !r.prefixRewrite &&
      !r.authority &&
      !r.scheme &&
      !r.port &&
      r.derivePort === undefined
    ) {
      c.error('redirect must specify URI, authority, scheme, or port');
    }
    if (r.uri && r.prefixRewrite) {
      c.error('redirect may only specify one of uri or prefix_rewrite', 'prefixRewrite');
    }
    if (r.redirectCode && (r.redirectCode < 300 || r.redirectCode > 399)) {
      c.error(`${r.redirectCode} is not a valid redirect code, must be 3xx`, 'redirectCode');
    }
    if (r.scheme && r.scheme !== 'http' && r.scheme !== 'https') {
      c.error('invalid redirect scheme, must be "http" or "https"', 'scheme');
    }
    const portError = r.port ? portMessage(r.port) : undefined;
    if (portError) c.error(portError, 'port');
  })
  // Proto's zero values mean "unset": redirect code 301, the request's own port.
  .map((r) => ({
    uri: r.uri || undefined,
    prefixRewrite: r.prefixRewrite || undefined,
    authority: r.authority || undefined,
    scheme: r.scheme || undefined,
    port: r.port || undefined,
    derivePort: r.derivePort,
    redirectCode: r.redirectCode || undefined,
  }));

const KB = 1024;
const MB = 1024 * KB;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** validateHTTPStatus; Istio lets 600 through although its message says 599. */
export function httpStatusMessage(status: number): string | undefined {
  return status < 200 || status > 600 ? `HTTP status ${status} is not in range 200-599` : undefined;
}

/** validateHTTPDirectResponse. */
export const directResponseSchema: Schema<HTTPDirectResponse> = obj({
  status: required(uint32()),
  body: obj(
    {
      string: str(),
      bytes: str().check((b, c) => {
        if (!BASE64.test(b)) c.error('Invalid value: bytes must be base64-encoded');
      }),
    },
    { atMostOneOf: ['string', 'bytes'] },
  ),
}).check((d, c) => {
  const statusError = httpStatusMessage(d.status);
  if (statusError) c.error(statusError, 'status');
  const size =
    d.body?.string !== undefined
      ? Buffer.byteLength(d.body.string)
      : d.body?.bytes !== undefined
        ? Buffer.from(d.body.bytes, 'base64').length
        : 0;
  if (size > MB) {
    c.error(
      'large direct_responses may impact control plane performance, must be less than 1MB',
      'body',
    );
  } else if (size > 100 * KB) {
    c.warn('large direct_responses may impact control plane performance', 'body');
  }
});

/** validateHTTPRewrite. */
export const rewriteSchema: Schema<HTTPRewrite> = obj({
  uri: str(),
  authority: str(),
  uriRegexRewrite: obj({ match: str(), rewrite: str() }),
})
  .check((r, c) => {
    const re = r.uriRegexRewrite;
    if (r.uri && re) {
      c.error('rewrite may only contain one of URI or UriRegexRewrite');
    } else if (!r.uri && !re && !r.authority) {
      c.error(
        'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified',
      );
    }
    if (re) {
      if (!re.match || !re.rewrite) {
        c.error(
          'UriRegexRewrite requires both Rewrite and Match fields to be specified',
          'uriRegexRewrite',
        );
      } else {
        // The compiler substitutes every occurrence, as Envoy's regex_rewrite does.
        const compiled = compileRe2(re.match, 'global');
        if (!compiled.ok) {
          c.error(
            `"HTTPRewrite.UriRegexRewrite.Match": ${compiled.message}`,
            'uriRegexRewrite',
            'match',
          );
        }
      }
    }
  })
  .map((r) => ({
    uri: r.uri || undefined,
    authority: r.authority || undefined,
    uriRegexRewrite: r.uriRegexRewrite
      ? { match: r.uriRegexRewrite.match ?? '', rewrite: r.uriRegexRewrite.rewrite ?? '' }
      : undefined,
  }));

// Envoy x-envoy-retry-on and x-envoy-retry-grpc-on policies Istio accepts.
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

// Status codes Go's http.StatusText knows: Istio accepts exactly these as bare retryOn codes.
const GO_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
  305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
  416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
  506, 507, 508, 510, 511,
]);

function validRetryOn(policy: string): boolean {
  return RETRY_ON.has(policy) || (/^[+-]?\d+$/.test(policy) && GO_STATUS_CODES.has(Number(policy)));
}

/** validateHTTPRetry. */
export const retriesSchema: Schema<HTTPRetry> = obj({
  attempts: int32(),
  perTryTimeout: istioDuration(),
  retryOn: str(),
  retryRemoteLocalities: bool(),
  retryIgnorePreviousHosts: bool(),
  backoff: istioDuration(),
}).check((r, c) => {
  const attempts = r.attempts ?? 0;
  if (attempts < 0) c.error('attempts cannot be negative', 'attempts');
  if (
    attempts === 0 &&
    (r.perTryTimeout !== undefined || r.retryOn || r.retryRemoteLocalities !== undefined)
  ) {
    c.error('http retry policy configured when attempts are set to 0 (disabled)');
  }
  if (r.retryOn) {
    for (const policy of r.retryOn.split(',')) {
      if (!validRetryOn(policy))
        c.error(`${JSON.stringify(policy)} is not a valid retryOn policy`, 'retryOn');
    }
  }
});

const delaySchema = obj({
  fixedDelay: istioDuration(),
  exponentialDelay: unsupported(
    'exponentialDelay (Istio rejects it too: "exponentialDelay not supported yet"); use fixedDelay',
  ),
  percentage: percentage(),
  percent: int32().check((p, c) => {
    const message = percentMessage(p);
    if (message) c.error(message);
    else c.warn('percent is deprecated; use percentage: {value: …}');
  }),
}).check((d, c) => {
  if (d.percent !== undefined && d.percentage !== undefined) {
    c.warn('ignored: percentage is set, so the deprecated percent is not used', 'percent');
  }
  if (d.fixedDelay === undefined) {
    c.warn('delay has no fixedDelay, so no request is delayed');
  }
});

const abortSchema = obj({
  httpStatus: int32().check((s, c) => {
    const message = httpStatusMessage(s);
    if (message) c.error(message);
  }),
  grpcStatus: unsupported(
    'gRPC status aborts; lanes gateways and sidecars speak HTTP/1.1, so use httpStatus',
  ),
  http2Error: unsupported(
    'HTTP/2 error aborts (Istio rejects them too: "HTTP/2 abort fault injection not supported yet"); use httpStatus',
  ),
  percentage: percentage(),
}).check((a, c) => {
  // Istio's own warning for an abort without an error type.
  if (a.httpStatus === undefined) c.warn('abort configured, but error type not set');
});

/** validateHTTPFaultInjection. The deprecated integer `percent` stands in for `percentage`. */
export const faultSchema: Schema<HTTPFaultInjection> = obj({
  delay: delaySchema,
  abort: abortSchema,
})
  .check((f, c) => {
    if (!f.delay && !f.abort) c.error('HTTP fault injection must have an abort and/or a delay');
  })
  .map((f) => {
    const out: { delay?: HTTPFaultInjection['delay']; abort?: HTTPFaultInjection['abort'] } = {};
    const d = f.delay;
    if (d?.fixedDelay !== undefined) {
      const pct = d.percentage ?? (d.percent !== undefined ? { value: d.percent } : undefined);
      out.delay = { fixedDelay: d.fixedDelay, percentage: pct };
    }
    const a = f.abort;
    if (a?.httpStatus !== undefined) {
      out.abort = { httpStatus: a.httpStatus, percentage: a.percentage };
    }
    return out;
  });
