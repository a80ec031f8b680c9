/**
 * RE2 patterns the rendering writes into Istio StringMatch `regex` fields. Envoy matches them
 * against the whole header value (safe_regex is a full match), and joins a header sent several
 * times with `,` (`, ` in lanes' own engine): every pattern here allows optional whitespace where
 * the grammar of the header does.
 */

const RE2_SPECIAL = /[\\.+*?()|[\]{}^$]/g;

/** `text` as an RE2 literal. */
export function re2Literal(text: string): string {
  return text.replace(RE2_SPECIAL, (c) => `\\${c}`);
}

const OWS = '[ \\t]*';

/**
 * A `baggage` header that holds the member `key=value` (W3C: `key OWS = OWS value *(OWS ; OWS
 * property)`, members separated by `OWS , OWS`). It matches `lane=s2`, `a=1, lane = s2 ;p=x, b=2`
 * and rejects `lane=s20`, `xlane=s2`, `a=lane=s2`. Lane names are tokens, so the value needs no
 * percent-decoding.
 */
export function baggageMemberRegex(key: string, value: string): string {
  return `(.*,)?${OWS}${re2Literal(key)}${OWS}=${OWS}${re2Literal(value)}${OWS}(;[^,]*)?(,.*)?`;
}

/** A `cookie` header whose cookie `name` has a value matching `value` (an RE2 fragment). */
export function cookieRegex(name: string, value: string): string {
  return `(.*;)?${OWS}${re2Literal(name)}${OWS}=${OWS}"?(${value})"?${OWS}(;.*)?`;
}

/** One of several literal values, as an RE2 alternation. */
export function anyOfRegex(values: readonly string[]): string {
  return values.map(re2Literal).join('|');
}
