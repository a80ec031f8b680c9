/**
 * Host matching, Istio style: exact hosts, `*.suffix` wildcards (longest suffix wins) and `*`.
 * Used for gateway virtual hosts and for mesh VirtualServices on external hosts.
 */
import { newDict } from './dict.ts';
import type { HostTable, VirtualHost } from './table.ts';

/** `Host` header → host name: no port, lower case, no trailing dot. */
export function hostOnly(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(0, end + 1) : host;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** The port in an authority, if it has one. */
export function portOf(authority: string): number | undefined {
  const m = /:(\d{1,5})$/.exec(authority);
  return m ? Number(m[1]) : undefined;
}

/** Whether `pattern` (`*`, `*.example.com` or exact) covers the host name. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.'))
    return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Whether two host patterns can match a common host (a VirtualService host vs a server host). */
export function hostsIntersect(a: string, b: string): boolean {
  if (a === '*' || b === '*') return true;
  if (a.startsWith('*.') && b.startsWith('*.'))
    return a.endsWith(b.slice(1)) || b.endsWith(a.slice(1));
  if (a.startsWith('*.')) return hostMatches(a, b);
  if (b.startsWith('*.')) return hostMatches(b, a);
  return a === b;
}

export class HostTableBuilder {
  readonly #hosts = new Map<string, VirtualHost>();

  get(host: string): VirtualHost | undefined {
    return this.#hosts.get(host);
  }

  set(host: string, vhost: VirtualHost): void {
    this.#hosts.set(host, vhost);
  }

  hosts(): IterableIterator<string> {
    return this.#hosts.keys();
  }

  build(): HostTable {
    const exact = newDict<VirtualHost>();
    const wildcards: { suffix: string; vhost: VirtualHost }[] = [];
    let any: VirtualHost | undefined;
    for (const [host, vhost] of this.#hosts) {
      if (host === '*') any = vhost;
      else if (host.startsWith('*.')) wildcards.push({ suffix: host.slice(1), vhost });
      else exact[host] = vhost;
    }
    wildcards.sort((a, b) => b.suffix.length - a.suffix.length || (a.suffix < b.suffix ? -1 : 1));
    return { exact, wildcards, any };
  }
}

export function lookupHost(table: HostTable, host: string): VirtualHost | undefined {
  const exact = table.exact[host];
  if (exact) return exact;
  for (const w of table.wildcards) if (host.endsWith(w.suffix)) return w.vhost;
  return table.any;
}
