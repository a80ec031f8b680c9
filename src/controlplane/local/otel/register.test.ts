/**
 * The injected SDK on real processes: an app that forwards nothing by its own code, started with
 * the environment local mode gives it (`otelEnv`: NODE_OPTIONS `--import …/register.ts`), must
 * forward baggage and trace context to the requests it makes while handling a request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ProcessGroup, startMock } from '../../../../test/support/processes.ts';
import {
  headerNames,
  headerValue,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from '../../../../test/support/recording-server.ts';
import { parseBaggage } from '../../../core/carriers/baggage.ts';
import { parseTraceparent } from '../../../core/carriers/trace-context.ts';
import { mergeNodeOptions, otelEnv } from './env.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const INCOMING = {
  baggage: 'version=v2,user=alice;prop=1,enc=%20x',
  traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
};

/** Baggage as decoded entries: encoders differ on which characters they percent-encode. */
function decoded(header: string | undefined) {
  return parseBaggage(header ?? '').map((e) => ({
    key: e.key,
    value: e.value,
    properties: e.properties,
  }));
}

function get(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          body += s;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Sends INCOMING to `url` and returns what `upstream` received for it. */
async function relay(url: string, upstream: RecordingServer): Promise<RecordedRequest> {
  const index = upstream.requests.length;
  await get(url, INCOMING);
  return upstream.request(index);
}

function assertSameBaggage(req: RecordedRequest): void {
  assert.deepEqual(decoded(headerValue(req, 'baggage')), decoded(INCOMING.baggage));
}

function assertContinuesTrace(req: RecordedRequest): void {
  const tp = parseTraceparent(headerValue(req, 'traceparent'));
  assert.ok(tp, `a valid traceparent, got ${headerValue(req, 'traceparent')}`);
  assert.equal(tp.traceId, TRACE_ID);
  assert.notEqual(tp.parentId, PARENT_ID, 'the app is a new parent');
}

describe('injected OpenTelemetry SDK', () => {
  const group = new ProcessGroup();
  let upstream: RecordingServer;
  let fixtures: string;

  before(async () => {
    upstream = await startRecordingServer({ body: '-> upstream' });
    fixtures = mkdtempSync(join(tmpdir(), 'lanes-otel-'));
  });
  after(async () => {
    await group.stopAll();
    await upstream?.close();
    if (fixtures) rmSync(fixtures, { recursive: true, force: true });
  });

  test('baggage,tracecontext: forwards the baggage entries and continues the trace', async () => {
    const m = await startMock(group, {
      app: 'mocka',
      version: 'v1',
      upstreamUrl: upstream.url,
      instrumented: { OTEL_PROPAGATORS: 'baggage,tracecontext' },
    });
    const seen = await relay(m.url, upstream);
    assertSameBaggage(seen);
    assertContinuesTrace(seen);
    assert.equal(m.stderr(), '', 'no warnings');
  });

  test('baggage only: forwards baggage and no traceparent, even when one arrived', async () => {
    const m = await startMock(group, {
      app: 'mocka',
      version: 'v1',
      upstreamUrl: upstream.url,
      instrumented: { OTEL_PROPAGATORS: 'baggage' },
    });
    const seen = await relay(m.url, upstream);
    assertSameBaggage(seen);
    assert.deepEqual(headerNames(seen).sort(), ['baggage', 'connection', 'host']);
  });

  test('the Instrumentation default (tracecontext,baggage) forwards both', async () => {
    const m = await startMock(group, {
      app: 'mocka',
      version: 'v1',
      upstreamUrl: upstream.url,
      instrumented: true,
    });
    const seen = await relay(m.url, upstream);
    assertSameBaggage(seen);
    assertContinuesTrace(seen);
  });

  test('b3multi: forwards x-b3-traceid; unknown propagators are named on stderr and skipped', async () => {
    const m = await startMock(group, {
      app: 'mocka',
      version: 'v1',
      upstreamUrl: upstream.url,
      instrumented: { OTEL_PROPAGATORS: 'b3multi,jaeger,baggage,nonsense' },
    });
    const index = upstream.requests.length;
    await get(m.url, {
      baggage: 'version=v2',
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': PARENT_ID,
      'x-b3-sampled': '1',
    });
    const seen = await upstream.request(index);
    assert.equal(headerValue(seen, 'x-b3-traceid'), TRACE_ID);
    assert.notEqual(headerValue(seen, 'x-b3-spanid'), PARENT_ID);
    assert.equal(headerValue(seen, 'baggage'), 'version=v2');
    assert.equal(
      m.stderr(),
      'lanes otel: OTEL_PROPAGATORS: "jaeger" is not available in the SDK lanes injects (available: tracecontext, baggage, b3, b3multi); ignored\n' +
        'lanes otel: OTEL_PROPAGATORS: unknown propagator "nonsense" (available: tracecontext, baggage, b3, b3multi); ignored\n',
    );
  });

  test('through http_proxy with NODE_USE_ENV_PROXY=1: the proxy sees absolute-form requests with the headers', async () => {
    const proxy = await startRecordingServer({ body: '-> via-proxy' });
    try {
      const m = await startMock(group, {
        app: 'mocka',
        version: 'v1',
        upstreamUrl: 'http://mockb:8000/',
        instrumented: { OTEL_PROPAGATORS: 'baggage,tracecontext' },
        env: { NODE_USE_ENV_PROXY: '1', http_proxy: proxy.url },
      });
      const seen = await relay(m.url, proxy);
      assert.equal(seen.target, 'http://mockb:8000/');
      assert.equal(headerValue(seen, 'host'), 'mockb:8000');
      assertSameBaggage(seen);
      assertContinuesTrace(seen);
    } finally {
      await proxy.close();
    }
  });

  test('works for CommonJS apps and for ESM named imports of node:http', async () => {
    const app = (kind: 'cjs' | 'esm') => `${
      kind === 'cjs'
        ? "const { createServer, get } = require('node:http');"
        : "import { createServer, get } from 'node:http';"
    }
const server = createServer((req, res) => {
  get(process.env.upstream_url, (up) => {
    up.resume();
    up.on('end', () => res.end('${kind}'));
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
`;
    writeFileSync(join(fixtures, 'app.cjs'), app('cjs'));
    writeFileSync(join(fixtures, 'app.mjs'), app('esm'));
    // The app's own NODE_OPTIONS loads node:http as ESM before the SDK: the named exports exist
    // before they are patched and must be updated (syncBuiltinESMExports).
    writeFileSync(join(fixtures, 'early.mjs'), "import 'node:http';\n");
    const env = otelEnv(undefined, 'fixture');
    const early = mergeNodeOptions(
      `--import ${pathToFileURL(join(fixtures, 'early.mjs')).href}`,
      env.NODE_OPTIONS!,
    );
    for (const [file, nodeOptions] of [
      ['app.cjs', env.NODE_OPTIONS],
      ['app.mjs', env.NODE_OPTIONS],
      ['app.mjs', early],
    ] as const) {
      const p = await group.start({
        name: `${file} with NODE_OPTIONS=${nodeOptions}`,
        args: [join(fixtures, file)],
        env: { upstream_url: upstream.url, ...env, NODE_OPTIONS: nodeOptions },
        ready: { stdout: /listening on 127\.0\.0\.1:(\d+)/ },
      });
      const seen = await relay(`http://127.0.0.1:${p.match![1]}/`, upstream);
      assertSameBaggage(seen);
      assertContinuesTrace(seen);
    }
  });

  test('a chain of three instrumented mocks keeps the baggage end to end', async () => {
    const last = await startRecordingServer({ body: '' });
    try {
      const mockc = await startMock(group, {
        app: 'mockc',
        version: 'v2',
        upstreamUrl: last.url,
        instrumented: { OTEL_PROPAGATORS: 'baggage' },
      });
      const mockb = await startMock(group, {
        app: 'mockb',
        version: 'v1',
        upstreamUrl: mockc.url,
        instrumented: { OTEL_PROPAGATORS: 'baggage' },
      });
      const mocka = await startMock(group, {
        app: 'mocka',
        version: 'v2',
        upstreamUrl: mockb.url,
        instrumented: { OTEL_PROPAGATORS: 'baggage' },
      });
      const body = await get(mocka.url, { baggage: INCOMING.baggage });
      assert.equal(
        body,
        `-> mocka(version: v2, ip: 127.0.0.1:${mocka.port})` +
          `-> mockb(version: v1, ip: 127.0.0.1:${mockb.port})` +
          `-> mockc(version: v2, ip: 127.0.0.1:${mockc.port})`,
      );
      // What mockc sent on: the baggage survived two application hops.
      assertSameBaggage(await last.request(0));
    } finally {
      await last.close();
    }
  });

  test('exports spans as OTLP/HTTP JSON when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const collector = await startRecordingServer({ body: '{}' });
    try {
      const m = await startMock(group, {
        app: 'mockc',
        version: 'v1',
        instrumented: {
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_BSP_SCHEDULE_DELAY: '20',
        },
      });
      await get(m.url, INCOMING);
      const seen = await collector.request(0);
      assert.equal(seen.method, 'POST');
      assert.equal(seen.target, '/v1/traces');
      const json = JSON.parse(seen.body.toString()) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: { traceId: string; kind: number }[] }[];
        }[];
      };
      const rs = json.resourceSpans[0]!;
      const serviceName = rs.resource.attributes.find((a) => a.key === 'service.name');
      assert.equal(serviceName?.value.stringValue, 'mockc');
      const span = rs.scopeSpans[0]!.spans[0]!;
      assert.equal(span.traceId, TRACE_ID);
    } finally {
      await collector.close();
    }
  });
});
