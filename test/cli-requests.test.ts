/**
 * `lanes requests` through the real CLI, daemon and instrumented mock workloads: a request is
 * shown hop by hop — the gateway, each sidecar's inbound and outbound side — joined by the trace
 * id the gateway started and the apps' OpenTelemetry SDK forwards; `-f` prints each new request.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RequestsResponse } from '../src/controlplane/local/protocol.ts';
import { curl, lanes, scrubbedEnv, teardown } from './support/cli.ts';

const CLI = fileURLToPath(new URL('../src/tools/cli/main.ts', import.meta.url));

/** A mock service with the default OpenTelemetry propagators (W3C trace context and baggage). */
function mock(name: string, upstream: string | undefined): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { ports: [{ port: 8000, name: http }], selector: { app: ${name} } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: { instrumentation.opentelemetry.io/inject-nodejs: "true" }
    spec:
      containers:
      - name: app
        image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java
        env:
        - { name: app, value: ${name} }
        - { name: version, value: v1 }
${upstream ? `        - { name: upstream_url, value: "http://${upstream}:8000/" }\n` : ''}---
`;
}

const MESH = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { app: edge }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  http: [{ route: [{ destination: { host: front } }] }]
---
${mock('front', 'back')}${mock('back', undefined)}`;

const dir = mkdtempSync(join(tmpdir(), 'lanes-cli-requests-'));
const state = join(dir, 'state');
const cli = (...args: string[]) => lanes(args, { cwd: dir, state });
let url = '';

before(async () => {
  writeFileSync(join(dir, 'mesh.yaml'), MESH);
  assert.equal((await cli('up', '--detach', '--quiet')).code, 0);
  const applied = await cli('apply', '-f', 'mesh.yaml');
  assert.equal(applied.code, 0, applied.stderr);
  const status = JSON.parse((await cli('status', '-o', 'json')).stdout) as {
    gateways: { url: string }[];
  };
  url = status.gateways[0]!.url;
});
after(async () => {
  await teardown(state, dir);
  rmSync(dir, { recursive: true, force: true });
});

/** Until the latest request has all its hops (the access log is written in batches). */
async function latest(hops: number): Promise<RequestsResponse['requests'][number]> {
  for (let i = 0; i < 50; i++) {
    const r = await cli('requests', '--limit', '1', '-o', 'json');
    const last = (JSON.parse(r.stdout) as RequestsResponse).requests[0];
    if (last && last.hops.length >= hops) return last;
    await sleep(100);
  }
  throw new Error('the request did not show all its hops');
}

test('a request is shown hop by hop, joined by the trace id the gateway started', async () => {
  const answer = await curl(`${url}/hello`);
  assert.equal(answer.status, 200);
  const r = await latest(4);
  assert.match(r.traceId ?? '', /^[0-9a-f]{32}$/);
  assert.deepEqual(
    r.hops.map((h) => [h.listener, h.service, h.status]),
    [
      ['gateway default/edge:80 (cluster default)', 'default/front', 200],
      ['sidecar inbound default/front', null, 200],
      ['sidecar outbound default/front', 'default/back', 200],
      ['sidecar inbound default/back', null, 200],
    ],
  );
  const table = await cli('requests', '--limit', '1');
  assert.equal(table.code, 0, table.stderr);
  assert.match(
    table.stdout,
    /^\d\d:\d\d:\d\d\.\d{3} {2}GET 127\.0\.0\.1:\d+\/hello {2}200 {2}[\d.]+ ms {2}trace [0-9a-f]{32}$/m,
  );
  assert.match(
    table.stdout,
    /^ {2}sidecar outbound default\/front +→ default\/back +127\.0\.0\.1:\d+ +200 /m,
  );
});

test('requests -f prints each new request once it is complete', async () => {
  const follow = spawn(process.execPath, [CLI, '--state', state, 'requests', '-f', '-o', 'json'], {
    cwd: dir,
    env: scrubbedEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  follow.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  try {
    // The follower may not be listening yet (a loaded machine starts a CLI slowly), or start in
    // the middle of a request: send until a whole one comes out, with all its hops.
    const whole = () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as RequestsResponse['requests'][number])
        .find((r) => r.hops.length === 4);
    for (let i = 0; i < 40 && !whole(); i++) {
      assert.equal((await curl(`${url}/followed`)).status, 200);
      await sleep(250);
    }
    assert.equal(whole()?.path, '/followed');
  } finally {
    follow.kill('SIGINT');
  }
});
