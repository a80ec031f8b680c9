/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2–3.2.3), also the authority of an
 * absolute-form target and the authority-form target of CONNECT. Stricter than RFC 3986 where
 * the looser grammar only adds ambiguity for a proxy that routes by host:
 * - empty host: rejected. RFC 9112 §3.2 allows an empty Host for URIs without an authority, but
 *   an http(s) URI with an empty host is invalid (RFC 9110 §4.2.1) and cannot be routed;
 * - reg-name: unreserved and pct-encoded only. RFC 3986 also allows sub-delims ("!$&'()*+,;="),
 *   which no DNS name contains and which make "a,b" look like a list of hosts;
 * - IP-literal: "[" IPv6 hex digits, ":" and "." "]"; no IPvFuture, no zone id;
 * - port: 1–5 digits, at most 65535. RFC 3986 allows an empty port ("host:"); we do not, so
 *   "host:" and "host" cannot be told apart differently by two hops.
 */

const REG_NAME = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x7e;
    t[c] = ok ? 1 : 0;
  }
  return t;
})();

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Why `v` is not `uri-host [":" port]` (port required when `needPort`), or undefined. */
export function hostProblem(v: string, needPort: boolean): string | undefined {
  const n = v.length;
  if (n === 0) return 'empty host';
  let k = 0;
  if (v.charCodeAt(0) === 0x5b) {
    k = 1;
    while (k < n) {
      const c = v.charCodeAt(k);
      if (!(isHex(c) || c === 0x3a || c === 0x2e)) break;
      k++;
    }
    if (k === 1 || k >= n || v.charCodeAt(k) !== 0x5d)
      return `invalid IP literal in host ${JSON.stringify(v)}`;
    k++;
  } else {
    while (k < n) {
      const c = v.charCodeAt(k);
      if (c < 128 && REG_NAME[c] === 1) {
        k++;
      } else if (
        c === 0x25 &&
        k + 2 < n &&
        isHex(v.charCodeAt(k + 1)) &&
        isHex(v.charCodeAt(k + 2))
      ) {
        k += 3;
      } else {
        break;
      }
    }
    if (k === 0) return `host ${JSON.stringify(v)} has an empty name`;
  }
  if (k === n) return needPort ? `authority ${JSON.stringify(v)} has no port` : undefined;
  const c = v.charCodeAt(k);
  if (c !== 0x3a) {
    if (c === 0x40) return `userinfo ("@") in host ${JSON.stringify(v)}`;
    if (c === 0x2f || c === 0x3f) return `host ${JSON.stringify(v)} contains a path or query`;
    return `invalid character ${JSON.stringify(v[k])} in host ${JSON.stringify(v)}`;
  }
  const digits = n - k - 1;
  if (digits < 1 || digits > 5) return `invalid port in host ${JSON.stringify(v)}`;
  let port = 0;
  for (let j = k + 1; j < n; j++) {
    const d = v.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) return `invalid port in host ${JSON.stringify(v)}`;
    port = port * 10 + d;
  }
  return port > 65535 ? `port out of range in host ${JSON.stringify(v)}` : undefined;
}
