/**
 * The `istioctl analyze` rules that apply offline to rendered objects, re-implemented (istioctl
 * cannot run here): IST0109 one VirtualService per host for mesh traffic, IST0101 referenced
 * hosts, subsets and gateways exist, IST0130 no route after a catch-all, IST0131 no match block
 * repeated, IST0122 regexes are RE2, IST0112 a port for multi-port destinations.
 * Source: istio/istio pkg/config/analysis/msg/messages.yaml.
 */

import { parseServiceHost, serviceKey } from '../../../config/resource/service-ref.ts';
import { compileFullMatch } from '../../../config/schema/regex.ts';
import type { IstioObject } from './objects.ts';

export interface AnalyzerMessage {
  readonly code: 'IST0101' | 'IST0109' | 'IST0112' | 'IST0122' | 'IST0130' | 'IST0131';
  readonly level: 'Error' | 'Warning';
  /** `Kind namespace/name`. */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

export interface KnownServices {
  /** `namespace/name` → its declared ports (empty when unknown). */
  readonly ports: ReadonlyMap<string, readonly number[]>;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function label(o: IstioObject): string {
  return `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
}

function gatewayKey(ref: string, namespace: string): string {
  return ref === 'mesh' || ref.includes('/') ? ref : `${namespace}/${ref}`;
}

/** Resolved host: `namespace/name` for cluster services, the host itself otherwise. */
function hostKey(host: string, namespace: string): string {
  const ref = parseServiceHost(host, namespace);
  return ref ? serviceKey(ref) : host.toLowerCase();
}

function exportedTo(vs: IstioObject): ReadonlySet<string> | undefined {
  const e = list(vs.spec.exportTo) as string[];
  if (e.length === 0 || e.includes('*')) return undefined;
  return new Set(e.map((n) => (n === '.' ? vs.metadata.namespace : n)));
}

function overlaps(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

export function analyzeIstio(
  objects: readonly IstioObject[],
  known: KnownServices,
): AnalyzerMessage[] {
  const out: AnalyzerMessage[] = [];
  const gateways = new Set(
    objects
      .filter((o) => o.kind === 'Gateway')
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
  );
  const subsets = new Map<string, Set<string>>();
  for (const dr of objects.filter((o) => o.kind === 'DestinationRule')) {
    const key = hostKey(String(dr.spec.host), dr.metadata.namespace);
    const names = subsets.get(key) ?? new Set<string>();
    for (const s of list(dr.spec.subsets)) names.add(String(obj(s).name));
    subsets.set(key, names);
  }

  const meshHosts = new Map<string, IstioObject[]>();
  for (const vs of objects.filter((o) => o.kind === 'VirtualService')) {
    const ns = vs.metadata.namespace;
    const top = (list(vs.spec.gateways) as string[]).map((g) => gatewayKey(g, ns));
    const bindings = top.length === 0 ? ['mesh'] : top;
    if (bindings.includes('mesh')) {
      for (const h of list(vs.spec.hosts) as string[]) {
        const k = hostKey(h, ns);
        const others = meshHosts.get(k) ?? [];
        for (const other of others) {
          if (overlaps(exportedTo(other), exportedTo(vs))) {
            out.push({
              code: 'IST0109',
              level: 'Error',
              object: label(vs),
              path: 'spec.hosts',
              message: `${label(other)} and ${label(vs)} both route host ${k} for mesh traffic; Istio takes one`,
            });
          }
        }
        meshHosts.set(k, [...others, vs]);
      }
    }
    for (const [i, g] of top.entries()) {
      if (g !== 'mesh' && !gateways.has(g))
        out.push({
          code: 'IST0101',
          level: 'Error',
          object: label(vs),
          path: `spec.gateways[${i}]`,
          message: `gateway ${g} is not among the objects`,
        });
    }
    // Per binding, the routes seen so far that catch everything, and the blocks seen.
    const caught = new Set<string>();
    const seenBlocks = new Set<string>();
    list(vs.spec.http).forEach((raw, i) => {
      const route = obj(raw);
      const blocks = list(route.match).map(obj);
      const forms = blocks.length === 0 ? [{}] : blocks;
      const routeBindings = new Set<string>();
      let catchAll: string[] = [];
      forms.forEach((b, j) => {
        const bb = b.gateways
          ? (list(b.gateways) as string[]).map((g) => gatewayKey(g, ns))
          : bindings;
        for (const x of bb) routeBindings.add(x);
        const { gateways: _g, name: _n, ...conditions } = b;
        if (Object.keys(conditions).length === 0) catchAll = [...catchAll, ...bb];
        const key = `${bb.join(',')}|${JSON.stringify(conditions)}`;
        if (blocks.length > 0 && seenBlocks.has(key)) {
          out.push({
            code: 'IST0131',
            level: 'Warning',
            object: label(vs),
            path: `spec.http[${i}].match[${j}]`,
            message: 'this match block repeats an earlier one, so it never matches',
          });
        }
        seenBlocks.add(key);
        checkRegexes(b, `spec.http[${i}].match[${j}]`, vs, out);
      });
      if ([...routeBindings].every((b) => caught.has(b))) {
        out.push({
          code: 'IST0130',
          level: 'Error',
          object: label(vs),
          path: `spec.http[${i}]`,
          message:
            'an earlier route of this VirtualService matches every request, so this one is unreachable',
        });
      }
      for (const b of catchAll) caught.add(b);
      list(route.route).forEach((d, j) => {
        const dest = obj(obj(d).destination);
        const host = String(dest.host);
        const k = hostKey(host, ns);
        const service = parseServiceHost(host, ns);
        const path = `spec.http[${i}].route[${j}].destination`;
        if (service && !known.ports.has(k)) {
          out.push({
            code: 'IST0101',
            level: 'Error',
            object: label(vs),
            path: `${path}.host`,
            message: `host ${host} is not a known service`,
          });
        }
        if (typeof dest.subset === 'string' && !subsets.get(k)?.has(dest.subset)) {
          out.push({
            code: 'IST0101',
            level: 'Error',
            object: label(vs),
            path: `${path}.subset`,
            message: `subset ${dest.subset} of ${k} is in no DestinationRule`,
          });
        }
        if (dest.port === undefined && (known.ports.get(k)?.length ?? 0) > 1) {
          out.push({
            code: 'IST0112',
            level: 'Warning',
            object: label(vs),
            path,
            message: `${k} has several ports; name one`,
          });
        }
      });
    });
  }
  return out;
}

function checkRegexes(block: Obj, path: string, vs: IstioObject, out: AnalyzerMessage[]): void {
  const check = (m: unknown, at: string) => {
    const regex = obj(m).regex;
    if (typeof regex !== 'string') return;
    const compiled = compileFullMatch(regex);
    if (!compiled.ok)
      out.push({
        code: 'IST0122',
        level: 'Error',
        object: label(vs),
        path: at,
        message: `${JSON.stringify(regex)}: ${compiled.message}`,
      });
  };
  for (const field of ['uri', 'method', 'authority', 'scheme'])
    check(block[field], `${path}.${field}`);
  for (const field of ['headers', 'withoutHeaders', 'queryParams']) {
    for (const [k, m] of Object.entries(obj(block[field]))) check(m, `${path}.${field}.${k}`);
  }
}
