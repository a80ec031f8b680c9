/**
 * Istio's protocol selection for a Service port (istio.io "Protocol Selection"): `appProtocol`
 * when set, else the port name, `<protocol>` or `<protocol>-<suffix>`. lanes needs only one
 * distinction from it: ports that speak HTTP/2 (`http2`, `grpc`, `grpc-web`, and `h2c` /
 * `kubernetes.io/h2c`) get h2c from the proxy; everything else gets HTTP/1.1.
 */
import type { PortProtocol } from './table.ts';

const HTTP2_PROTOCOLS: ReadonlySet<string> = new Set([
  'http2',
  'grpc',
  'grpc-web',
  'h2c',
  'kubernetes.io/h2c',
]);

export function portProtocol(
  name: string | undefined,
  appProtocol: string | undefined,
): PortProtocol {
  if (appProtocol !== undefined)
    return HTTP2_PROTOCOLS.has(appProtocol.toLowerCase()) ? 'http2' : 'http';
  if (name === undefined) return 'http';
  const lower = name.toLowerCase();
  // `grpc-web` names a protocol of its own; any other `x-suffix` is protocol `x`.
  const dash = lower.startsWith('grpc-web') ? 8 : lower.indexOf('-');
  const protocol = dash < 0 ? lower : lower.slice(0, dash);
  return HTTP2_PROTOCOLS.has(protocol) ? 'http2' : 'http';
}
