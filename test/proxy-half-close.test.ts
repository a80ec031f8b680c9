/**
 * A client that ends its side of the connection (TCP half-close) right after sending its
 * request still gets the response, as HAProxy and nginx give it; what it sent completely is
 * answered, pipelined requests included, and then the proxy ends its side too.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import {
  closeOpenFixtures,
  endpoint,
  fixture,
  GATEWAY_YAML,
  listen,
  table,
} from './support/proxy-fixture.ts';

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).length}`));
});
const upstreamPort = listen(server);
after(() => {
  server.close();
  server.closeAllConnections();
});

/** Writes `bytes`, ends the client's side at once, and reads until the proxy closes. */
function sendAndEnd(port: number, bytes: string): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      ended = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended });
    });
    socket.on('error', () => {});
    socket.end(bytes);
  });
}

async function gateway(): Promise<number> {
  const f = fixture();
  f.store.publish(
    table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]'), [
      endpoint('app', await upstreamPort),
    ]),
  );
  return f.gateway();
}

describe('a client that half-closes', () => {
  afterEach(closeOpenFixtures);

  it('gets the response to the GET it sent before ending its side, then the proxy ends', async () => {
    const r = await sendAndEnd(await gateway(), 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(r.text.endsWith('GET /a 0'), r.text);
    assert.equal(r.ended, true, 'the proxy ended its side (FIN), not a reset');
  });

  it('gets the response to a POST whose whole body it sent', async () => {
    const r = await sendAndEnd(
      await gateway(),
      'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
    );
    assert.ok(r.text.endsWith('POST /b 5'), r.text);
  });

  it('gets both answers to two pipelined requests, in order', async () => {
    const r = await sendAndEnd(
      await gateway(),
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const bodies = [...r.text.matchAll(/GET \/\d 0/g)].map((m) => m[0]);
    assert.deepEqual(bodies, ['GET /1 0', 'GET /2 0']);
  });

  it('gets a mesh error it caused answered too (no route for the path)', async () => {
    const f = fixture();
    f.store.publish(
      table(
        GATEWAY_YAML(
          '    - match: [{ uri: { prefix: /only } }]\n      route: [{ destination: { host: app } }]',
        ),
        [endpoint('app', await upstreamPort)],
      ),
    );
    const r = await sendAndEnd(await f.gateway(), 'GET /else HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(r.text, /x-lanes-error: NO_ROUTE/);
  });

  it('gets nothing for a head it never finished: the connection just closes', async () => {
    const r = await sendAndEnd(await gateway(), 'GET /partial HTTP/1.1\r\nHost: x\r\n');
    assert.equal(r.text, '');
  });
});
