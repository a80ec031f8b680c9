/**
 * Metric families → the Prometheus text exposition format 0.0.4, or OpenMetrics 1.0.0 for a
 * scraper that asks for it (prometheus.io/docs/instrumenting/exposition_formats; the OpenMetrics
 * spec). The two differ where it matters here: OpenMetrics names a counter family without its
 * `_total` suffix in `# TYPE`/`# HELP`, writes `le` as a float (`1.0`), and ends with `# EOF`.
 */

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** Labels already rendered (`labelText`), so a series costs nothing to render again. */
export interface ScalarSeries {
  readonly labels: string;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: string;
  /** Per bucket (not cumulative); one more than `buckets` for values above every bound. */
  readonly counts: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
}

export type MetricFamily =
  | {
      readonly type: 'counter' | 'gauge';
      /** A counter's name without `_total`. */
      readonly name: string;
      readonly help: string;
      readonly series: readonly ScalarSeries[];
    }
  | {
      readonly type: 'histogram';
      readonly name: string;
      readonly help: string;
      readonly buckets: readonly number[];
      readonly series: readonly HistogramSeries[];
    };

/** A label value escaped as both formats want it: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

/** `a="b",c="d"`: label names as given (they are ours, always valid), values escaped. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name in labels) {
    const value = labels[name];
    if (value === undefined) continue;
    out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return out;
}

function braces(inner: string): string {
  return inner === '' ? '' : `{${inner}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function le(bound: number, format: ExpositionFormat): string {
  if (format === 'openmetrics' && Number.isInteger(bound)) return `${bound}.0`;
  return String(bound);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function exposition(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const out: string[] = [];
  for (const f of families) {
    const familyName = f.type === 'counter' && format === 'prometheus' ? `${f.name}_total` : f.name;
    out.push(`# HELP ${familyName} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${familyName} ${f.type}`);
    switch (f.type) {
      case 'counter':
        for (const s of f.series) out.push(`${f.name}_total${braces(s.labels)} ${number(s.value)}`);
        break;
      case 'gauge':
        for (const s of f.series) out.push(`${f.name}${braces(s.labels)} ${number(s.value)}`);
        break;
      case 'histogram': {
        const sep = (labels: string) => (labels === '' ? '' : `${labels},`);
        for (const s of f.series) {
          let cumulative = 0;
          f.buckets.forEach((bound, i) => {
            cumulative += s.counts[i] ?? 0;
            out.push(
              `${f.name}_bucket{${sep(s.labels)}le="${le(bound, format)}"} ${number(cumulative)}`,
            );
          });
          cumulative += s.counts[f.buckets.length] ?? 0;
          out.push(`${f.name}_bucket{${sep(s.labels)}le="+Inf"} ${number(cumulative)}`);
          out.push(`${f.name}_sum${braces(s.labels)} ${number(s.sum)}`);
          out.push(`${f.name}_count${braces(s.labels)} ${number(s.count)}`);
        }
        break;
      }
    }
  }
  if (format === 'openmetrics') out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/**
 * The format a scraper asked for in `Accept`: OpenMetrics when it lists
 * `application/openmetrics-text` (Prometheus does when scraping with it enabled), else 0.0.4.
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return 'prometheus';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim().toLowerCase() !== 'application/openmetrics-text') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}
