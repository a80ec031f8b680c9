/**
 * h2spec, a conformance tool no one here wrote, against a real gateway (strict mode: every case,
 * HTTP/2 framing, streams, flow control, HPACK). Every failure must be one that
 * src/dataplane/http2/DEVIATIONS.md explains; a listed case that passes fails the test too.
 * h2spec is found as $H2SPEC, .tools/h2spec (scripts/build-h2spec.sh) or on PATH; without it the
 * test says so and skips.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  endpoint,
  type Fixture,
  fixture,
  GATEWAY_YAML,
  listen,
  table,
} from './support/proxy-fixture.ts';

function findH2spec(): string | undefined {
  if (process.env.H2SPEC) return process.env.H2SPEC;
  const local = new URL('../.tools/h2spec', import.meta.url).pathname;
  if (existsSync(local)) return local;
  try {
    return (
      execFileSync('sh', ['-c', 'command -v h2spec'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** `package classname` of each case DEVIATIONS.md lists, from its table's first column. */
function listedDeviations(): Set<string> {
  const text = readFileSync(
    new URL('../src/dataplane/http2/DEVIATIONS.md', import.meta.url),
    'utf8',
  );
  const ids = new Set<string>();
  for (const m of text.matchAll(/^\| `([^`]+)` ([^|]+?) \|/gm)) ids.add(`${m[1]} ${m[2]!.trim()}`);
  return ids;
}

const h2spec = findH2spec();

describe('h2spec against a gateway', {
  skip: h2spec
    ? false
    : 'h2spec not found: build it with scripts/build-h2spec.sh <h2spec checkout> (or set H2SPEC)',
}, () => {
  let f: Fixture;
  let gw: number;
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('h2spec reads this body'));
  });

  before(async () => {
    const port = await listen(upstream);
    f = fixture();
    f.store.publish(
      table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]'), [endpoint('app', port)]),
    );
    gw = await f.gateway();
  });
  after(async () => {
    await f.close();
    upstream.close();
    upstream.closeAllConnections();
  });

  it('passes every case but those DEVIATIONS.md explains', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'h2spec-')), 'report.xml');
    // h2spec exits non-zero when any case fails; the report says which.
    await promisify(execFile)(
      h2spec!,
      ['-h', '127.0.0.1', '-p', String(gw), '-S', '-o', '5', '-j', report],
      {
        timeout: 120_000,
      },
    ).catch(() => undefined);
    const xml = readFileSync(report, 'utf8');
    const cases = [
      ...xml.matchAll(
        /<testcase package="([^"]+)" classname="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g,
      ),
    ];
    assert.ok(cases.length >= 146, `h2spec ran ${cases.length} cases`);
    const failed = cases
      .filter((c) => c[3]!.includes('<failure') || c[3]!.includes('<error'))
      .map((c) => `${c[1]} ${c[2]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"')}`);
    const skipped = cases.filter((c) => c[3]!.includes('<skipped'));
    console.log(
      `h2spec: ${cases.length - failed.length - skipped.length} of ${cases.length} passed, ${skipped.length} skipped`,
    );
    assert.deepEqual(failed.sort(), [...listedDeviations()].sort());
  });
});
