/**
 * node bench/http1-parser.ts [--json]
 *
 * The HTTP/1.1 parser on its hot paths, on one reused parser per case (as on a keep-alive
 * connection): ns per request head for typical 150–250 byte GET heads, ns per response head,
 * MB/s of body through chunked and Content-Length framing (64 KiB reads), and the cost of
 * writing a head with serialize.ts. Each case warms up first and reports the best of 7 runs in
 * CPU time.
 */
import { HeaderList } from '../src/dataplane/headers.ts';
import { NO_BODY } from '../src/dataplane/http1/framing.ts';
import { RequestParser } from '../src/dataplane/http1/request-parser.ts';
import { ResponseParser } from '../src/dataplane/http1/response-parser.ts';
import { encodeChunk, requestHead } from '../src/dataplane/http1/serialize.ts';
import type { RequestHead, ResponseHead } from '../src/dataplane/http1/types.ts';

const json = process.argv.includes('--json');

const GET_HEADS = [
  // curl-like, 94 bytes of headers
  'GET /api/v1/users/42?fields=name,email HTTP/1.1\r\nHost: users.default.svc.cluster.local:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n',
  // service-to-service call with tracing, ~230 bytes
  'GET /productpage?u=normal HTTP/1.1\r\nHost: productpage:9080\r\nUser-Agent: python-requests/2.31\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx-lane: dev-alice\r\n\r\n',
  // browser-ish, ~250 bytes
  'GET /static/app.js HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nReferer: https://shop.example.com/\r\nCookie: session=abc123\r\n\r\n',
].map((s) => Buffer.from(s, 'latin1'));

const RESPONSE_HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\nDate: Mon, 24 Nov 2025 10:00:00 GMT\r\nServer: envoy\r\nx-envoy-upstream-service-time: 3\r\n\r\n',
  'latin1',
);

/**
 * Runs `fn(n)` (which does n operations) and returns ns per operation: the best of 7 runs, in
 * CPU time of this process (user + system), so that other load on a shared machine inflates the
 * numbers as little as possible.
 */
function nsPerOp(n: number, fn: (n: number) => void): number {
  fn(Math.min(n, 20_000)); // warm-up
  fn(Math.min(n, 20_000));
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 7; r++) {
    const c0 = process.cpuUsage();
    fn(n);
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1e3) / n);
  }
  return best;
}

let sink = 0;

function requestHeads(pieces: readonly Buffer[]): number {
  const parser = new RequestParser({
    onHead: (h: RequestHead) => {
      sink += h.rawHeaders.length;
    },
    onBody: () => {},
    onEnd: () => {},
    onError: (e) => {
      throw e;
    },
  });
  const n0 = pieces.length === 1 ? 300_000 : Math.ceil(300_000 / pieces.length);
  return nsPerOp(n0, (n) => {
    for (let i = 0; i < n; i++) for (const p of pieces) parser.execute(p);
  });
}

function responseHeads(): number {
  const parser = new ResponseParser({
    onInformational: () => {},
    onHead: (h: ResponseHead) => {
      sink += h.status;
    },
    onBody: () => {},
    onEnd: () => {},
    onError: (e) => {
      throw e;
    },
  });
  return nsPerOp(300_000, (n) => {
    for (let i = 0; i < n; i++) {
      parser.expect('GET');
      parser.execute(RESPONSE_HEAD);
    }
  });
}

interface BodyResult {
  readonly mbPerS: number;
  /** ns per chunk (chunked) or per 64 KiB read (Content-Length). */
  readonly nsPerUnit: number;
}

/**
 * One 16 MiB request body arriving in 64 KiB reads. Body bytes are never touched (zero copy), so
 * the cost is per read and per chunk-size line, not per byte.
 */
function body(kind: 'chunked' | 'length', chunkData: number): BodyResult {
  const READ = 64 * 1024;
  const TOTAL = 16 * 1024 * 1024;
  let wire: Buffer;
  let units: number;
  if (kind === 'chunked') {
    const data = Buffer.alloc(chunkData, 0x61);
    const [size, , crlf] = encodeChunk(data);
    const unit = Buffer.concat([Buffer.from(size, 'latin1'), data, Buffer.from(crlf, 'latin1')]);
    units = TOTAL / chunkData;
    wire = Buffer.concat(Array.from({ length: units }, () => unit));
  } else {
    wire = Buffer.alloc(TOTAL, 0x61);
    units = TOTAL / READ;
  }
  const head = Buffer.from(
    kind === 'chunked'
      ? 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
      : `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`,
  );
  const tail = Buffer.from(kind === 'chunked' ? '0\r\n\r\n' : '');
  const reads: Buffer[] = [];
  for (let o = 0; o < wire.length; o += READ) reads.push(wire.subarray(o, o + READ));
  let got = 0;
  const parser = new RequestParser({
    onHead: () => {},
    onBody: (b) => {
      got += b.length;
    },
    onEnd: () => {},
    onError: (e) => {
      throw e;
    },
  });
  const ns = nsPerOp(16, (n) => {
    for (let m = 0; m < n; m++) {
      parser.execute(head);
      for (const r of reads) parser.execute(r);
      if (tail.length > 0) parser.execute(tail);
    }
  });
  if (got === 0) throw new Error('no body parsed');
  return { mbPerS: (TOTAL / ns) * 1e3, nsPerUnit: ns / units };
}

/** The proxy's own way to write a forwarded request head: a HeaderList, then requestHead. */
function serializeHead(): number {
  const headers = [
    'user-agent',
    'python-requests/2.31',
    'accept',
    '*/*',
    'traceparent',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'x-lane',
    'dev-alice',
  ];
  return nsPerOp(300_000, (n) => {
    for (let i = 0; i < n; i++) {
      const list = new HeaderList();
      for (let k = 0; k < headers.length; k += 2)
        list.push(headers[k]!, headers[k]!, headers[k + 1]!);
      sink += requestHead({
        method: 'GET',
        target: '/productpage?u=normal',
        host: 'productpage:9080',
        fields: list.serialize(),
        framing: NO_BODY,
      }).length;
    }
  });
}

const TYPICAL = GET_HEADS[1]!;
const results = {
  requestHeadNs: GET_HEADS.map((b) => ({ bytes: b.length, ns: requestHeads([b]) })),
  requestHeadSplitInTwoNs: requestHeads([TYPICAL.subarray(0, 100), TYPICAL.subarray(100)]),
  requestHeadByteByByteNs: requestHeads(Array.from(TYPICAL, (_, i) => TYPICAL.subarray(i, i + 1))),
  responseHeadNs: { bytes: RESPONSE_HEAD.length, ns: responseHeads() },
  chunked: {
    chunk64KiB: body('chunked', 64 * 1024),
    chunk8KiB: body('chunked', 8 * 1024),
    chunk1KiB: body('chunked', 1024),
  },
  contentLength: body('length', 0),
  serializeRequestHeadNs: serializeHead(),
};

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const f = (x: number) => x.toFixed(0);
  for (const r of results.requestHeadNs) {
    console.log(`request head, ${r.bytes} B in one read: ${f(r.ns)} ns/parse`);
  }
  console.log(
    `request head, ${TYPICAL.length} B in two reads: ${f(results.requestHeadSplitInTwoNs)} ns/parse`,
  );
  console.log(
    `request head, ${TYPICAL.length} B one byte per read: ${f(results.requestHeadByteByByteNs)} ns/parse`,
  );
  console.log(
    `response head, ${results.responseHeadNs.bytes} B: ${f(results.responseHeadNs.ns)} ns/parse`,
  );
  for (const [name, r] of Object.entries(results.chunked)) {
    console.log(
      `chunked body, ${name.slice(5)} chunks in 64 KiB reads: ${f(r.mbPerS)} MB/s (${f(r.nsPerUnit)} ns/chunk)`,
    );
  }
  console.log(
    `Content-Length body in 64 KiB reads: ${f(results.contentLength.mbPerS)} MB/s (${f(results.contentLength.nsPerUnit)} ns/read)`,
  );
  console.log(`serialize a request head (5 fields): ${f(results.serializeRequestHeadNs)} ns`);
}
if (sink === -1) console.log(sink);
