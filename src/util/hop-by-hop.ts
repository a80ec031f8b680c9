/**
 * Fields no proxy forwards (RFC 9110 §7.6.1): Connection and the connection-specific fields, and
 * every `Proxy-*` field. Plus two that lanes' proxy replaces on every hop: Content-Length (it
 * frames each message itself) and Expect (it answers 100-continue itself). The proxy drops them,
 * and the config refuses them as lane headers, since a tag in one would not survive a hop.
 */
const HOP_BY_HOP_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

/** Whether the proxy drops this field (a lower-case name) instead of forwarding it. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_FIELDS.has(name) || name.startsWith('proxy-');
}
