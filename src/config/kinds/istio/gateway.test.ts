import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertIssue, doc, type Expected, errors, parseOne } from './test-support.ts';
import type { GatewaySpec } from './types.ts';

interface Case extends Expected {
  readonly title: string;
  readonly spec: readonly string[];
  readonly name?: string;
}

const server = (port: string, hosts = "['*']"): string[] => [
  `- port: ${port}`,
  `  hosts: ${hosts}`,
];
const http80 = '{number: 80, name: http, protocol: HTTP}';

/** §1.9 #32, and the protocols and TLS settings lanes gateways do not serve. */
const rejected: Case[] = [
  {
    title: 'a gateway without servers',
    spec: ['selector: {istio: ingressgateway}', 'servers: []'],
    path: 'spec.servers',
    message: 'gateway must have at least one server',
    at: '[]',
  },
  {
    title: 'a gateway whose servers field is missing',
    spec: ['selector: {istio: ingressgateway}'],
    path: 'spec.servers',
    message: 'gateway must have at least one server',
    at: 'selector',
  },
  {
    title: 'a server without hosts',
    spec: ['servers:', ...server(http80, '[]')],
    path: 'spec.servers[0].hosts',
    message: 'server config must contain at least one host',
  },
  {
    title: 'two servers with one port name',
    spec: ['servers:', ...server(http80), ...server('{number: 8080, name: http, protocol: HTTP}')],
    path: 'spec.servers[1].port.name',
    message: 'port names in servers must be unique: duplicate name http',
  },
  {
    title: 'an empty port name',
    spec: ['servers:', ...server('{number: 80, name: "", protocol: HTTP}')],
    path: 'spec.servers[0].port.name',
    message: 'port name must be set',
    at: '""',
  },
  {
    title: 'a port without a name (the CRD requires it)',
    spec: ['servers:', ...server('{number: 80, protocol: HTTP}')],
    path: 'spec.servers[0].port.name',
    message: 'Required value',
    at: '{number: 80',
  },
  {
    title: 'an unknown protocol',
    spec: ['servers:', ...server('{number: 80, name: http, protocol: SPDY}')],
    path: 'spec.servers[0].port.protocol',
    message:
      'invalid protocol "SPDY", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP',
    at: 'SPDY',
  },
  ...['HTTPS', 'GRPC-WEB', 'TCP', 'TLS', 'MONGO'].map(
    (protocol): Case => ({
      title: `protocol ${protocol}`,
      spec: ['servers:', ...server(`{number: 443, name: p, protocol: ${protocol}}`)],
      path: 'spec.servers[0].port.protocol',
      message: `not supported by lanes yet: lanes gateways serve plaintext HTTP/1.1, HTTP/2 and gRPC (protocol ${protocol}); use protocol: HTTP, HTTP2 or GRPC`,
      at: protocol,
    }),
  ),
  {
    title: 'a port number out of range',
    spec: ['servers:', ...server('{number: 0, name: http, protocol: HTTP}')],
    path: 'spec.servers[0].port.number',
    message: 'port number 0 must be in the range 1..65535',
  },
  {
    title: 'a targetPort',
    spec: ['servers:', ...server('{number: 80, name: http, protocol: HTTP, targetPort: 8080}')],
    path: 'spec.servers[0].port.targetPort',
    message: 'targetPort has no impact on Gateways',
    at: '8080',
  },
  {
    title: 'a short host name',
    spec: ['servers:', ...server(http80, '[bookinfo]')],
    path: 'spec.servers[0].hosts[0]',
    message: 'short names (non FQDN) are not allowed',
    at: 'bookinfo]',
  },
  {
    title: 'a partial wildcard host',
    spec: ['servers:', ...server(http80, "['a*.example.com']")],
    path: 'spec.servers[0].hosts[0]',
    message: 'partial wildcard "a*.example.com" not allowed',
  },
  {
    title: 'a host with an invalid namespace',
    spec: ['servers:', ...server(http80, "['Prod_1/*.example.com']")],
    path: 'spec.servers[0].hosts[0]',
    message: 'invalid namespace value "Prod_1" in gateway',
  },
  {
    title: 'server TLS settings (including httpsRedirect)',
    spec: ['servers:', ...server(http80), '  tls: {httpsRedirect: true}'],
    path: 'spec.servers[0].tls',
    message:
      'not supported by lanes yet: TLS on gateway servers (HTTPS, tls.httpsRedirect); lanes gateways serve plaintext HTTP/1.1 and h2c',
    at: 'tls',
  },
  {
    title: 'defaultEndpoint',
    spec: ['servers:', ...server(http80), '  defaultEndpoint: 127.0.0.1:8080'],
    path: 'spec.servers[0].defaultEndpoint',
    message:
      'not supported by lanes yet: defaultEndpoint; a lanes gateway routes through VirtualServices',
  },
  {
    title: 'a bind address that is not an IP',
    spec: ['servers:', ...server(http80), '  bind: localhost'],
    path: 'spec.servers[0].bind',
    message: 'localhost is not a valid IP',
  },
  {
    title: 'a misspelt server field gets a did-you-mean',
    spec: ['servers:', ...server(http80), '  nmae: web'],
    path: 'spec.servers[0].nmae',
    message: 'unknown field "nmae": did you mean "name"?',
    at: 'nmae',
  },
  {
    title: 'a gateway name with a dot',
    name: 'my.gateway',
    spec: ['servers:', ...server(http80)],
    path: 'metadata.name',
    message:
      'Invalid value: "my.gateway": invalid gateway name: a Gateway name must be a DNS-1123 label (lower-case letters, digits and \'-\', no dots)',
    at: 'my.gateway',
  },
];

describe('Gateway validation (Istio messages)', () => {
  for (const c of rejected) {
    test(`${c.title} is rejected at ${c.path}: ${c.message}`, () => {
      const text = doc('Gateway', c.spec, c.name);
      const { resource, issues } = parseOne(text);
      assert.equal(resource, undefined);
      assertIssue(text, issues, c);
    });
  }

  test('bind is accepted and reported as ignored', () => {
    const text = doc('Gateway', ['servers:', ...server(http80), '  bind: 0.0.0.0']);
    const { resource, issues } = parseOne(text);
    assert.ok(resource);
    assertIssue(text, issues, {
      path: 'spec.servers[0].bind',
      message: 'ignored: lanes gateways listen on loopback ports of their own (see lanes status)',
      severity: 'ignored',
      at: 'bind',
    });
  });

  test('targetPort 0 is accepted and reported as ignored', () => {
    const text = doc('Gateway', [
      'servers:',
      ...server('{number: 80, name: http, protocol: HTTP, targetPort: 0}'),
    ]);
    const { resource, issues } = parseOne(text);
    assert.ok(resource);
    assertIssue(text, issues, {
      path: 'spec.servers[0].port.targetPort',
      message: 'ignored: targetPort has no meaning for a gateway',
      severity: 'ignored',
    });
  });
});

describe('Gateway parsing', () => {
  test('a gateway keeps selector, servers and hosts; protocol is normalised to HTTP', () => {
    const text = doc('Gateway', [
      'selector: {istio: ingressgateway}',
      'servers:',
      '- port: {number: 8080, name: web, protocol: http}',
      "  hosts: ['*.example.com', 'prod/app.example.com', 10.0.0.1]",
      '  name: main',
    ]);
    const { resource, issues } = parseOne(text);
    assert.deepEqual(errors(issues), []);
    assert.deepEqual(resource?.spec as GatewaySpec, {
      selector: { istio: 'ingressgateway' },
      servers: [
        {
          port: { number: 8080, protocol: 'HTTP', name: 'web' },
          hosts: ['*.example.com', 'prod/app.example.com', '10.0.0.1'],
          name: 'main',
        },
      ],
    });
  });

  test('a gateway without selector selects nothing in particular ({})', () => {
    const { resource } = parseOne(doc('Gateway', ['servers:', ...server(http80)]));
    assert.deepEqual((resource?.spec as GatewaySpec | undefined)?.selector, {});
  });

  test('a gateway is placed in the cluster it is applied to', () => {
    const { resource } = parseOne(doc('Gateway', ['servers:', ...server(http80)]));
    assert.equal(resource?.id.cluster, 'default');
  });
});
