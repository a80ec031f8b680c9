/**
 * examples/grpc end to end, the way its README runs it: `lanes up -d` in a state directory of its
 * own, `lanes apply -f examples/grpc/` from the repository root, then gRPC calls through the
 * real gateway into the built-in mock's gRPC flavour with the OpenTelemetry SDK injected — with
 * grpc-js in this process, with the README's `call.ts` and with its `curl` line — and the hops
 * the mesh recorded, read back with `lanes requests`. Then `lanes down`.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { callMockOnce } from '../src/controlplane/local/mock/grpc.ts';
import { chainOf, check, lanes, scrubbedEnv, teardown } from './support/cli.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const GRAY = { 'x-gray': 'true' };
const chain = (a: string, b: string, c: string) => `mocka ${a} → mockb ${b} → mockc ${c}`;
const BASELINE = chain('v1', 'v1', 'v1');
const GRAY_CHAIN = chain('v2', 'v1', 'v2');

/** The README's curl line: one call with `x-gray: true`, its answer's text on stdout. */
const CURL_LINE = (() => {
  const readme = readFileSync(join(ROOT, 'examples/grpc/README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith("printf '") && l.includes(' curl '));
  assert.ok(line, 'examples/grpc/README.md has a printf … | curl … line');
  return line;
})();

/** Why this machine's curl cannot run the README's line, or undefined when it can. */
function curlMissing(): string | undefined {
  try {
    const version = execFileSync('curl', ['--version'], { encoding: 'utf8' });
    return /^Features:.*\bHTTP2\b/m.test(version) ? undefined : 'curl was built without HTTP/2';
  } catch {
    return 'curl is not installed';
  }
}

/** One hop of `lanes requests -o json`, the fields this test reads. */
interface Hop {
  readonly listener: string;
  readonly method: string;
  readonly service: string | null;
  readonly lane: string | null;
  readonly tag: string | null;
  readonly tagSource: string;
  readonly protocol?: string;
  readonly status: number;
  readonly grpcStatus?: number;
}

describe('examples/grpc through the CLI: the story chain over gRPC', { timeout: 90_000 }, () => {
  const state = mkdtempSync(join(tmpdir(), 'lanes-grpc-story-'));
  const cli = (...args: string[]) => lanes(args, { cwd: ROOT, state });
  let url = '';
  let authority = '';

  before(async () => {
    check(await cli('up', '--detach'), 'lanes up --detach');
  });

  after(async () => {
    await teardown(state, ROOT);
    rmSync(state, { recursive: true, force: true });
  });

  test('lanes apply -f examples/grpc/ applies it whole, with no warning and no note', async () => {
    const applied = check(await cli('apply', '-f', 'examples/grpc/'), 'lanes apply');
    assert.doesNotMatch(applied.stderr, /warning:|note:/);
    const status = JSON.parse(check(await cli('status', '-o', 'json'), 'lanes status').stdout) as {
      gateways: { name: string; url: string }[];
    };
    url = status.gateways.find((g) => g.name === 'ingressgateway')?.url ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    authority = new URL(url).host;
  });

  const calls: { name: string; metadata: Record<string, string>; chain: string }[] = [
    { name: 'no metadata', metadata: {}, chain: BASELINE },
    { name: 'x-gray: true', metadata: GRAY, chain: GRAY_CHAIN },
    { name: 'x-gray: false', metadata: { 'x-gray': 'false' }, chain: BASELINE },
    // The route sets `version` and the group's baggage entry: a client cannot pick a lane itself.
    { name: 'version: v2 (the route header)', metadata: { version: 'v2' }, chain: BASELINE },
    { name: 'baggage: version=v2', metadata: { baggage: 'version=v2' }, chain: BASELINE },
  ];
  for (const c of calls) {
    test(`a grpc-js call with ${c.name} answers ${c.chain}, three times out of three`, async () => {
      for (let i = 0; i < 3; i++)
        assert.equal(chainOf(await callMockOnce(authority, 'hello', c.metadata)), c.chain);
    });
  }

  test('the gray call went over HTTP/2 on every hop, its lane read from baggage after the first app', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    assert.equal(
      chainOf(await callMockOnce(authority, 'hello', { ...GRAY, traceparent })),
      GRAY_CHAIN,
    );
    const expected = [
      'gateway istio-system/ingressgateway:80 (cluster default) → default/mocka lane v2, tag v2 from route',
      'sidecar inbound default/mocka-v2 → the app, tag v2 from route-header',
      'sidecar outbound default/mocka-v2 → default/mockb lane v1, tag v2 from baggage',
      'sidecar inbound default/mockb-v1 → the app, tag v2 from route-header',
      'sidecar outbound default/mockb-v1 → default/mockc lane v2, tag v2 from baggage',
      'sidecar inbound default/mockc-v2 → the app, tag v2 from route-header',
    ].sort();
    // The access log is written as hops end; the last ones may trail the answer by a moment.
    let hops: Hop[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const out = check(
        await cli('requests', '--trace', traceId, '-o', 'json'),
        'lanes requests --trace',
      );
      const { requests } = JSON.parse(out.stdout) as { requests: { hops: Hop[] }[] };
      // A new sidecar-to-sidecar tunnel (CONNECT) is a hop of its own; it routes nothing.
      hops = (requests[0]?.hops ?? []).filter((h) => h.method !== 'CONNECT');
      if (hops.length >= expected.length) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seen = hops.map(
      (h) =>
        `${h.listener} → ${h.service === null ? 'the app' : `${h.service} lane ${h.lane}`}, tag ${h.tag} from ${h.tagSource}`,
    );
    assert.deepEqual(seen.sort(), expected);
    for (const h of hops) {
      assert.equal(h.protocol, 'HTTP/2', h.listener);
      assert.equal(h.status, 200, h.listener);
      assert.equal(h.grpcStatus, 0, h.listener);
    }
  });

  test('examples/grpc/call.ts prints the chain, with and without metadata', async () => {
    const call = (...args: string[]) =>
      run(process.execPath, ['examples/grpc/call.ts', url, ...args], {
        cwd: ROOT,
        env: scrubbedEnv({}),
        timeout: 20_000,
      });
    assert.equal(chainOf((await call('x-gray=true')).stdout), GRAY_CHAIN);
    assert.equal(chainOf((await call()).stdout), BASELINE);
  });

  test("the README's curl --http2-prior-knowledge line makes the same call", async (t) => {
    const missing = curlMissing();
    if (missing) return t.skip(missing);
    const curl = (line: string) =>
      run('sh', ['-c', line], { env: scrubbedEnv({ GW: url }), timeout: 20_000 });
    assert.equal(chainOf((await curl(CURL_LINE)).stdout), GRAY_CHAIN);
    // The README: "Without -H 'x-gray: true' it answers v1 → v1 → v1".
    const withoutGray = CURL_LINE.replace(" -H 'x-gray: true'", '');
    assert.notEqual(withoutGray, CURL_LINE);
    assert.equal(chainOf((await curl(withoutGray)).stdout), BASELINE);
  });
});
