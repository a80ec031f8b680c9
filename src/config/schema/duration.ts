/**
 * Go `time.ParseDuration`, exactly: integer nanoseconds as a bigint, so `1.001s` is 1001 ms and
 * not 1000.9999…, which matters for Istio's "only durations to ms precision" rule.
 */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

export const NS_PER_MS = 1_000_000n;

export function parseGoDurationNs(text: string): bigint | undefined {
  let rest = text;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const start = PART.lastIndex;
    const m = PART.exec(rest);
    if (!m || m.index !== start) return undefined;
    const whole = m[1] ?? '';
    const frac = m[2] ?? '';
    if (whole === '' && frac === '') return undefined;
    const unit = UNIT_NS[m[3] ?? ''] ?? 0n;
    // Go truncates what is finer than a nanosecond.
    const fracNs = frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += BigInt(whole || '0') * unit + fracNs;
  }
  return sign * total;
}
