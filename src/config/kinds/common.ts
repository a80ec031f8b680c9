/** Field shapes shared by several kinds: Kubernetes names, labels, ports. */
import { int, record, type Schema, str } from '../schema/dsl.ts';
import { NS_PER_MS, parseGoDurationNs } from '../schema/duration.ts';

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dnsLabel(what = 'a name'): Schema<string> {
  return str({
    pattern: DNS1123_LABEL,
    maxLength: 63,
    patternHint: `${what} must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
  });
}

export function dnsSubdomain(what = 'a name'): Schema<string> {
  return str({
    pattern: DNS1123_SUBDOMAIN,
    maxLength: 253,
    patternHint: `${what} must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'`,
  });
}

const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Kubernetes label keys: an optional DNS prefix and `/`, then a name of at most 63 characters. */
export const labelKey: Schema<string> = str({
  pattern: LABEL_NAME,
  maxLength: 316,
  patternHint:
    "a label key must be an optional DNS prefix and '/' followed by letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
}).check((key, c) => {
  const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  if (name.length > 63)
    c.error(`Invalid value: ${JSON.stringify(key)}: the name part must be at most 63 characters`);
});

export const labelValue: Schema<string> = str({
  pattern: LABEL_VALUE,
  maxLength: 63,
  patternHint:
    "a label value must be empty or letters, digits, '-', '_' or '.', starting and ending with a letter or digit (at most 63 characters)",
});

/** A label map (`labels`, `matchLabels`, a lane's `labelSelector`). */
export function labelMap(): Schema<Record<string, string>> {
  return record(labelValue, labelKey);
}

/** Annotation values are free text; keys follow the label-key rule. */
export function annotationMap(): Schema<Record<string, string>> {
  return record(str(), labelKey);
}

export function portNumber(): Schema<number> {
  return int({ min: 1, max: 65535 });
}

/** A Go-style duration (`10s`, `1.5s`, `250ms`, `1m30s`), parsed to milliseconds. */
export function duration(): Schema<number> {
  return str()
    .check((text, c) => {
      const ns = parseGoDurationNs(text);
      if (ns === undefined || ns < 0n) {
        c.error(
          `Invalid value: ${JSON.stringify(text)}: must be a duration such as 10s, 1.5s, 250ms or 1m30s`,
        );
      }
    })
    .map((text) => Number(parseGoDurationNs(text) ?? 0n) / Number(NS_PER_MS));
}
