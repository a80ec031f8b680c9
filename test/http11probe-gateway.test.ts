/**
 * Every Http11Probe case through a real gateway in front of a strict upstream (Node's own HTTP
 * server). The parser decides (its verdicts and deviations are in src/dataplane/http1/DEVIATIONS.md);
 * this checks that the gateway carries out exactly that decision end to end: a rejected message
 * gets the mesh's error (`x-lanes-error`) and never reaches the upstream, and every accepted one
 * reaches the upstream once, in a form the upstream parses without complaint — nothing ambiguous
 * is ever forwarded.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RequestParser } from '../src/dataplane/http1/request-parser.ts';
import { ResponseParser } from '../src/dataplane/http1/response-parser.ts';
import type { ParseError, RequestHead } from '../src/dataplane/http1/types.ts';
import { cases, requestsOf } from './support/http11probe.ts';
import {
  endpoint,
  type Fixture,
  fixture,
  GATEWAY_YAML,
  listen,
  table,
} from './support/proxy-fixture.ts';

interface Expectation {
  /** Messages the gateway forwards, in order (their methods). */
  readonly forwarded: string[];
  /** The status of the gateway's own error answer, if the connection ends with one. */
  readonly error: ParseError | undefined;
  /** Responses the client must read. */
  readonly responses: number;
  /** The methods of the requests answered, in order (a HEAD response has no body). */
  readonly methods: string[];
  /** The last message is still incomplete when the client stops sending. */
  readonly incomplete: boolean;
}

/** What the gateway must do with these bytes, according to the parser. */
function expectationOf(steps: readonly string[]): Expectation {
  const heads: RequestHead[] = [];
  let error: ParseError | undefined;
  let ended = 0;
  const parser = new RequestParser({
    onHead: (h) => heads.push(h),
    onBody: () => {},
    onEnd: () => {
      ended++;
    },
    onError: (e) => {
      error = e;
    },
  });
  for (const step of steps) parser.execute(Buffer.from(step, 'latin1'));
  const forwarded: string[] = [];
  const methods = heads.map((h) => h.method);
  let responses = 0;
  for (let i = 0; i < ended; i++) {
    const head = heads[i]!;
    responses++;
    // CONNECT is answered by the proxy itself (CONNECT_UNSUPPORTED), then the connection closes.
    if (head.method === 'CONNECT')
      return { forwarded, error: undefined, responses, incomplete: false, methods };
    // An expectation other than 100-continue is answered 417 by the proxy (RFC 9110 §10.1.1).
    if (head.expect === 'other') {
      if (head.framing.kind !== 'none' || !head.keepAlive)
        return { forwarded, error: undefined, responses, incomplete: false, methods };
      continue;
    }
    forwarded.push(head.method);
    if (!head.keepAlive || head.upgrade !== undefined)
      return { forwarded, error: undefined, responses, incomplete: false, methods };
  }
  if (error) return { forwarded, error, responses: responses + 1, incomplete: false, methods };
  // An incomplete message: the gateway waits for the rest (a head gets 408 after the timeout).
  return { forwarded, error: undefined, responses, incomplete: heads.length > ended, methods };
}

interface Observed {
  readonly statuses: number[];
  readonly errors: string[];
  readonly closed: boolean;
}

function send(
  port: number,
  steps: readonly string[],
  responses: number,
  methods: readonly string[],
  waitForClose: boolean,
  patienceMs: number,
): Promise<Observed> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const statuses: number[] = [];
    const errors: string[] = [];
    let closed = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ statuses, errors, closed });
    };
    const parser = new ResponseParser({
      onInformational: () => {},
      onHead: (h) => {
        statuses.push(h.status);
        for (let i = 0; i < h.rawHeaders.length; i += 2) {
          if (h.rawHeaders[i]!.toLowerCase() === 'x-lanes-error') errors.push(h.rawHeaders[i + 1]!);
        }
      },
      onBody: () => {},
      onEnd: () => {
        if (statuses.length >= responses && !waitForClose) setImmediate(finish);
        else parser.expect(methods[statuses.length] ?? 'GET');
      },
      onError: () => finish(),
    });
    parser.expect(methods[0] ?? 'GET');
    socket.on('data', (c: Buffer) => parser.execute(c));
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {});
    const timer = setTimeout(finish, patienceMs);
    let i = 0;
    const next = () => {
      if (i < steps.length) {
        socket.write(Buffer.from(steps[i++]!, 'latin1'));
        setTimeout(next, 20);
      }
    };
    if (responses === 0 && steps.length === 0) finish();
    else next();
  });
}

describe('Http11Probe cases through a gateway', () => {
  let f: Fixture;
  let gw: number;
  const received: string[] = [];
  const upstreamErrors: string[] = [];
  const upstream = http.createServer({ requireHostHeader: false }, (req, res) => {
    req.resume();
    // Counted when complete: a message cut off by an abort never counts as delivered.
    req.on('end', () => {
      received.push(req.method ?? '');
      res.end('ok');
    });
  });
  upstream.on('upgrade', (req, socket) => {
    received.push(req.method ?? '');
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
  });
  upstream.on(
    'clientError',
    (err: Error & { code?: string; rawPacket?: Buffer }, socket: net.Socket) => {
      // With a listener, Node no longer answers by itself.
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      // Node's parser knows only the standard methods (extension methods are valid HTTP, RFC 9110
      // §9.1), and a message the proxy cut off ends early: neither is ambiguous framing.
      if (err.code === 'HPE_INVALID_METHOD' || err.code === 'HPE_INVALID_EOF_STATE') return;
      upstreamErrors.push(
        `${err.code} ${err.message} ${err.rawPacket?.toString('latin1').slice(0, 200) ?? ''}`,
      );
    },
  );

  before(async () => {
    const port = await listen(upstream);
    f = fixture();
    f.store.publish(
      table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]'), [endpoint('app', port)]),
    );
    gw = await f.gateway({ headersTimeoutMs: 400 });
  });
  after(async () => {
    await f.close();
    upstream.close();
    upstream.closeAllConnections();
  });

  it('MAL-H2-PREFACE: the gateway takes the HTTP/2 preface as h2c with prior knowledge and answers with its SETTINGS', async () => {
    // The parser alone answers 505 (probe.test.ts); a connection that opens with the preface
    // never reaches it: gateways speak HTTP/2 and HTTP/1.1 on one port.
    const socket = net.connect(gw, '127.0.0.1');
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const first: Buffer = await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    assert.equal(first[3], 0x4, 'a SETTINGS frame');
    assert.deepEqual(received, [], 'nothing reaches the upstream');
  });

  for (const c of cases) {
    // Speaking HTTP/2 is not the HTTP/1.1 parser's decision (the test above).
    if (c.id === 'MAL-H2-PREFACE') continue;
    it(`${c.id}: the gateway carries out the parser's decision`, async () => {
      const steps = requestsOf(c);
      const want = expectationOf(steps);
      received.length = 0;
      upstreamErrors.length = 0;
      const waitForClose = want.error !== undefined;
      const got = await send(
        gw,
        steps,
        want.responses,
        want.methods,
        waitForClose,
        want.incomplete ? 600 : 3000,
      );
      // Let the upstream finish reading anything forwarded.
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(upstreamErrors, [], 'the upstream never gets bytes it cannot parse');
      const standard = want.forwarded.filter((m) => http.METHODS.includes(m));
      assert.deepEqual(received, standard, 'exactly the accepted messages reach the upstream');
      if (!want.error) {
        // Every request the parser completed gets its answer (not a timeout or a dropped
        // connection); a head left incomplete may get a 408 after them, nothing else.
        assert.ok(
          got.statuses.length >= want.responses,
          'the client reads every answer it is owed',
        );
        const extra = got.statuses.slice(want.responses);
        assert.ok(extra.length === 0 || (extra.length === 1 && extra[0] === 408), `then ${extra}`);
      }
      if (want.error) {
        assert.equal(
          got.statuses.at(-1),
          want.error.status,
          `the gateway answers ${want.error.code} itself`,
        );
        assert.ok(got.errors.length > 0, 'with x-lanes-error');
        assert.equal(got.closed, true, 'and closes the connection');
      }
    });
  }
});
