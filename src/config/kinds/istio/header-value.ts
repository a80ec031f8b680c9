/**
 * Istio's ValidateHTTPHeaderValue (validation.go and header_value_validator.go, a port of Envoy's
 * header_parser.cc): control characters are rejected and `%VAR%` / `%VAR(args)%` expressions
 * must be well formed. Also returns the variables used, since lanes does not substitute them.
 */

// Control characters except horizontal tab (protoc-gen-validate's header value rule).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

export interface HeaderValueResult {
  readonly error?: string;
  readonly variables: readonly string[];
}

type State =
  | 'literal'
  | 'name'
  | 'expectArray'
  | 'expectString'
  | 'string'
  | 'expectDelimiterOrEnd'
  | 'expectArgsEnd'
  | 'expectVariableEnd';

export function parseHeaderValue(value: string): HeaderValueResult {
  if (CONTROL.test(value)) {
    return { error: `header value configuration ${value} is invalid`, variables: [] };
  }
  const fail = (why: string): HeaderValueResult => ({
    error: `header value configuration: invalid header configuration. ${why}`,
    variables: [],
  });
  const variables: string[] = [];
  let state: State = 'literal';
  let start = 0;
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos];
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return fail('Un-escaped %');
        if (value[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'name';
        start = pos;
        break;
      case 'name':
        if (ch === '%') {
          variables.push(value.slice(start, pos + 1));
          state = 'literal';
        } else if (ch === '(') state = 'expectArray';
        break;
      case 'expectArray':
        if (ch === '[') state = 'expectString';
        else if (ch !== ' ') state = 'string';
        break;
      case 'expectDelimiterOrEnd':
        if (ch === ',') state = 'expectString';
        else if (ch === ']') state = 'expectArgsEnd';
        else if (ch !== ' ') return fail("Expecting ',', ']', or whitespace");
        break;
      case 'expectString':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return fail("Expecting '\"'");
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return fail('Un-terminated backslash in JSON string');
          pos++;
        } else if (ch === ')') state = 'expectVariableEnd';
        else if (ch === '"') state = 'expectDelimiterOrEnd';
        break;
      case 'expectArgsEnd':
        if (ch === ')') state = 'expectVariableEnd';
        else if (ch !== ' ') {
          return fail("Expecting ')' or whitespace after '{}', but found '{}'");
        }
        break;
      case 'expectVariableEnd':
        if (ch === '%') {
          variables.push(value.slice(start, pos + 1));
          state = 'literal';
        } else if (ch !== ' ') return fail("Expecting '%' or whitespace after");
        break;
    }
  }
  if (state !== 'literal') {
    return fail(`Un-terminated variable expression '${value}'`);
  }
  return { variables };
}
