/** Evaluates compiled matchers against a request. Allocation-free unless a query or cookie is read. */

import { assertNever } from '../../util/assert-never.ts';
import { labelsMatch } from '../compiler/dict.ts';
import type { CompiledRoute, CompiledTest, Matcher, VirtualHost } from '../compiler/table.ts';
import { stickyBucket } from './hash.ts';
import type { Chooser, RequestView, Workload } from './types.ts';

/** Per-decision matching state: lazily parsed query and cookies, one lazy random draw. */
export class MatchInput {
  readonly req: RequestView;
  readonly port: number | undefined;
  readonly source: Workload | undefined;
  readonly #random: () => number;
  readonly chooser: Chooser | undefined;
  #draw: number | undefined;
  #query: Map<string, string> | undefined;
  #cookies: Map<string, string> | undefined;

  constructor(
    req: RequestView,
    port: number | undefined,
    source: Workload | undefined,
    random: () => number,
    chooser?: Chooser,
  ) {
    this.req = req;
    this.port = port;
    this.source = source;
    this.#random = random;
    this.chooser = chooser;
  }

  /** A number in [0, 100), drawn once per request: weighted entry bands share it. */
  draw(): number {
    this.#draw ??= this.chooser ? this.chooser.bandDraw : this.#random() * 100;
    return this.#draw;
  }

  query(name: string): string | undefined {
    this.#query ??= parseQuery(this.req.query);
    return this.#query.get(name);
  }

  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookies(this.req.header('cookie'));
    return this.#cookies.get(name);
  }
}

/** First value of each parameter, not decoded (Envoy matches the raw value). `?a` has value ''. */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (!out.has(name)) out.set(name, eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/** RFC 6265 `Cookie` header: `a=1; b=2`; the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    if (name !== '' && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function testValue(
  test: CompiledTest,
  value: string | undefined,
  missingAsEmpty = false,
): boolean {
  switch (test.op) {
    case 'present':
      return value !== undefined;
    case 'absent':
      return value === undefined;
    case 'notEqual':
      return value !== test.value;
    default:
      break;
  }
  const v = value ?? (missingAsEmpty ? '' : undefined);
  if (v === undefined) return false;
  switch (test.op) {
    case 'exact':
      return v === test.value;
    case 'prefix':
      return v.startsWith(test.value);
    case 'suffix':
      return v.endsWith(test.value);
    case 'regex':
      return test.regexp.test(v);
    case 'in':
      return test.values.includes(v);
    default:
      return assertNever(test);
  }
}

/** `ignoreCase` tests hold a lower-cased value already (the compiler's doing). */
function testPath(test: CompiledTest, path: string, ignoreCase: boolean): boolean {
  return testValue(test, ignoreCase ? path.toLowerCase() : path);
}

export function matches(m: Matcher, input: MatchInput): boolean {
  switch (m.kind) {
    case 'always':
      return true;
    case 'all':
      for (const part of m.of) if (!matches(part, input)) return false;
      return true;
    case 'any':
      for (const part of m.of) if (matches(part, input)) return true;
      return false;
    case 'not':
      return !matches(m.of, input);
    case 'header':
      return testValue(m.test, input.req.header(m.name), m.missingAsEmpty);
    case 'query':
      return testValue(m.test, input.query(m.name));
    case 'cookie':
      return testValue(m.test, input.cookie(m.name));
    case 'path':
      return testPath(m.test, input.req.path, m.ignoreCase);
    case 'method':
      return testValue(m.test, input.req.method);
    case 'authority':
      return testValue(m.test, input.req.authority);
    case 'scheme':
      return testValue(m.test, input.req.scheme);
    case 'port':
      return input.port === m.port;
    case 'sourceLabels': {
      const labels = input.source?.labels;
      return labels !== undefined && labelsMatch(labels, m.labels);
    }
    case 'sourceNamespace':
      return input.source?.namespace === m.namespace;
    case 'sticky': {
      const key = 'header' in m.key ? input.req.header(m.key.header) : input.cookie(m.key.cookie);
      return key !== undefined && key !== '' && stickyBucket(m.salt, key) < m.percent;
    }
    case 'band': {
      const d = input.draw();
      input.chooser?.band(m.from, m.to);
      return d >= m.from && d < m.to;
    }
    default:
      return assertNever(m);
  }
}

/** The first route of a host that matches, following the host's evaluation plan. */
export function firstMatch(vhost: VirtualHost, input: MatchInput): CompiledRoute | undefined {
  for (const step of vhost.plan) {
    if (step.kind === 'route') {
      if (matches(step.route.match, input)) return step.route;
      continue;
    }
    const value = input.req.header(step.header);
    const route = value === undefined ? undefined : step.routes[value];
    if (route) return route;
  }
  return undefined;
}
