/**
 * Istio `Gateway` (networking.istio.io v1 / v1beta1 / v1alpha3): the HTTP servers of an ingress
 * gateway (istio-semantics.md §1.8), with ValidateGateway's checks. A lanes gateway listener serves
 * HTTP/1.1 and HTTP/2 (h2c, which gRPC uses) on one port, so HTTP, HTTP2 and GRPC servers are
 * the same to it; other protocols and TLS settings are errors that say so.
 */
import {
  ignored,
  list,
  obj,
  record,
  required,
  type Schema,
  str,
  unsupported,
} from '../../schema/dsl.ts';
import { defineKind } from '../kind.ts';
import { portMessage, uint32 } from './common.ts';
import { isIpAddress, validateGatewayServerHost } from './istio-names.ts';
import type { GatewayServer, GatewaySpec } from './types.ts';

// A DNS-1123 label: at most 63 characters, no dots.
const GATEWAY_NAME = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// protocol.Parse: case-insensitive names Istio knows.
const KNOWN_PROTOCOLS = new Set([
  'tcp',
  'udp',
  'grpc',
  'grpc-web',
  'http',
  'http_proxy',
  'http2',
  'https',
  'tls',
  'mongo',
  'redis',
  'mysql',
]);

/** One listener takes HTTP/1.1 and h2c (preface detection): all three are served alike. */
const SERVED = new Set(['http', 'http2', 'grpc']);

const portSchema = obj({
  number: required(uint32()),
  protocol: required(str()),
  name: required(str()),
  targetPort: uint32().check((port, c) => {
    if (port > 0) c.error('targetPort has no impact on Gateways');
    else c.ignored('ignored: targetPort has no meaning for a gateway');
  }),
})
  .check((p, c) => {
    const protocol = p.protocol.toLowerCase();
    if (!KNOWN_PROTOCOLS.has(protocol)) {
      c.error(
        `invalid protocol ${JSON.stringify(p.protocol)}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`,
        'protocol',
      );
    } else if (!SERVED.has(protocol)) {
      c.error(
        `not supported by lanes yet: lanes gateways serve plaintext HTTP/1.1, HTTP/2 and gRPC (protocol ${p.protocol}); use protocol: HTTP, HTTP2 or GRPC`,
        'protocol',
      );
    }
    const portError = portMessage(p.number);
    if (portError) c.error(portError, 'number');
    if (p.name === '') c.error('port name must be set', 'name');
  })
  .map((p) => ({ number: p.number, protocol: 'HTTP', name: p.name }));

const serverSchema: Schema<GatewayServer> = obj({
  port: required(portSchema),
  hosts: required(list(str())),
  name: str(),
  bind: ignored(
    'lanes gateways listen on loopback ports of their own (see lanes status)',
    str().check((bind, c) => {
      if (bind.startsWith('unix://')) {
        const path = bind.slice('unix://'.length);
        if (path === '') c.error('unix address must not be empty');
        else if (!path.startsWith('@') && (!path.startsWith('/') || path.endsWith('/'))) {
          c.error(`${path} is not an absolute path to a file`);
        }
      } else if (bind !== '' && !isIpAddress(bind)) {
        c.error(`${bind} is not a valid IP`);
      }
    }),
  ),
  tls: unsupported(
    'TLS on gateway servers (HTTPS, tls.httpsRedirect); lanes gateways serve plaintext HTTP/1.1 and h2c',
  ),
  defaultEndpoint: unsupported('defaultEndpoint; a lanes gateway routes through VirtualServices'),
}).check((s, c) => {
  if (s.hosts.length === 0) c.error('server config must contain at least one host', 'hosts');
  s.hosts.forEach((host, i) => {
    for (const message of validateGatewayServerHost(host)) c.error(message, 'hosts', i);
  });
});

const spec: Schema<GatewaySpec> = obj({
  selector: record(str()),
  servers: list(serverSchema),
})
  .check((g, c) => {
    const servers = g.servers ?? [];
    if (servers.length === 0) c.error('gateway must have at least one server', 'servers');
    const names = new Set<string>();
    servers.forEach((s, i) => {
      if (names.has(s.port.name)) {
        c.error(
          `port names in servers must be unique: duplicate name ${s.port.name}`,
          'servers',
          i,
          'port',
          'name',
        );
      }
      names.add(s.port.name);
    });
  })
  .map((g) => ({ selector: g.selector ?? {}, servers: g.servers ?? [] }));

export const gatewayKind = defineKind<GatewaySpec>({
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  kind: 'Gateway',
  scope: 'Namespaced',
  placement: 'cluster',
  spec,
  specRequired: true,
  // ValidateGateway: the name is used in `ns/name` references, so no dots.
  namePattern: {
    pattern: GATEWAY_NAME,
    hint: "invalid gateway name: a Gateway name must be a DNS-1123 label (lower-case letters, digits and '-', no dots)",
  },
});
