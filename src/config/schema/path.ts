export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_@][\w./@-]*$/;

/**
 * Appends a segment to a field path: `spec` + `http` → `spec.http`, + 0 → `spec.http[0]`. Keys
 * that are not plain identifiers are quoted: `labels["app.kubernetes.io/name"]` stays readable.
 */
export function joinPath(base: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  if (!PLAIN_KEY.test(segment) || segment.includes('.')) {
    return `${base}[${JSON.stringify(segment)}]`;
  }
  return base === '' ? segment : `${base}.${segment}`;
}
