/**
 * The Http11Probe cases (test/data/http11probe) as byte strings, shared by the parser
 * replay (src/dataplane/http1/probe.test.ts) and the gateway replay (test/http11probe-gateway.test.ts).
 */
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/util/seeded-random.ts';
import { readTestData } from './test-data.ts';

export interface ProbeCase {
  readonly id: string;
  readonly category: string;
  readonly rfc: string;
  readonly expected: string;
  readonly statuses: number[];
  readonly closeOk: boolean;
  readonly twoxxOk: boolean;
  readonly requests: (string | null)[];
}

export const cases = (
  JSON.parse(readTestData('http11probe/http11probe-cases.json')) as { cases: ProbeCase[] }
).cases;

const HOST = 'localhost:8080';

/**
 * Cases whose payload the docs describe instead of spelling out (requests: null or []), built
 * from the description in Http11Probe's docs / test suite.
 */
const GENERATED: Record<string, () => string[]> = {
  'MAL-EMPTY-REQUEST': () => [],
  // 256 random bytes (the probe seeds .NET's Random with 42; any random bytes serve).
  'MAL-BINARY-GARBAGE': () => {
    const random = seededRandom(42);
    return [String.fromCharCode(...Array.from({ length: 256 }, () => Math.floor(random() * 256)))];
  },
  'MAL-LONG-URL': () => [`GET /${'A'.repeat(100_000)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`],
  'MAL-LONG-HEADER-VALUE': () => [
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${'B'.repeat(100_000)}\r\n\r\n`,
  ],
  'MAL-LONG-HEADER-NAME': () => [
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${'A'.repeat(100_000)}: val\r\n\r\n`,
  ],
  'MAL-LONG-METHOD': () => [`${'A'.repeat(100_000)} / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`],
  'MAL-MANY-HEADERS': () => [
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${Array.from({ length: 10_000 }, (_, i) => `X-H-${i}: value\r\n`).join('')}\r\n`,
  ],
  'MAL-CHUNK-EXT-64K': () => [
    `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=${'a'.repeat(65_536)}\r\nhello\r\n0\r\n\r\n`,
  ],
  // "1000 overlapping Range values": the exact ranges are not spelled out; these overlap.
  'MAL-RANGE-OVERLAPPING (unscored)': () => [
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nRange: bytes=${Array.from({ length: 1000 }, (_, i) => `0-${i}`).join(',')}\r\n\r\n`,
  ],
  'COOK-MANY-PAIRS': () => [
    `GET /echo HTTP/1.1\r\nHost: ${HOST}\r\nCookie: ${Array.from({ length: 1000 }, (_, i) => `k${i}=v${i}`).join('; ')}\r\n\r\n`,
  ],
  'COOK-OVERSIZED': () => [
    `GET /echo HTTP/1.1\r\nHost: ${HOST}\r\nCookie: big=${'A'.repeat(65_536)}\r\n\r\n`,
  ],
  'COMP-LONG-URL-OK': () => [`GET /${'a'.repeat(7900)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`],
  'SMUG-CL-LEADING-ZEROS-OCTAL': () => [
    `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0200\r\n\r\n${'A'.repeat(200)}`,
  ],
};

/**
 * The docs write some bytes as text: "\x0c" for the byte 0x0c, "[TAB]" for HTAB. Placeholders
 * such as "{ETag from step 1}" stay: they are valid field values.
 */
function decode(request: string): string {
  return request
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    )
    .replaceAll('[TAB]', '\t');
}

export function requestsOf(c: ProbeCase): string[] {
  const generate = GENERATED[c.id];
  if (generate) return generate();
  assert.ok(
    c.requests.length > 0 && c.requests.every((r) => typeof r === 'string'),
    `${c.id} needs a generator`,
  );
  return (c.requests as string[]).map(decode);
}
