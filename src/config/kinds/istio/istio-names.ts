/**
 * Istio's name and host rules, ported from istio/istio (pkg/config/labels, pkg/config/host,
 * pkg/config/validation/agent). Each function returns Istio's own error text, or undefined when
 * the value is valid, so schemas can put the message after the field path unchanged.
 */
import { isIP } from 'node:net';

// Istio's DNS-1123 label allows upper case (labels.go `dns1123LabelFmt`), unlike Kubernetes'.
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const DNS_PREFIX =
  '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)*/';
const TAG_KEY = new RegExp(`^(${DNS_PREFIX})?(${QUALIFIED_NAME})$`);
const TAG_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

function isWildcardDns1123Label(value: string): boolean {
  return value.length <= 63 && WILDCARD_LABEL.test(value);
}

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

function dnsPreconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  // Go's strconv.Atoi: optional sign, then digits only.
  if (/^[+-]?\d+$/.test(tld)) {
    return `domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`;
  }
  for (const [i, label] of parts.entries()) {
    // A trailing dot (`istio.io.`) is allowed.
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label)) {
      return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(label)} invalid)`;
    }
  }
  return undefined;
}

/** agent.ValidateFQDN. */
export function validateFqdn(fqdn: string): string | undefined {
  return dnsPreconditions(fqdn) ?? dns1123Labels(fqdn);
}

/** agent.ValidateWildcardDomain: an FQDN whose first label may be a wildcard (`*.example.com`). */
export function validateWildcardDomain(domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) {
    return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  }
  return dot < 0 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

/** host.Name.Matches: equal, or one wildcard host covers the other (`*` covers everything). */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) {
    return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  }
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** agent.ValidatePartialWildCard. */
function partialWildcard(host: string): string | undefined {
  return host.includes('*') && host.length !== 1 && !host.startsWith('*.')
    ? `partial wildcard ${JSON.stringify(host)} not allowed`
    : undefined;
}

/** agent.ValidateNamespaceSlashWildcardHostname for a Gateway server host (`[ns/]dnsName`). */
export function validateGatewayServerHost(hostname: string): string[] {
  const slash = hostname.indexOf('/');
  const errors: string[] = [];
  let host = hostname;
  if (slash >= 0) {
    const ns = hostname.slice(0, slash);
    host = hostname.slice(slash + 1);
    if (ns === '' || host === '') {
      errors.push('config namespace and dnsName in host entry cannot be empty');
    }
    if (ns !== '*' && ns !== '.' && !isDns1123Label(ns)) {
      errors.push(`invalid namespace value ${JSON.stringify(ns)} in gateway`);
    }
  }
  if (host !== '*' && !host.includes('.')) errors.push('short names (non FQDN) are not allowed');
  const domainError = validateWildcardDomain(host);
  // A gateway host may also be an IP address.
  if (domainError && !isIpAddress(host)) errors.push(domainError);
  const partial = partialWildcard(host);
  if (partial) errors.push(partial);
  return errors;
}

/** labels.Instance.Validate, for one key. */
export function validateTagKey(key: string): string | undefined {
  const m = TAG_KEY.exec(key);
  if (!m) return `invalid tag key: ${JSON.stringify(key)}`;
  if ((m[1]?.length ?? 0) - 1 > 253) {
    return `invalid tag key: ${JSON.stringify(key)} (DNS prefix is too long)`;
  }
  if ((m[2]?.length ?? 0) > 63) return `invalid tag key: ${JSON.stringify(key)} (name is too long)`;
  return undefined;
}

export function validateTagValue(value: string): string | undefined {
  return TAG_VALUE.test(value) ? undefined : `invalid tag value: ${JSON.stringify(value)}`;
}

/** Go's `%v` for a float64: shortest form, exponent below 1e-4 and from 1e21 (`1e-05`). */
export function goFloat(n: number): string {
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}
