/**
 * Lane entry conditions (native `all`/`any`/`not` trees, ASM rule matches) → Istio match blocks.
 * Istio ANDs the fields of one block and ORs the blocks of a route, and can negate only a header
 * (`withoutHeaders`), so a tree is brought to disjunctive normal form with negations pushed onto
 * single conditions. A condition with no Istio form makes the whole rule unrenderable, and the
 * caller reports the field path this returns.
 */
import type { MatchExpr, StringTest } from '../../../config/kinds/native/match.ts';
import { compileFullMatch } from '../../../config/schema/regex.ts';
import { assertNever } from '../../../util/assert-never.ts';
import { anyOfRegex, cookieRegex, re2Literal } from './regex.ts';

/** Istio's StringMatch: one of exact, prefix, regex, or none (header present). */
export type IstioStringMatch =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly regex: string }
  | Record<string, never>;

export interface MatchBlock {
  uri?: IstioStringMatch;
  method?: IstioStringMatch;
  headers?: Record<string, IstioStringMatch>;
  withoutHeaders?: Record<string, IstioStringMatch>;
  queryParams?: Record<string, IstioStringMatch>;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
}

/** Blocks beyond this many make a rule unrenderable (Istio copies the action per block). */
export const MAX_BLOCKS = 32;

type Atom = Exclude<MatchExpr, { kind: 'all' | 'any' | 'not' }>;

interface Literal {
  readonly atom: Atom;
  readonly negated: boolean;
  readonly path: string;
}

export type BlocksResult =
  | { readonly ok: true; readonly blocks: readonly MatchBlock[] }
  | { readonly ok: false; readonly path: string; readonly message: string };

class Unrenderable extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/** `expr` as Istio match blocks; undefined `expr` is one empty block (matches everything). */
export function matchBlocks(expr: MatchExpr | undefined, path: string): BlocksResult {
  if (expr === undefined) return { ok: true, blocks: [{}] };
  try {
    const dnf = normal(expr, false, path);
    if (dnf.length > MAX_BLOCKS) {
      return {
        ok: false,
        path,
        message: `the condition expands to ${dnf.length} Istio match blocks (at most ${MAX_BLOCKS}); simplify it`,
      };
    }
    return { ok: true, blocks: dnf.map(toBlock) };
  } catch (error) {
    if (error instanceof Unrenderable)
      return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}

/** Disjunctive normal form: a list of conjunctions. */
function normal(e: MatchExpr, negated: boolean, path: string): Literal[][] {
  switch (e.kind) {
    case 'not':
      return normal(e.of, !negated, `${path}.not`);
    case 'all':
    case 'any': {
      const parts = e.of.map((x, i) => normal(x, negated, `${path}.${e.kind}[${i}]`));
      // not(all) = any(not), not(any) = all(not).
      const conjunctive = (e.kind === 'all') !== negated;
      if (!conjunctive) return parts.flat();
      let out: Literal[][] = [[]];
      for (const part of parts) {
        const next: Literal[][] = [];
        for (const a of out) for (const b of part) next.push([...a, ...b]);
        out = next;
        if (out.length > MAX_BLOCKS * 4)
          throw new Unrenderable(path, 'the condition expands to too many Istio match blocks');
      }
      return out;
    }
    default:
      return [[{ atom: e, negated, path: `${path}.${e.kind}` }]];
  }
}

function put(
  block: MatchBlock,
  field: 'headers' | 'withoutHeaders' | 'queryParams',
  key: string,
  value: IstioStringMatch,
  path: string,
): void {
  const map = block[field] ?? {};
  block[field] = map;
  if (Object.hasOwn(map, key)) {
    throw new Unrenderable(
      path,
      `two conditions on ${key} in one conjunction; an Istio match block holds one test per ${field === 'queryParams' ? 'query parameter' : 'header'}`,
    );
  }
  map[key] = value;
}

function toBlock(conjunction: readonly Literal[]): MatchBlock {
  const block: MatchBlock = {};
  for (const lit of conjunction) addLiteral(block, lit);
  return block;
}

function matchesEmpty(pattern: string): boolean {
  const compiled = compileFullMatch(pattern);
  return compiled.ok && compiled.regexp.test('');
}

/** A value test as an Istio StringMatch; `undefined` for tests that are not value tests. */
function stringMatch(test: StringTest): IstioStringMatch | undefined {
  switch (test.op) {
    case 'exact':
      return { exact: test.value };
    case 'prefix':
      return { prefix: test.value };
    case 'suffix':
      return { regex: `.*${re2Literal(test.value)}` };
    case 'regex':
      return { regex: test.pattern };
    case 'in':
      return { regex: anyOfRegex(test.values) };
    case 'present':
    case 'absent':
    case 'notEqual':
      return undefined;
    default:
      return assertNever(test);
  }
}

/** The value of a test as an RE2 fragment (for cookies, whose value sits inside the header). */
function valueRegex(test: StringTest): string {
  switch (test.op) {
    case 'exact':
    case 'notEqual':
      return re2Literal(test.value);
    case 'prefix':
      return `${re2Literal(test.value)}[^;]*`;
    case 'suffix':
      return `[^;]*${re2Literal(test.value)}`;
    case 'regex':
      return test.pattern;
    case 'in':
      return anyOfRegex(test.values);
    case 'present':
    case 'absent':
      return '[^;]*';
    default:
      return assertNever(test);
  }
}

function addLiteral(block: MatchBlock, lit: Literal): void {
  const { atom, path } = lit;
  const test = atom.test;
  switch (atom.kind) {
    case 'header': {
      // A positive test, or its negation through withoutHeaders (a missing header reads as '').
      let positive = !lit.negated;
      let m: IstioStringMatch | undefined;
      if (test.op === 'present' || test.op === 'absent') {
        positive = (test.op === 'present') !== lit.negated;
        m = {};
      } else if (test.op === 'notEqual') {
        positive = lit.negated;
        m = { exact: test.value };
        if (test.value === '')
          throw new Unrenderable(
            path,
            'notEqual "" has no Istio form (a missing header reads as "")',
          );
      } else {
        m = stringMatch(test)!;
        if (!positive && 'regex' in m && matchesEmpty(m.regex))
          throw new Unrenderable(
            path,
            'the negated test matches an empty value, and Istio reads a missing header as empty',
          );
        if (!positive && 'exact' in m && m.exact === '')
          throw new Unrenderable(path, 'a negated exact "" has no Istio form');
      }
      put(block, positive ? 'headers' : 'withoutHeaders', atom.name, m, path);
      return;
    }
    case 'cookie': {
      let positive = !lit.negated;
      if (test.op === 'absent' || test.op === 'notEqual') positive = lit.negated;
      put(
        block,
        positive ? 'headers' : 'withoutHeaders',
        'cookie',
        { regex: cookieRegex(atom.name, valueRegex(test)) },
        path,
      );
      return;
    }
    case 'query': {
      if (lit.negated || test.op === 'absent' || test.op === 'notEqual')
        throw new Unrenderable(path, 'Istio cannot match a missing or different query parameter');
      const m =
        test.op === 'present'
          ? { regex: '.*' }
          : test.op === 'prefix'
            ? { regex: `${re2Literal(test.value)}.*` }
            : stringMatch(test)!;
      put(block, 'queryParams', atom.name, m, path);
      return;
    }
    case 'path':
    case 'method': {
      const field = atom.kind === 'path' ? 'uri' : 'method';
      if (lit.negated || test.op === 'notEqual')
        throw new Unrenderable(path, `Istio cannot negate a ${atom.kind} match`);
      const m = stringMatch(test);
      if (m === undefined)
        throw new Unrenderable(path, `Istio has no ${test.op} ${atom.kind} match`);
      if (block[field] !== undefined)
        throw new Unrenderable(path, `two ${atom.kind} conditions in one conjunction`);
      block[field] = m;
      return;
    }
    default:
      assertNever(atom);
  }
}

/** The AND of two blocks, or undefined when they test the same field (no Istio form). */
export function andBlocks(a: MatchBlock, b: MatchBlock): MatchBlock | undefined {
  const out: MatchBlock = { ...a };
  for (const field of ['uri', 'method'] as const) {
    if (b[field] === undefined) continue;
    if (out[field] !== undefined) return undefined;
    out[field] = b[field];
  }
  for (const field of ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels'] as const) {
    const extra = b[field];
    if (extra === undefined) continue;
    const merged: Record<string, unknown> = { ...(out[field] ?? {}) };
    for (const [k, v] of Object.entries(extra)) {
      if (Object.hasOwn(merged, k)) return undefined;
      merged[k] = v;
    }
    (out as Record<string, unknown>)[field] = merged;
  }
  if (b.gateways !== undefined) {
    if (out.gateways !== undefined) return undefined;
    out.gateways = b.gateways;
  }
  return out;
}
