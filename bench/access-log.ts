/**
 * node bench/access-log.ts [--json]
 *
 * What one access-log line costs to build, for several ways of building it, on the same entries
 * in one run, interleaved (each round times every variant once; the best round counts, which
 * filters out noise from other processes):
 *
 * - the product formatter, `JSON.stringify(entry)`;
 * - `JSON.stringify` of a copy with the keys in a fixed order (one object shape);
 * - hand-written: the keys written as text, values quoted as they are unless a regex finds a
 *   character that needs escaping (then `JSON.stringify` of that value);
 * - hand-written with a character-by-character escaper in TypeScript;
 * - hand-written with `JSON.stringify` on every value.
 *
 * "format" forces the line into one flat string (concatenation in V8 makes ropes, and a rope is
 * flattened when it is written anyway); "write path" appends lines to a buffer and encodes it as
 * UTF-8 every 64 KiB, like AccessLog with fileSink. Two mixes: typical entries (ASCII values)
 * and entries with a character that needs escaping in some value. Every variant is checked to
 * produce exactly `JSON.stringify`'s text before it is timed.
 *
 * Also `isoTime` against `Date#toISOString`, and `AccessLog#write` into a sink that discards.
 *
 * What decided the formatter (node 24.21, 2 vCPU Xeon, ns per line, write path, typical /
 * escaping): JSON.stringify(entry) 1257 / 2430, fixed-shape copy 1352 / 2680, regex fast path
 * 1716 / 3004, character escaper 1762 / 3112, stringify per value 1898 / 3129.
 */
import { performance } from 'node:perf_hooks';
import {
  AccessLog,
  type AccessLogEntry,
  formatAccessLogEntry,
  isoTime,
} from '../src/dataplane/telemetry/access-log.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

const json = process.argv.includes('--json');

function entries(count: number, escapes: boolean): AccessLogEntry[] {
  const random = seededRandom(escapes ? 2 : 1);
  const odd = ['"', '\\', '\n', '\t', '\u0001', '\ud800', '\u00e9', '\u4e2d'];
  return Array.from({ length: count }, (_, i) => {
    const extra = escapes ? odd[Math.floor(random() * odd.length)]! : '';
    const lane = `dev-${Math.floor(random() * 100)}`;
    return {
      time: new Date(1_787_400_000_000 + i * 7).toISOString(),
      hop: i % 3 === 0 ? 'gateway' : 'outbound',
      listener: i % 3 === 0 ? 'gateway default/edge:80' : 'outbound',
      method: i % 5 === 0 ? 'POST' : 'GET',
      authority: `svc-${i % 50}.default.svc.cluster.local:8000`,
      path: `/api/v1/items/${Math.floor(random() * 1e6)}${extra}?q=${i}`,
      tag: i % 4 === 0 ? null : lane,
      tagSource: i % 4 === 0 ? 'none' : 'baggage',
      service: `default/svc-${i % 50}`,
      lane: i % 4 === 0 ? 'base' : lane,
      subset: null,
      fallback: i % 4 === 1 ? [`${lane}:lacks-service`] : [],
      upstream: `10.0.${i % 20}.${i % 200}:8000`,
      status: i % 50 === 0 ? 503 : 200,
      bytesIn: Math.floor(random() * 2000),
      bytesOut: Math.floor(random() * 100_000),
      durationUs: Math.floor(random() * 50_000),
      error: i % 50 === 0 ? 'UPSTREAM_CONNECT_FAILURE' : null,
      attempts: i % 50 === 0 ? 3 : 1,
      ...(i % 10 === 0 ? { event: `retried after reset${extra}` } : {}),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The alternatives the product formatter is measured against.

function viaStringify(e: AccessLogEntry): string {
  return `${JSON.stringify(e)}\n`;
}

/** The key layout written as text, with a string serializer plugged in. */
function layout(e: AccessLogEntry, str: (s: string) => string): string {
  const orNull = (s: string | null) => (s === null ? 'null' : str(s));
  const num = (n: number) => (Number.isFinite(n) ? `${n}` : 'null');
  let fallback = '[';
  for (let i = 0; i < e.fallback.length; i++) {
    if (i > 0) fallback += ',';
    fallback += str(e.fallback[i]!);
  }
  fallback += ']';
  let line =
    `{"time":${str(e.time)},"hop":${str(e.hop)},"listener":${str(e.listener)}` +
    `,"method":${str(e.method)},"authority":${str(e.authority)},"path":${str(e.path)}` +
    `,"tag":${orNull(e.tag)},"tagSource":${str(e.tagSource)},"service":${orNull(e.service)}` +
    `,"lane":${orNull(e.lane)},"subset":${orNull(e.subset)},"fallback":${fallback}` +
    `,"upstream":${orNull(e.upstream)},"status":${num(e.status)},"bytesIn":${num(e.bytesIn)}` +
    `,"bytesOut":${num(e.bytesOut)},"durationUs":${num(e.durationUs)}` +
    `,"error":${orNull(e.error)},"attempts":${num(e.attempts)}`;
  if (e.event !== undefined) line += `,"event":${str(e.event)}`;
  return `${line}}\n`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function regexFastPath(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const SHORT: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

/** A character-by-character JSON string escaper. */
function handEscape(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) rep = SHORT[c] ?? `\\u00${c < 0x10 ? '0' : ''}${c.toString(16)}`;
    else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      rep = `\\u${c.toString(16)}`;
    }
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return `${out}${s.slice(from)}"`;
}

const variants: Record<string, (e: AccessLogEntry) => string> = {
  'product: JSON.stringify(entry)': formatAccessLogEntry,
  'fixed-shape copy + stringify': (e) =>
    `${JSON.stringify({
      time: e.time,
      hop: e.hop,
      listener: e.listener,
      method: e.method,
      authority: e.authority,
      path: e.path,
      tag: e.tag,
      tagSource: e.tagSource,
      service: e.service,
      lane: e.lane,
      subset: e.subset,
      fallback: e.fallback,
      upstream: e.upstream,
      status: e.status,
      bytesIn: e.bytesIn,
      bytesOut: e.bytesOut,
      durationUs: e.durationUs,
      error: e.error,
      attempts: e.attempts,
      event: e.event,
      route: e.route,
      traceId: e.traceId,
    })}\n`,
  'hand-written, regex fast path': (e) => layout(e, regexFastPath),
  'hand-written, char escaper': (e) => layout(e, handEscape),
  'hand-written, stringify per value': (e) => layout(e, (s) => JSON.stringify(s)),
};

// ---------------------------------------------------------------------------------------------

/** ns per call of `body` over `n` calls. */
function time(n: number, body: (i: number) => number): number {
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) sink += body(i);
  const ns = ((performance.now() - start) * 1e6) / n;
  if (sink === -1) console.log(sink); // keeps the work observable
  return ns;
}

/** The best of `rounds` interleaved rounds of `n` calls per variant. */
function compare(
  rounds: number,
  n: number,
  bodies: Record<string, (i: number) => number>,
): Record<string, number> {
  const best: Record<string, number> = {};
  for (const name of Object.keys(bodies)) bodies[name]!(0); // compile
  for (let r = 0; r < rounds; r++) {
    for (const [name, body] of Object.entries(bodies)) {
      best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, time(n, body));
    }
  }
  return best;
}

const ROUNDS = 15;
const N = 20_000;
const results: Record<string, Record<string, number>> = {};

for (const [mix, list] of [
  ['typical', entries(1024, false)],
  ['needs escaping', entries(1024, true)],
] as const) {
  for (const [name, fn] of Object.entries(variants)) {
    for (const e of list) {
      if (fn(e) !== viaStringify(e)) throw new Error(`${name} is wrong for ${JSON.stringify(e)}`);
    }
  }
  const format: Record<string, (i: number) => number> = {};
  const writePath: Record<string, (i: number) => number> = {};
  for (const [name, fn] of Object.entries(variants)) {
    format[name] = (i) => {
      const line = fn(list[i & 1023]!);
      return line.charCodeAt(line.length - 2); // flattens a rope
    };
    let buf = '';
    writePath[name] = (i) => {
      buf += fn(list[i & 1023]!);
      if (buf.length < 65_536) return 0;
      const bytes = Buffer.from(buf, 'utf8').length;
      buf = '';
      return bytes;
    };
  }
  results[`format, ${mix}`] = compare(ROUNDS, N, format);
  results[`write path, ${mix}`] = compare(ROUNDS, N, writePath);
}

const base = 1_787_400_000_000;
results.time = compare(ROUNDS, N, {
  'new Date(ms).toISOString()': (i) => new Date(base + i).toISOString().length,
  isoTime: (i) => isoTime(base + i).length,
});

const typical = entries(1024, false);
const log = new AccessLog(() => {}, { flushBytes: 64 * 1024, setTimer: () => () => {} });
results['AccessLog#write'] = compare(ROUNDS, N, {
  'format + buffer + hand to sink (64 KiB batches)': (i) => {
    log.write(typical[i & 1023]!);
    return 1;
  },
});

if (json) {
  console.log(JSON.stringify({ node: process.version, nsPerCall: results }, null, 2));
} else {
  console.log(
    `node ${process.version}; best of ${ROUNDS} interleaved rounds of ${N} calls; ns per call`,
  );
  for (const [group, rows] of Object.entries(results)) {
    console.log(`\n${group}`);
    const fastest = Math.min(...Object.values(rows));
    for (const [name, ns] of Object.entries(rows)) {
      console.log(
        `  ${name.padEnd(48)} ${ns.toFixed(0).padStart(6)}  x${(ns / fastest).toFixed(2)}`,
      );
    }
  }
}
