import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertIssue, doc, type Expected, errors, parseOne } from './test-support.ts';
import type { VirtualServiceSpec } from './types.ts';

interface Case extends Expected {
  readonly title: string;
  readonly spec: readonly string[];
}

const route = ['- route:', '  - destination: {host: reviews}'];

/** One failing case per Istio validation message (istio-semantics.md §1.9) lanes reproduces. */
const rejected: Case[] = [
  {
    title: '#1 a VirtualService without http routes',
    spec: ['hosts: [reviews]'],
    path: 'spec.http',
    message: 'http, tcp or tls must be provided in virtual service',
    at: 'hosts',
  },
  {
    title: '#2 host * on a VirtualService bound to the mesh',
    spec: ["hosts: ['*']", 'http:', ...route],
    path: 'spec.hosts[0]',
    message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway',
    at: "'*'",
  },
  {
    title: '#3 hosts that overlap through a wildcard',
    spec: ["hosts: [a.foo.com, '*.foo.com']", 'http:', ...route],
    path: 'spec.hosts[1]',
    message: 'duplicate hosts in virtual service: a.foo.com & *.foo.com',
    at: "'*.foo.com'",
  },
  {
    title: '#3 a host that is not a domain name',
    spec: ['hosts: [bad_host]', 'http:', ...route],
    path: 'spec.hosts[0]',
    message: 'domain name "bad_host" invalid (label "bad_host" invalid)',
    at: 'bad_host',
  },
  {
    title: '#4 a VirtualService without hosts (a delegate, which lanes does not support)',
    spec: ['http:', ...route],
    path: 'spec.hosts',
    message:
      'Required value: a VirtualService needs hosts (one without hosts is a delegate VirtualService, which lanes does not support yet)',
  },
  {
    title: '#5 JWT claim routing on a VirtualService bound to the mesh',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match:',
      '  - headers: {"@request.auth.claims.group": {exact: admin}}',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].headers["@request.auth.claims.group"]',
    message:
      'JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway, found no gateways: []',
    at: '{exact: admin}',
  },
  {
    title: '#6 an HTTP route without an action',
    spec: ['hosts: [reviews]', 'http:', '- match: [{uri: {prefix: /a}}]'],
    path: 'spec.http[0]',
    message: 'HTTP route, redirect or direct_response is required',
    at: 'match',
  },
  {
    title: '#7 route and redirect together',
    spec: ['hosts: [reviews]', 'http:', ...route, '  redirect: {uri: /b}'],
    path: 'spec.http[0].redirect',
    message: 'HTTP route cannot contain both route and redirect',
    at: '{uri: /b}',
  },
  {
    title: '#7 fault and redirect together',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- redirect: {uri: /b}',
      '  fault: {abort: {httpStatus: 500}}',
    ],
    path: 'spec.http[0].fault',
    message: 'HTTP route cannot contain both fault and redirect',
    at: '{abort',
  },
  {
    title: '#7 rewrite and redirect together',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {uri: /b}', '  rewrite: {uri: /c}'],
    path: 'spec.http[0].rewrite',
    message: 'HTTP route rule cannot contain both rewrite and redirect',
  },
  {
    title: '#7 direct_response and redirect together',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {uri: /b}', '  directResponse: {status: 503}'],
    path: 'spec.http[0].directResponse',
    message: 'HTTP route rule cannot contain both direct_response and redirect',
  },
  {
    title: '#8 route and direct_response together',
    spec: ['hosts: [reviews]', 'http:', ...route, '  directResponse: {status: 503}'],
    path: 'spec.http[0].directResponse',
    message: 'HTTP route cannot contain both route and direct_response',
  },
  {
    title: '#8 fault and direct_response together',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- directResponse: {status: 503}',
      '  fault: {abort: {httpStatus: 500}}',
    ],
    path: 'spec.http[0].fault',
    message: 'HTTP route cannot contain both fault and direct_response',
  },
  {
    title: '#8 rewrite and direct_response together',
    spec: ['hosts: [reviews]', 'http:', '- directResponse: {status: 503}', '  rewrite: {uri: /c}'],
    path: 'spec.http[0].rewrite',
    message: 'HTTP route rule cannot contain both rewrite and direct_response',
  },
  {
    title: '#11 a negative weight',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- route:',
      '  - destination: {host: reviews, subset: v1}',
      '    weight: -5',
      '  - destination: {host: reviews, subset: v2}',
      '    weight: 10',
    ],
    path: 'spec.http[0].route[0].weight',
    message: 'weight -5 < 0',
    at: '-5',
  },
  {
    title: '#11 two destinations whose weights add up to 0',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- route:',
      '  - destination: {host: reviews, subset: v1}',
      '  - destination: {host: reviews, subset: v2}',
    ],
    path: 'spec.http[0].route',
    message: 'total destination weight = 0',
    at: '- destination',
  },
  {
    title: '#13 a fault percentage over 100',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}',
    ],
    path: 'spec.http[0].fault.delay.percentage.value',
    message: 'percentage 150 is neither 0.0, nor in range [0.0001, 100.0]',
    at: '150',
  },
  {
    title: '#13 a fault percentage between 0 and 0.0001',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  fault: {abort: {httpStatus: 500, percentage: {value: 0.00001}}}',
    ],
    path: 'spec.http[0].fault.abort.percentage.value',
    message: 'percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]',
  },
  {
    title: '#14 a fault with neither abort nor delay',
    spec: ['hosts: [reviews]', 'http:', ...route, '  fault: {}'],
    path: 'spec.http[0].fault',
    message: 'HTTP fault injection must have an abort and/or a delay',
    at: '{}',
  },
  {
    title: '#14 an abort status outside 200-599',
    spec: ['hosts: [reviews]', 'http:', ...route, '  fault: {abort: {httpStatus: 700}}'],
    path: 'spec.http[0].fault.abort.httpStatus',
    message: 'HTTP status 700 is not in range 200-599',
    at: '700',
  },
  {
    title: '#14 a deprecated fault percent outside 0..100',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  fault: {delay: {fixedDelay: 1s, percent: 101}}',
    ],
    path: 'spec.http[0].fault.delay.percent',
    message: 'percentage 101 is not in range 0..100',
  },
  {
    title: '#15 a redirect with both uri and prefixRewrite',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {uri: /a, prefixRewrite: /b}'],
    path: 'spec.http[0].redirect.prefixRewrite',
    message: 'redirect may only specify one of uri or prefix_rewrite',
  },
  {
    title: '#15 a prefixRewrite redirect on an exact URI match',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {exact: /a}}]',
      '  redirect: {prefixRewrite: /b}',
    ],
    path: 'spec.http[0].redirect.prefixRewrite',
    message: 'redirect prefix_rewrite requires all URI matches to use prefix match type',
  },
  {
    title: '#15 a redirect that changes nothing',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {redirectCode: 302}'],
    path: 'spec.http[0].redirect',
    message: 'redirect must specify URI, authority, scheme, or port',
  },
  {
    title: '#15 a redirect code that is not 3xx',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {uri: /a, redirectCode: 200}'],
    path: 'spec.http[0].redirect.redirectCode',
    message: '200 is not a valid redirect code, must be 3xx',
    at: '200',
  },
  {
    title: '#15 a redirect scheme other than http and https',
    spec: ['hosts: [reviews]', 'http:', '- redirect: {scheme: ftp}'],
    path: 'spec.http[0].redirect.scheme',
    message: 'invalid redirect scheme, must be "http" or "https"',
    at: 'ftp',
  },
  {
    title: '#16 a rewrite with both uri and uriRegexRewrite',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  rewrite: {uri: /a, uriRegexRewrite: {match: ^/x, rewrite: /y}}',
    ],
    path: 'spec.http[0].rewrite',
    message: 'rewrite may only contain one of URI or UriRegexRewrite',
  },
  {
    title: '#16 an empty rewrite',
    spec: ['hosts: [reviews]', 'http:', ...route, '  rewrite: {}'],
    path: 'spec.http[0].rewrite',
    message:
      'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified',
  },
  {
    title: '#16 a uriRegexRewrite without its rewrite',
    spec: ['hosts: [reviews]', 'http:', ...route, '  rewrite: {uriRegexRewrite: {match: ^/x}}'],
    path: 'spec.http[0].rewrite.uriRegexRewrite',
    message: 'UriRegexRewrite requires both Rewrite and Match fields to be specified',
  },
  {
    title: '#17 the authority rewritten and set as a header',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  rewrite: {authority: a.example.com}',
      '  headers: {request: {set: {host: b.example.com}}}',
    ],
    path: 'spec.http[0].headers.request.set.host',
    message:
      'authority header cannot be set multiple times: have "a.example.com", attempting to set "b.example.com"',
    at: 'b.example.com',
  },
  {
    title: '#18 a pseudo-header set on the request',
    spec: ['hosts: [reviews]', 'http:', ...route, '  headers: {request: {set: {":path": /x}}}'],
    path: 'spec.http[0].headers.request.set[":path"]',
    message: 'invalid header ":path": header cannot have ":" prefix',
    at: '":path"',
  },
  {
    title: '#18 Host set on the response',
    spec: ['hosts: [reviews]', 'http:', ...route, '  headers: {response: {set: {Host: x}}}'],
    path: 'spec.http[0].headers.response.set.Host',
    message: 'invalid header "Host": cannot set Host header',
  },
  {
    title: '#18 Host removed from the request of one destination',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- route:',
      '  - destination: {host: reviews}',
      '    headers: {request: {remove: [host]}}',
    ],
    path: 'spec.http[0].route[0].headers.request.remove[0]',
    message: 'invalid header "host": cannot set Host header',
  },
  {
    title: '#18 a header value with a control character',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  headers: {request: {set: {x-a: "a\\u0001b"}}}',
    ],
    path: 'spec.http[0].headers.request.set.x-a',
    message: 'header value configuration a\u0001b is invalid',
  },
  {
    title: '#18 a header value with an unterminated %VARIABLE%',
    spec: ['hosts: [reviews]', 'http:', ...route, '  headers: {request: {add: {x-a: "%START"}}}'],
    path: 'spec.http[0].headers.request.add.x-a',
    message:
      "header value configuration: invalid header configuration. Un-terminated variable expression '%START'",
  },
  {
    title: '#19 an empty prefix in a scheme match',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{scheme: {prefix: ""}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].scheme.prefix',
    message: '"scheme": prefix string match should not be empty',
    at: '""',
  },
  {
    title: '#19 an empty prefix in a header match',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{headers: {x-a: {prefix: ""}}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].headers.x-a.prefix',
    message: '"headers": prefix string match should not be empty',
  },
  {
    title: '#19 an empty regex in a URI match',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {regex: ""}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].uri.regex',
    message: '"uri": regex string match should not be empty',
  },
  {
    title: '#19 a regex longer than 1024 characters',
    spec: [
      'hosts: [reviews]',
      'http:',
      `- match: [{queryParams: {q: {regex: "${'a'.repeat(1025)}"}}}]`,
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].queryParams.q.regex',
    message: '"queryParams": regex is too large, max length allowed is 1024',
  },
  {
    title: '#19 a regex RE2 cannot compile (lookahead)',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{authority: {regex: "(?=a)b"}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].authority.regex',
    message:
      '"authority": lookahead ((?=…), (?!…)) is not supported: Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
  },
  {
    title: '#19 two match types in one StringMatch (the CRD oneOf)',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{method: {exact: GET, prefix: P}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].method',
    message:
      'Invalid value: only one of "exact", "prefix", "regex" may be set, found "exact" and "prefix"',
    at: '{exact: GET',
  },
  {
    title: '#20 a null header match',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match:',
      '  - headers:',
      '      end-user:',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].headers.end-user',
    message: 'header match end-user cannot be null',
  },
  {
    title: '#20 a sourceNamespace that is not a DNS label',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{sourceNamespace: my_ns}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].sourceNamespace',
    message: 'sourceNamespace match my_ns is invalid',
    at: 'my_ns',
  },
  {
    title: '#20 a header name with a space',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{headers: {"x a": {exact: b}}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].headers["x a"]',
    message: 'header name x a is not a valid header name',
    at: '"x a"',
  },
  {
    title: '#21 destination host *',
    spec: ['hosts: [reviews]', 'http:', "- route: [{destination: {host: '*'}}]"],
    path: 'spec.http[0].route[0].destination.host',
    message: 'invalid destination host *',
    at: "'*'",
  },
  {
    title: '#21 a destination host with an invalid label',
    spec: ['hosts: [reviews]', 'http:', '- route: [{destination: {host: reviews.-bad}}]'],
    path: 'spec.http[0].route[0].destination.host',
    message: 'domain name "-bad" invalid (label "-bad" invalid)',
  },
  {
    title: '#21 a subset name that is not a DNS label',
    spec: ['hosts: [reviews]', 'http:', '- route: [{destination: {host: reviews, subset: v1.0}}]'],
    path: 'spec.http[0].route[0].destination.subset',
    message: 'subset name is invalid: v1.0',
    at: 'v1.0',
  },
  {
    title: '#21 a destination port out of range',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- route: [{destination: {host: reviews, port: {number: 70000}}}]',
    ],
    path: 'spec.http[0].route[0].destination.port.number',
    message: 'port number 70000 must be in the range 1..65535',
    at: '70000',
  },
  {
    title: '#22 negative retry attempts',
    spec: ['hosts: [reviews]', 'http:', ...route, '  retries: {attempts: -1}'],
    path: 'spec.http[0].retries.attempts',
    message: 'attempts cannot be negative',
  },
  {
    title: '#22 a retry policy with retries disabled',
    spec: ['hosts: [reviews]', 'http:', ...route, '  retries: {attempts: 0, retryOn: 5xx}'],
    path: 'spec.http[0].retries',
    message: 'http retry policy configured when attempts are set to 0 (disabled)',
  },
  {
    title: '#22 an unknown retryOn policy',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  retries: {attempts: 2, retryOn: "5xx,sometimes"}',
    ],
    path: 'spec.http[0].retries.retryOn',
    message: '"sometimes" is not a valid retryOn policy',
  },
  {
    title: '#22 a per-try timeout under 1ms',
    spec: ['hosts: [reviews]', 'http:', ...route, '  retries: {attempts: 2, perTryTimeout: 500us}'],
    path: 'spec.http[0].retries.perTryTimeout',
    message: 'duration must be greater than 1ms',
    at: '500us',
  },
  {
    title: '#22 a timeout finer than a millisecond',
    spec: ['hosts: [reviews]', 'http:', ...route, '  timeout: 1.5ms'],
    path: 'spec.http[0].timeout',
    message: 'only durations to ms precision are supported',
    at: '1.5ms',
  },
  {
    title: '#22 a timeout that is not a duration',
    spec: ['hosts: [reviews]', 'http:', ...route, '  timeout: soon'],
    path: 'spec.http[0].timeout',
    message: 'Invalid value: "soon": must be a duration such as 10s, 1.5s, 250ms or 1m30s',
  },
  {
    title: '#24 a gateway reference with an invalid namespace',
    spec: ['hosts: [reviews]', 'gateways: [My_NS/gw]', 'http:', ...route],
    path: 'spec.gateways[0]',
    message: 'invalid value for namespace: "My_NS"',
    at: 'My_NS',
  },
  {
    title: '#24 a gateway reference with an invalid name',
    spec: ['hosts: [reviews]', 'gateways: [istio-system/gw_1]', 'http:', ...route],
    path: 'spec.gateways[0]',
    message: 'invalid value for gateway name: "gw_1"',
  },
  {
    title: '#24 a match-level gateway reference with an empty name',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{gateways: [istio-system/]}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].gateways[0]',
    message: 'config namespace and gateway name cannot be empty',
  },
  {
    title: '#25 exportTo with * and a namespace',
    spec: ['hosts: [reviews]', 'http:', ...route, "exportTo: ['*', prod]"],
    path: 'spec.exportTo',
    message: 'cannot have both public (*) and non-public exportTo values for a resource',
  },
  {
    title: '#25 a duplicate exportTo entry',
    spec: ['hosts: [reviews]', 'http:', ...route, 'exportTo: [prod, prod]'],
    path: 'spec.exportTo[1]',
    message: 'duplicate entries in exportTo for entry prod',
  },
  {
    title: '#25 exportTo with . and the namespace itself',
    spec: ['hosts: [reviews]', 'http:', ...route, "exportTo: ['.', default]"],
    path: 'spec.exportTo[1]',
    message: 'duplicate entries in exportTo: . and current namespace default',
    at: 'default]',
  },
  {
    title: '#25 exportTo ~',
    spec: ['hosts: [reviews]', 'http:', ...route, "exportTo: ['~']"],
    path: 'spec.exportTo[0]',
    message: 'exportTo ~ (none) is not allowed for Istio configuration objects',
  },
];

/** Fields Istio has and lanes does not: errors that name the field, or "unknown field". */
const unsupportedOrUnknown: Case[] = [
  {
    title: 'a misspelt top-level field gets a did-you-mean',
    spec: ['hosts: [reviews]', 'htpp:', ...route],
    path: 'spec.htpp',
    message: 'unknown field "htpp": did you mean "http"?',
    at: 'htpp',
  },
  {
    title: 'a misspelt destination field gets a did-you-mean',
    spec: ['hosts: [reviews]', 'http:', '- route: [{destination: {host: reviews, subet: v1}}]'],
    path: 'spec.http[0].route[0].destination.subet',
    message: 'unknown field "subet": did you mean "subset"?',
    at: 'subet',
  },
  {
    title: 'mirror is a real Istio field lanes does not support',
    spec: ['hosts: [reviews]', 'http:', ...route, '  mirror: {host: reviews}'],
    path: 'spec.http[0].mirror',
    message: 'not supported by lanes yet: traffic mirroring (mirror, mirrors, mirrorPercentage)',
    at: 'mirror',
  },
  {
    title: 'mirror_percent (the snake_case alias) is named too',
    spec: ['hosts: [reviews]', 'http:', ...route, '  mirror_percent: 5'],
    path: 'spec.http[0].mirror_percent',
    message: 'not supported by lanes yet: traffic mirroring (mirror, mirrors, mirrorPercentage)',
  },
  {
    title: '#23 corsPolicy is not supported',
    spec: ['hosts: [reviews]', 'http:', ...route, '  corsPolicy: {allowOrigins: [{exact: x}]}'],
    path: 'spec.http[0].corsPolicy',
    message:
      'not supported by lanes yet: CORS policies; let the application answer CORS preflight requests',
  },
  {
    title: '#10 delegate is not supported',
    spec: ['hosts: [reviews]', 'http:', '- delegate: {name: r}'],
    path: 'spec.http[0].delegate',
    message:
      'not supported by lanes yet: delegate VirtualServices (a route handed to another VirtualService); write the rules here',
  },
  {
    title: 'tcp routes are not supported',
    spec: ['hosts: [reviews]', 'tcp: [{route: [{destination: {host: db}}]}]'],
    path: 'spec.tcp',
    message: 'not supported by lanes yet: TCP routes; lanes routes HTTP only; use http routes',
  },
  {
    title: 'tls routes are not supported',
    spec: ['hosts: [reviews]', 'tls: []'],
    path: 'spec.tls',
    message:
      'not supported by lanes yet: TLS (SNI) routes; lanes routes HTTP only; use http routes',
  },
  {
    title: '#14 exponentialDelay is not supported (by Istio either)',
    spec: ['hosts: [reviews]', 'http:', ...route, '  fault: {delay: {exponentialDelay: 1s}}'],
    path: 'spec.http[0].fault.delay.exponentialDelay',
    message:
      'not supported by lanes yet: exponentialDelay (Istio rejects it too: "exponentialDelay not supported yet"); use fixedDelay',
  },
  {
    title: '#14 grpcStatus aborts are not supported',
    spec: ['hosts: [reviews]', 'http:', ...route, '  fault: {abort: {grpcStatus: UNAVAILABLE}}'],
    path: 'spec.http[0].fault.abort.grpcStatus',
    message:
      'not supported by lanes yet: gRPC status aborts; lanes gateways and sidecars speak HTTP/1.1, so use httpStatus',
  },
  {
    title: '#14 http2Error aborts are not supported (by Istio either)',
    spec: ['hosts: [reviews]', 'http:', ...route, '  fault: {abort: {http2Error: x}}'],
    path: 'spec.http[0].fault.abort.http2Error',
    message:
      'not supported by lanes yet: HTTP/2 error aborts (Istio rejects them too: "HTTP/2 abort fault injection not supported yet"); use httpStatus',
  },
  {
    title: 'JWT claim routing on a gateway is not supported (lanes has no JWT authentication)',
    spec: [
      'hosts: [reviews]',
      'gateways: [istio-system/gw]',
      'http:',
      '- match: [{withoutHeaders: {"@request.auth.claims.group": {}}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[0].match[0].withoutHeaders["@request.auth.claims.group"]',
    message:
      'not supported by lanes yet: JWT claim based routing (key: @request.auth.claims.group) needs JWT authentication, which lanes does not have',
  },
  {
    title: 'Envoy %VARIABLE% substitution in a header value is not supported',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  headers: {response: {add: {x-host: "%HOSTNAME%"}}}',
    ],
    path: 'spec.http[0].headers.response.add.x-host',
    message:
      "not supported by lanes yet: Envoy's %VARIABLE% substitution in header values (%HOSTNAME%); write the value literally, with %% for a literal %",
  },
];

const warned: Case[] = [
  {
    title: 'a second rule without matches',
    spec: ['hosts: [reviews]', 'http:', ...route, ...route],
    path: 'spec.http[1]',
    message: 'virtualService rule #1 not used (only the last rule can have no matches)',
    severity: 'warning',
  },
  {
    title: 'a rule with matches after a rule without',
    spec: [
      'hosts: [reviews]',
      'http:',
      ...route,
      '- name: jason',
      '  match: [{headers: {end-user: {exact: jason}}}]',
      '  route:',
      '  - destination: {host: reviews}',
    ],
    path: 'spec.http[1]',
    message: 'virtualService rule "jason" not used (route without matches defined before)',
    severity: 'warning',
    at: 'name: jason',
  },
  {
    title: 'a rule whose only match repeats an earlier one',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {exact: /a}}]',
      '  route: [{destination: {host: reviews}}]',
      '- match: [{name: again, uri: {exact: /a}}]',
      '  route: [{destination: {host: reviews}}]',
    ],
    path: 'spec.http[1]',
    message: 'virtualService rule #1 not used (all matches used by prior rules)',
    severity: 'warning',
  },
  {
    title: 'a match block that repeats an earlier one',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {exact: /a}}]',
      '  route: [{destination: {host: reviews}}]',
      '- match: [{name: again, uri: {exact: /a}}]',
      '  route: [{destination: {host: reviews}}]',
    ],
    path: 'spec.http[1].match[0]',
    message:
      'virtualService rule #1 match "again" is not used (duplicate/overlapping match in rule #0)',
    severity: 'warning',
    at: '{name: again',
  },
  {
    title: 'a prefix match covered by a shorter prefix before it',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {prefix: /debug}}]',
      '  route: [{destination: {host: reviews}}]',
      '- match: [{uri: {prefix: /debugs}}]',
      '  route: [{destination: {host: reviews}}]',
    ],
    path: 'spec.http[1].match[0]',
    message:
      'virtualService rule #1 match #0 of prefix /debugs is not used (duplicate/overlapping match in rule #0 of prefix /debug on #0)',
    severity: 'warning',
  },
  {
    title: '#24 the legacy name.namespace gateway format',
    spec: ['hosts: [reviews]', 'gateways: [gw.istio-system]', 'http:', ...route],
    path: 'spec.gateways[0]',
    message:
      'using legacy gatewayName format "gw.istio-system"; prefer the <namespace>/<name> format: "istio-system/gw"',
    severity: 'warning',
    at: 'gw.istio-system',
  },
  {
    title: 'the key uri inside headers (Istio ignores it)',
    spec: [
      'hosts: [reviews]',
      'http:',
      '- match: [{headers: {uri: {exact: /a}}}]',
      '  route: [{destination: {host: reviews}}]',
    ],
    path: 'spec.http[0].match[0].headers.uri',
    message: 'ignored: Istio ignores the key uri inside headers; use match.uri',
    severity: 'ignored',
    at: '{exact: /a}',
  },
];

describe('VirtualService validation (Istio messages)', () => {
  for (const c of [...rejected, ...unsupportedOrUnknown]) {
    test(`${c.title} is rejected at ${c.path}: ${c.message}`, () => {
      const text = doc('VirtualService', c.spec);
      const { resource, issues } = parseOne(text);
      assert.equal(resource, undefined);
      assertIssue(text, issues, c);
    });
  }

  for (const c of warned) {
    test(`${c.title} is accepted with the ${c.severity} note: ${c.message}`, () => {
      const text = doc('VirtualService', c.spec);
      const { resource, issues } = parseOne(text);
      assert.deepEqual(errors(issues), []);
      assert.ok(resource);
      assertIssue(text, issues, c);
    });
  }
});

describe('VirtualService parsing', () => {
  const spec = (lines: readonly string[]): VirtualServiceSpec => {
    const { resource, issues } = parseOne(doc('VirtualService', lines));
    assert.deepEqual(errors(issues), []);
    return resource?.spec as VirtualServiceSpec;
  };

  test('a weighted split keeps hosts, weights and per-destination headers; gateways default to none', () => {
    assert.deepEqual(
      spec([
        'hosts: [reviews]',
        'http:',
        '- route:',
        '  - destination: {host: reviews, subset: v1}',
        '    weight: 80',
        '    headers: {request: {set: {version: v1}}}',
        '  - destination: {host: reviews, subset: v2, port: {number: 9080}}',
        '    weight: 20',
      ]),
      {
        hosts: ['reviews'],
        gateways: [],
        http: [
          {
            name: undefined,
            match: undefined,
            route: [
              {
                destination: { host: 'reviews', subset: 'v1' },
                weight: 80,
                headers: { request: { set: { version: 'v1' } } },
              },
              {
                destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } },
                weight: 20,
              },
            ],
            redirect: undefined,
            directResponse: undefined,
            rewrite: undefined,
            timeout: undefined,
            retries: undefined,
            fault: undefined,
            headers: undefined,
          },
        ],
        exportTo: undefined,
      },
    );
  });

  test('durations become milliseconds (timeout, perTryTimeout, backoff, fixedDelay)', () => {
    const [http] = spec([
      'hosts: [reviews]',
      'http:',
      ...route,
      '  timeout: 1m30s',
      '  retries: {attempts: 3, perTryTimeout: 1.5s, backoff: 25ms, retryOn: "503,reset"}',
      '  fault: {delay: {fixedDelay: 7s, percentage: {value: 100}}}',
    ]).http;
    assert.equal(http?.timeout, 90_000);
    assert.deepEqual(http?.retries, {
      attempts: 3,
      perTryTimeout: 1500,
      backoff: 25,
      retryOn: '503,reset',
    });
    assert.deepEqual(http?.fault, { delay: { fixedDelay: 7000, percentage: { value: 100 } } });
  });

  test('the deprecated fault percent stands in for percentage, with a warning', () => {
    const text = doc('VirtualService', [
      'hosts: [reviews]',
      'http:',
      ...route,
      '  fault: {delay: {fixedDelay: 2s, percent: 30}}',
    ]);
    const { resource, issues } = parseOne(text);
    assert.deepEqual((resource?.spec as VirtualServiceSpec | undefined)?.http[0]?.fault, {
      delay: { fixedDelay: 2000, percentage: { value: 30 } },
    });
    assertIssue(text, issues, {
      path: 'spec.http[0].fault.delay.percent',
      message: 'percent is deprecated; use percentage: {value: …}',
      severity: 'warning',
    });
  });

  test('the legacy gateway name gw.ns becomes ns/gw; mesh and ns/name stay', () => {
    assert.deepEqual(
      spec(['hosts: [reviews]', 'gateways: [gw.prod, mesh, a/b, c]', 'http:', ...route]).gateways,
      ['prod/gw', 'mesh', 'a/b', 'c'],
    );
  });

  test('host * is accepted on a VirtualService bound to gateways only', () => {
    assert.deepEqual(spec(["hosts: ['*']", 'gateways: [gw]', 'http:', ...route]).hosts, ['*']);
  });

  test('an empty uri prefix, an empty header match (presence) and withoutHeaders regex * are accepted', () => {
    const [http] = spec([
      'hosts: [reviews]',
      'http:',
      '- match: [{uri: {prefix: ""}, headers: {x-a: {}}, withoutHeaders: {x-b: {regex: "*"}}, port: 0}]',
      '  route: [{destination: {host: reviews}}]',
    ]).http;
    const m = http?.match?.[0];
    assert.deepEqual(m?.uri, { prefix: '' });
    assert.deepEqual(m?.headers, { 'x-a': {} });
    assert.deepEqual(m?.withoutHeaders, { 'x-b': { regex: '*' } });
    assert.equal(m?.port, undefined);
  });

  test('%% in a header value is Envoy’s literal %', () => {
    const [http] = spec([
      'hosts: [reviews]',
      'http:',
      ...route,
      '  headers: {response: {set: {x-load: "100%%"}}}',
    ]).http;
    assert.deepEqual(http?.headers, { response: { set: { 'x-load': '100%' } } });
  });

  test('a redirect keeps what is set; zero code and port mean unset', () => {
    const [http] = spec([
      'hosts: [reviews]',
      'http:',
      '- redirect: {uri: /new, redirectCode: 0, port: 0, authority: a.example.com}',
    ]).http;
    assert.deepEqual(http?.redirect, {
      uri: '/new',
      prefixRewrite: undefined,
      authority: 'a.example.com',
      scheme: undefined,
      port: undefined,
      derivePort: undefined,
      redirectCode: undefined,
    });
  });

  test('Istio accepts an IP address as a host', () => {
    assert.deepEqual(spec(['hosts: [10.0.0.1]', 'gateways: [gw]', 'http:', ...route]).hosts, [
      '10.0.0.1',
    ]);
  });

  test('apiVersions v1beta1 and v1alpha3 are accepted too', () => {
    for (const version of ['v1beta1', 'v1alpha3']) {
      const text = doc('VirtualService', ['hosts: [reviews]', 'http:', ...route]).replace(
        'networking.istio.io/v1',
        `networking.istio.io/${version}`,
      );
      assert.ok(parseOne(text).resource, version);
    }
  });
});
