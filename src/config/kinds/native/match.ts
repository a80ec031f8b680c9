/**
 * Lane entry conditions: header / query / cookie / path / method tests combined with all / any /
 * not, to any depth. The compiler turns these and Istio's HTTPMatchRequest into one matcher form.
 */
import {
  bool,
  lazy,
  list,
  obj,
  required,
  type Schema,
  str,
  taggedUnion,
} from '../../schema/dsl.ts';
import { compileFullMatch } from '../../schema/regex.ts';
import { headerName } from '../http-names.ts';

export type StringTest =
  | { readonly op: 'exact'; readonly value: string }
  | { readonly op: 'prefix'; readonly value: string }
  | { readonly op: 'suffix'; readonly value: string }
  | { readonly op: 'regex'; readonly pattern: string }
  | { readonly op: 'present' }
  | { readonly op: 'absent' }
  | { readonly op: 'notEqual'; readonly value: string }
  | { readonly op: 'in'; readonly values: readonly string[] };

export type MatchExpr =
  | { readonly kind: 'all'; readonly of: readonly MatchExpr[] }
  | { readonly kind: 'any'; readonly of: readonly MatchExpr[] }
  | { readonly kind: 'not'; readonly of: MatchExpr }
  | {
      readonly kind: 'header' | 'query' | 'cookie';
      readonly name: string;
      readonly test: StringTest;
    }
  | { readonly kind: 'path' | 'method'; readonly test: StringTest };

const TEST_FIELDS = [
  'exact',
  'prefix',
  'suffix',
  'regex',
  'present',
  'absent',
  'notEqual',
  'in',
] as const;

function testFields() {
  return {
    exact: str(),
    prefix: str({ minLength: 1 }),
    suffix: str({ minLength: 1 }),
    regex: str().check((pattern, c) => {
      const compiled = compileFullMatch(pattern);
      if (!compiled.ok) c.error(`Invalid value: ${JSON.stringify(pattern)}: ${compiled.message}`);
    }),
    present: bool().check((v, c) => {
      if (!v) c.error('Invalid value: false: write `absent: true` to match a missing value');
    }),
    absent: bool().check((v, c) => {
      if (!v) c.error('Invalid value: false: write `present: true` to match any value');
    }),
    notEqual: str(),
    in: list(str(), { min: 1 }),
  };
}

type TestFields = {
  exact?: string;
  prefix?: string;
  suffix?: string;
  regex?: string;
  present?: boolean;
  absent?: boolean;
  notEqual?: string;
  in?: string[];
};

function toTest(f: TestFields): StringTest {
  if (f.exact !== undefined) return { op: 'exact', value: f.exact };
  if (f.prefix !== undefined) return { op: 'prefix', value: f.prefix };
  if (f.suffix !== undefined) return { op: 'suffix', value: f.suffix };
  if (f.regex !== undefined) return { op: 'regex', pattern: f.regex };
  if (f.present) return { op: 'present' };
  if (f.absent) return { op: 'absent' };
  if (f.notEqual !== undefined) return { op: 'notEqual', value: f.notEqual };
  return { op: 'in', values: f.in ?? [] };
}

function namedCondition(kind: 'header' | 'query' | 'cookie'): Schema<MatchExpr> {
  const name = kind === 'header' ? headerName() : str({ minLength: 1 });
  return obj({ name: required(name), ...testFields() }, { exactlyOneOf: TEST_FIELDS }).map(
    (f): MatchExpr => ({
      kind,
      name: f.name,
      test: toTest(f),
    }),
  );
}

function valueCondition(kind: 'path' | 'method'): Schema<MatchExpr> {
  const { present: _present, absent: _absent, ...fields } = testFields();
  const ops = TEST_FIELDS.filter((f) => f !== 'present' && f !== 'absent');
  return obj(fields, { exactlyOneOf: ops }).map((f): MatchExpr => ({ kind, test: toTest(f) }));
}

/** The schema of a match expression (a condition, or `all` / `any` / `not` of expressions). */
export const matchExpr: Schema<MatchExpr> = lazy(() =>
  taggedUnion<MatchExpr>({
    all: list(matchExpr, { min: 1 }).map((of): MatchExpr => ({ kind: 'all', of })),
    any: list(matchExpr, { min: 1 }).map((of): MatchExpr => ({ kind: 'any', of })),
    not: matchExpr.map((of): MatchExpr => ({ kind: 'not', of })),
    header: namedCondition('header'),
    query: namedCondition('query'),
    cookie: namedCondition('cookie'),
    path: valueCondition('path'),
    method: valueCondition('method'),
  }),
);
