/**
 * Compiles Istio HTTPMatchRequest blocks and native match expressions into one matcher tree.
 * Istio semantics (istio-semantics.md §1.3): conditions in a block are ANDed; header values are
 * case-sensitive; `{}` means present; `withoutHeaders` is the negation with a missing header
 * treated as empty; regexes are RE2 and match the whole value; `ignoreUriCase` applies to exact
 * and prefix only; `sourceLabels`/`sourceNamespace` select the calling workload.
 */
import type { HTTPMatchRequest, StringMatch } from '../../config/kinds/istio/types.ts';
import type { MatchExpr, StringTest } from '../../config/kinds/native/match.ts';
import { compileFullMatch } from '../../config/schema/regex.ts';
import { assertNever } from '../../util/assert-never.ts';
import { labelsOf } from './dict.ts';
import type { CompiledTest, Matcher } from './table.ts';

export const ALWAYS: Matcher = { kind: 'always' };

function regexTest(pattern: string, ignoreCase = false): CompiledTest {
  const compiled = compileFullMatch(
    ignoreCase ? `(?i)${pattern.replace(/^\(\?i\)/, '')}` : pattern,
  );
  // Validation already rejected bad patterns; a pattern that still fails matches nothing.
  return compiled.ok
    ? { op: 'regex', regexp: compiled.regexp, source: pattern }
    : { op: 'regex', regexp: /(?!)/, source: pattern };
}

/** Istio StringMatch → test; `{}` (no field) is a presence test. */
export function istioTest(m: StringMatch): CompiledTest {
  if (m.exact !== undefined) return { op: 'exact', value: m.exact };
  if (m.prefix !== undefined) return { op: 'prefix', value: m.prefix };
  if (m.regex !== undefined) {
    // Istio turns `regex: "*"` into a presence match (route.go L1161-1179).
    return m.regex === '*' ? { op: 'present' } : regexTest(m.regex);
  }
  return { op: 'present' };
}

export function nativeTest(t: StringTest): CompiledTest {
  switch (t.op) {
    case 'regex':
      return regexTest(t.pattern);
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'notEqual':
      return { op: t.op, value: t.value };
    case 'in':
      return { op: 'in', values: [...t.values] };
    case 'present':
    case 'absent':
      return { op: t.op };
    default:
      return assertNever(t);
  }
}

export function and(parts: readonly Matcher[]): Matcher {
  const kept = parts.filter((p) => p.kind !== 'always');
  if (kept.length === 0) return ALWAYS;
  return kept.length === 1 ? kept[0]! : { kind: 'all', of: kept };
}

/** One Istio match block → matcher. Returns the URI prefix too, for prefix rewrites. */
export function istioMatch(m: HTTPMatchRequest): {
  matcher: Matcher;
  uriPrefix: string | undefined;
} {
  const parts: Matcher[] = [];
  const ignoreCase = m.ignoreUriCase === true;
  if (m.uri) {
    const test = istioTest(m.uri);
    // ignoreUriCase applies to exact and prefix (Istio); their value is lower-cased once here,
    // so a request pays only for lower-casing its own path.
    if (ignoreCase && (test.op === 'exact' || test.op === 'prefix'))
      parts.push({ kind: 'path', test: { ...test, value: test.value.toLowerCase() }, ignoreCase });
    else parts.push({ kind: 'path', test, ignoreCase: false });
  }
  if (m.method) parts.push({ kind: 'method', test: istioTest(m.method) });
  if (m.authority) parts.push({ kind: 'authority', test: istioTest(m.authority) });
  if (m.scheme) parts.push({ kind: 'scheme', test: istioTest(m.scheme) });
  for (const [name, test] of Object.entries(m.headers ?? {})) {
    parts.push({
      kind: 'header',
      name: name.toLowerCase(),
      test: istioTest(test),
      missingAsEmpty: false,
    });
  }
  for (const [name, m2] of Object.entries(m.withoutHeaders ?? {})) {
    const test = istioTest(m2);
    parts.push({
      kind: 'not',
      of: { kind: 'header', name: name.toLowerCase(), test, missingAsEmpty: test.op !== 'present' },
    });
  }
  for (const [name, test] of Object.entries(m.queryParams ?? {})) {
    parts.push({ kind: 'query', name, test: istioTest(test) });
  }
  if (m.port !== undefined) parts.push({ kind: 'port', port: m.port });
  if (m.sourceLabels && Object.keys(m.sourceLabels).length > 0) {
    parts.push({ kind: 'sourceLabels', labels: labelsOf(m.sourceLabels) });
  }
  if (m.sourceNamespace !== undefined)
    parts.push({ kind: 'sourceNamespace', namespace: m.sourceNamespace });
  return { matcher: and(parts), uriPrefix: m.uri?.prefix };
}

export function nativeMatch(e: MatchExpr): Matcher {
  switch (e.kind) {
    case 'all':
      return and(e.of.map(nativeMatch));
    case 'any':
      return { kind: 'any', of: e.of.map(nativeMatch) };
    case 'not':
      return { kind: 'not', of: nativeMatch(e.of) };
    case 'header':
      return { kind: 'header', name: e.name, test: nativeTest(e.test), missingAsEmpty: false };
    case 'query':
    case 'cookie':
      return { kind: e.kind, name: e.name, test: nativeTest(e.test) };
    case 'path':
      return { kind: 'path', test: nativeTest(e.test), ignoreCase: false };
    case 'method':
      return { kind: 'method', test: nativeTest(e.test) };
    default:
      return assertNever(e);
  }
}

/** A route with this matcher catches every request (Istio moves such routes last when merging). */
export function isCatchAll(m: Matcher): boolean {
  if (m.kind === 'always') return true;
  return m.kind === 'path' && m.test.op === 'prefix' && m.test.value === '/';
}
