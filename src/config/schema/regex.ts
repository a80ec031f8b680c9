/**
 * Istio (Envoy) matches with RE2 against the whole value. JavaScript's RegExp is a different
 * dialect, so a pattern is translated and checked here once, at validation time: RE2-only syntax
 * is rewritten, and constructs RE2 rejects (lookaround, backreferences) are rejected too, so a
 * pattern that works in lanes also works in Istio and the reverse.
 */

export const MAX_REGEX_LENGTH = 1024;

export type RegexResult =
  | { readonly ok: true; readonly regexp: RegExp }
  | { readonly ok: false; readonly message: string };

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const RE2_HINT =
  'Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)';

/** Compiles an RE2 pattern to a RegExp that must match the whole input. */
export function compileFullMatch(pattern: string): RegexResult {
  return compileRe2(pattern, 'full');
}

/**
 * Compiles an RE2 pattern. `full`: anchored at both ends (Envoy's safe_regex matchers).
 * `global`: unanchored, every occurrence (Envoy's regex_rewrite substitutes every match).
 */
export function compileRe2(pattern: string, mode: 'full' | 'global'): RegexResult {
  if (pattern.length === 0) return { ok: false, message: 'regex string match should not be empty' };
  if (pattern.length > MAX_REGEX_LENGTH) {
    return { ok: false, message: `regex is too large, max length allowed is ${MAX_REGEX_LENGTH}` };
  }
  const translated = translate(pattern);
  if (!translated.ok) return translated;
  try {
    const regexp =
      mode === 'full'
        ? new RegExp(`^(?:${translated.source})$`, translated.flags)
        : new RegExp(translated.source, `${translated.flags}g`);
    return { ok: true, regexp };
  } catch (error) {
    const detail = (error as Error).message.replace(/^Invalid regular expression: /, '');
    return { ok: false, message: `${detail}; ${RE2_HINT}` };
  }
}

type Translation =
  | { readonly ok: true; readonly source: string; readonly flags: string }
  | { readonly ok: false; readonly message: string };

function translate(pattern: string): Translation {
  let flags = '';
  let rest = pattern;
  const leading = /^\(\?([imsU]+)\)/.exec(rest);
  if (leading) {
    const letters = leading[1]!;
    if (letters.includes('U')) return unsupported('(?U) ungreedy mode');
    for (const f of letters) if (!flags.includes(f)) flags += f;
    rest = rest.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  let usesUnicodeClass = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!;
    if (ch === '\\') {
      const next = rest[i + 1];
      if (next === undefined) return { ok: false, message: `trailing backslash; ${RE2_HINT}` };
      if (next >= '1' && next <= '9') return unsupported('backreferences (\\1)');
      if (next === 'k' && rest[i + 2] === '<')
        return unsupported('named backreferences (\\k<name>)');
      if (next === 'Q') {
        const end = rest.indexOf('\\E', i + 2);
        const literal = rest.slice(i + 2, end < 0 ? rest.length : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? rest.length : end + 1;
        continue;
      }
      if (next === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (next === 'z') {
        out += '$';
        i++;
        continue;
      }
      if (next === 'C') return unsupported('\\C (any byte)');
      if (next === 'p' || next === 'P') {
        usesUnicodeClass = true;
        const brace = rest[i + 2] === '{';
        const name = brace ? rest.slice(i + 3, rest.indexOf('}', i + 3)) : (rest[i + 2] ?? '');
        out += `\\${next}{${name}}`;
        i += brace ? name.length + 3 : 2;
        continue;
      }
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === '[' && rest[i + 1] === ':') {
        const end = rest.indexOf(':]', i + 2);
        if (end > 0) {
          let name = rest.slice(i + 2, end);
          const negated = name.startsWith('^');
          if (negated) name = name.slice(1);
          const expansion = POSIX_CLASSES[name];
          if (!expansion)
            return { ok: false, message: `unknown POSIX class [:${name}:]; ${RE2_HINT}` };
          if (negated) return unsupported('negated POSIX classes inside a bracket ([[:^alpha:]])');
          out += expansion;
          i = end + 1;
          continue;
        }
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (rest[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (rest[i + 1] === ']') {
        // RE2, like POSIX, takes a `]` right after `[` or `[^` as a literal.
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(' && rest[i + 1] === '?') {
      const head = rest.slice(i + 2, i + 4);
      if (head.startsWith('=') || head.startsWith('!'))
        return unsupported('lookahead ((?=…), (?!…))');
      if (head === '<=' || head === '<!') return unsupported('lookbehind ((?<=…), (?<!…))');
      if (head.startsWith('>')) return unsupported('atomic groups ((?>…))');
      if (rest[i + 2] === 'P' && rest[i + 3] === '<') {
        out += '(?<';
        i += 3;
        continue;
      }
      const inline = /^\(\?([imsU-]+)(\)|:)/.exec(rest.slice(i));
      if (inline) {
        if (inline[1]!.includes('U')) return unsupported('(?U) ungreedy mode');
        if (inline[2] === ')')
          return unsupported('flags that change in the middle of a pattern; put (?i) at the start');
      }
    }
    out += ch;
  }
  if (usesUnicodeClass) flags += 'u';
  return { ok: true, source: out, flags };
}

function unsupported(what: string): Translation {
  return { ok: false, message: `${what} is not supported: ${RE2_HINT}` };
}

/** Turns an RE2 rewrite template (`/v2/\1`) into a JavaScript replacement string (`/v2/$1`). */
export function re2Replacement(template: string): string {
  return template.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}
