/**
 * Which request-target form a method may use (RFC 9112 §3.2). The scanner already rejected
 * CTLs, SP, non-ASCII, "#" and a backslash in the path; this checks the form:
 * - origin-form "/path?query" for every method but CONNECT;
 * - absolute-form for every method but CONNECT: only http:// and https:// (what an http_proxy
 *   client sends), with a valid authority and no userinfo (RFC 9110 §4.2.4: a recipient SHOULD
 *   treat userinfo as an error; it is a phishing and confusion vector);
 * - authority-form "host:port" for CONNECT only (RFC 9112 §3.2.3);
 * - asterisk-form "*" for OPTIONS only (RFC 9112 §3.2.4).
 */
import { hostProblem } from './host.ts';

export function targetProblem(method: string, target: string): string | undefined {
  if (method === 'CONNECT') {
    const problem = hostProblem(target, true);
    return problem === undefined
      ? undefined
      : `CONNECT needs an authority-form target host:port (RFC 9112 §3.2.3): ${problem}`;
  }
  const first = target.charCodeAt(0);
  if (first === 0x2f) return undefined;
  if (target === '*') {
    return method === 'OPTIONS'
      ? undefined
      : `asterisk-form target "*" is only for OPTIONS, not ${method} (RFC 9112 §3.2.4)`;
  }
  return absoluteFormProblem(target);
}

export interface AbsoluteTarget {
  /** Lower-cased: schemes are case-insensitive (RFC 3986 §3.1). */
  readonly scheme: 'http' | 'https';
  readonly authority: string;
  /** Never empty: "/" when the target has no path, "/?q" when it has only a query. */
  readonly pathAndQuery: string;
}

/**
 * The parts of an http(s) absolute-form target, or undefined when it is not one. The authority
 * ends at the first "/" or "?" (RFC 3986 §3.2). The one place that splits such a target: the
 * parser checks its parts, the proxy routes on them.
 */
export function splitAbsoluteForm(target: string): AbsoluteTarget | undefined {
  const colon = target.indexOf(':');
  const scheme = colon > 0 ? target.slice(0, colon).toLowerCase() : '';
  if ((scheme !== 'http' && scheme !== 'https') || !target.startsWith('//', colon + 1))
    return undefined;
  const start = colon + 3;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break;
    end++;
  }
  const rest = target.slice(end);
  return {
    scheme,
    authority: target.slice(start, end),
    pathAndQuery: rest === '' ? '/' : rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest,
  };
}

function absoluteFormProblem(target: string): string | undefined {
  const abs = splitAbsoluteForm(target);
  if (abs === undefined) {
    return /^https?:/i.test(target)
      ? `absolute-form target without "//" authority: ${JSON.stringify(target.slice(0, 64))}`
      : `request-target ${JSON.stringify(target.slice(0, 64))} is neither origin-form ("/…") nor an http(s) absolute-form`;
  }
  const authority = abs.authority;
  if (authority.includes('@')) {
    return `userinfo ("@") in an absolute-form target (RFC 9110 §4.2.4): ${JSON.stringify(authority)}`;
  }
  const problem = hostProblem(authority, false);
  return problem === undefined ? undefined : `absolute-form target: ${problem}`;
}
