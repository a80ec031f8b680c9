/**
 * Per-request overrides end to end on the reference story, the way bob would use one: the
 * production gateway sends everyone to v1; `lanes override sign default/mockb=dev-bob` prints a
 * header line; one `curl` with it goes mocka v1 → mockb dev-bob → mockc v1 — that request only,
 * while a background client on the same gateway sees v1 → v1 → v1 throughout. Real daemon, real
 * workload processes (the apps forward only what OpenTelemetry forwards: baggage), every command a
 * separate CLI process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STORY_DIR, STORY_STEP_1 } from '../scripts/story.ts';
import type { AccessLogEntry } from '../src/dataplane/telemetry/access-log.ts';
import { chainOf, check, curl, lanes, teardown } from './support/cli.ts';

const V1 = 'mocka v1 → mockb v1 → mockc v1';

/** `name: value` as printed by `lanes override sign`, as curl -H would send it. */
function headerOf(line: string): Record<string, string> {
  const colon = line.indexOf(':');
  return { [line.slice(0, colon)]: line.slice(colon + 1).trim() };
}
const BOB = 'mocka v1 → mockb dev-bob → mockc v1';

describe('a per-request override on the story, from the production gateway', {
  timeout: 180_000,
}, () => {
  const state = mkdtempSync(join(tmpdir(), 'lanes-override-'));
  const cli = (...args: string[]) => lanes(args, { cwd: STORY_DIR, state });
  let prod = '';
  let metrics = '';
  let header = '';

  /** A client that keeps asking production without any override, and records what it gets. */
  const background = { stop: false, answers: [] as string[], done: Promise.resolve() };

  before(async () => {
    check(await cli('up', '--detach'), 'lanes up --detach');
    check(await cli('apply', ...STORY_STEP_1.flatMap((f) => ['-f', f])), 'apply step 1');
    check(
      await cli('apply', '--cluster', 'dev', '-f', 'dev-services.yaml', '-f', 'bob-dev.yaml'),
      'apply bob-dev',
    );
    const status = JSON.parse(check(await cli('status', '-o', 'json'), 'status').stdout) as {
      gateways: { name: string; url: string }[];
      metrics: { url: string };
    };
    prod = status.gateways.find((g) => g.name === 'ingressgateway')?.url ?? '';
    metrics = status.metrics.url;
    assert.ok(prod, 'the production gateway has a URL');
    background.done = (async () => {
      while (!background.stop) {
        const a = await curl(prod);
        background.answers.push(a.status === 200 ? chainOf(a.body) : `${a.status} ${a.body}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  });

  after(async () => {
    background.stop = true;
    await background.done.catch(() => {});
    await teardown(state, STORY_DIR);
    rmSync(state, { recursive: true, force: true });
  });

  test('lanes override sign prints the header line for curl', async () => {
    const signed = check(
      await cli('override', 'sign', 'default/mockb=dev-bob', '--ttl', '1h'),
      'override sign',
    );
    header = signed.stdout.trim();
    assert.match(
      header,
      /^lanes-override: default\/mockb=dev-bob;exp=\d+;kid=[0-9a-f]{8};sig=[A-Za-z0-9_-]{43}$/,
    );
    assert.equal(signed.stderr, '');
  });

  test('one request with it reaches mockb dev-bob; the next without it does not', async () => {
    const bob = await curl(prod, headerOf(header));
    assert.equal(chainOf(bob.body), BOB);
    assert.equal(bob.headers['x-lanes-override'], 'followed default/mockb=dev-bob');
    assert.equal(chainOf((await curl(prod)).body), V1);
  });

  test('the same pairs unsigned, or with a key the mesh does not have, are removed at the gateway', async () => {
    const unsigned = await curl(prod, { 'lanes-override': 'default/mockb=dev-bob' });
    assert.equal(chainOf(unsigned.body), V1);
    assert.equal(unsigned.headers['x-lanes-override'], 'rejected: unsigned');
    const foreign = await curl(prod, headerOf(header.replace(/kid=[0-9a-f]{8}/, 'kid=00000000')));
    assert.equal(chainOf(foreign.body), V1);
    assert.equal(foreign.headers['x-lanes-override'], 'rejected: foreign-key');
  });

  test('lanes explain --override shows the same path and why', async () => {
    const out = check(
      await cli(
        'explain',
        '--gateway',
        'istio-system/ingressgateway',
        '--override',
        'mockb=dev-bob',
      ),
      'explain --override',
    ).stdout;
    assert.match(
      out,
      /override default\/mockb=dev-bob from header lanes-override \(signed by the mesh/,
    );
    assert.match(out, /override default\/mockb=dev-bob from baggage entry lanes-override/);
    assert.match(out, /→ default\/mockb lane dev-bob at .*the sidecar of default\/mockb-dev-bob/);
    assert.match(out, /→ default\/mockc lane v1/);
  });

  test('the access log marks exactly one overridden hop: mockb, in lane dev-bob, from baggage', async () => {
    // The log is flushed every 200 ms.
    await new Promise((r) => setTimeout(r, 400));
    const entries = readFileSync(join(state, 'access.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AccessLogEntry);
    const overridden = entries.filter((e) => e.overridden);
    assert.deepEqual(
      overridden.map((e) => [e.hop, e.service, e.lane, e.override, e.overrideSource]),
      [['outbound', 'default/mockb', 'dev-bob', 'default/mockb=dev-bob', 'baggage']],
    );
    assert.ok(entries.some((e) => e.overrideRejected === 'unsigned' && e.hop === 'gateway'));
  });

  test('the metrics count that hop apart (override="true"), which release analysis leaves out', async () => {
    const text = (await curl(metrics)).body;
    const overridden = text
      .split('\n')
      .filter((l) => l.startsWith('istio_requests_total{') && l.includes('override="true"'));
    assert.equal(overridden.length, 1, overridden.join('\n'));
    assert.match(overridden[0]!, /reporter="source"/);
    assert.match(overridden[0]!, /destination_service_name="mockb"/);
    assert.match(overridden[0]!, /lane="v1",lane_served="dev-bob"/);
    assert.match(overridden[0]!, / 1$/);
  });

  test('after lanes override rotate-key the old header is no longer followed', async () => {
    check(await cli('override', 'rotate-key'), 'override rotate-key');
    const answer = await curl(prod, headerOf(header));
    assert.equal(chainOf(answer.body), V1);
    assert.equal(answer.headers['x-lanes-override'], 'rejected: foreign-key');
  });

  test('the background client saw v1 → v1 → v1 on every one of its requests', async () => {
    background.stop = true;
    await background.done;
    assert.ok(background.answers.length >= 10, `${background.answers.length} requests`);
    assert.deepEqual(
      background.answers.filter((a) => a !== V1),
      [],
    );
  });
});
