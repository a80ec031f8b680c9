/**
 * Gray releases end to end through the CLI, on the mock chain of examples/release/ with the
 * timings shortened to seconds: a good release walks its steps under a background client to
 * Succeeded (baseline switched, old workloads gone, not one failed request); a faulty one rolls
 * back by itself within interval × failureLimit plus one interval, every failed request answered
 * by the faulty version itself; and a daemon killed with `kill -9` mid-release resumes it after
 * `lanes up` at the recorded step, with the pause time already spent. A promoted release is then
 * deleted only once its promotion is written into the resources, or with --force.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ReleaseView } from '../src/controlplane/local/protocol.ts';
import { type CliResult, chainOf, curl, lanes, teardown } from './support/cli.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/release/', import.meta.url));
const INTERVAL_S = 2;
const FAILURE_LIMIT = 2;

function release(name: string, lane: string, workloads: string, extra = ''): string {
  return `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: ${name} }
spec:
  group: mock
  lane: ${lane}
  workloads: [${workloads}]
  analysis: { interval: ${INTERVAL_S}s, minRequests: 5, successRate: { min: 99 }, failureLimit: ${FAILURE_LIMIT} }
${extra}`;
}

function mock(app: string, version: string, upstream: string | undefined, env = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}-${version} }
spec:
  selector: { matchLabels: { app: ${app}, version: ${version} } }
  template:
    metadata:
      labels: { app: ${app}, version: ${version} }
      annotations: { instrumentation.opentelemetry.io/inject-nodejs: "true" }
    spec:
      containers:
        - name: default
          image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java
          env:
            - { name: app, value: ${app} }
            - { name: version, value: ${version} }
${upstream ? `            - { name: upstream_url, value: "${upstream}" }\n` : ''}${env}`;
}

/**
 * The transitions that move weight, in order: a busy machine may add an Inconclusive pause (too
 * few requests in a window), which is the release being careful, not a replayed step.
 */
function moves(v: ReleaseView): [string, number][] {
  return v.history
    .filter((h) =>
      ['Started', 'Approved', 'StepPassed', 'Promoted', 'CleanedUp'].includes(h.reason),
    )
    .map((h) => [h.reason, h.weight]);
}

interface Report {
  readonly requests: number;
  readonly failures: readonly string[];
}

/** Eight clients calling the gateway back to back until stopped; every non-200 is kept. */
function background(url: string): { stop(): Promise<Report> } {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const one = async () => {
    while (running) {
      requests++;
      try {
        const a = await curl(url);
        if (a.status !== 200) failures.push(`${a.status} ${a.body.trim().slice(0, 300)}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const done = Promise.all(Array.from({ length: 8 }, one));
  return {
    async stop() {
      running = false;
      await done;
      return { requests, failures };
    },
  };
}

describe('gray releases through the CLI', { timeout: 300_000 }, () => {
  const state = mkdtempSync(join(tmpdir(), 'lanes-release-'));
  const files = mkdtempSync(join(tmpdir(), 'lanes-release-yaml-'));
  const cli = (...args: string[]) => lanes(args, { cwd: EXAMPLES, state });
  let url = '';
  after(async () => {
    await teardown(state, tmpdir());
    rmSync(state, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  function check(r: CliResult, what: string): CliResult {
    assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r;
  }

  function file(name: string, text: string): string {
    const path = join(files, name);
    writeFileSync(path, text);
    return path;
  }

  async function status(name: string): Promise<ReleaseView> {
    const r = check(await cli('release', 'status', name, '-o', 'json'), 'release status');
    return JSON.parse(r.stdout) as ReleaseView;
  }

  async function until(
    name: string,
    done: (v: ReleaseView) => boolean,
    limitMs: number,
  ): Promise<ReleaseView> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const v = await status(name);
      if (done(v)) return v;
      if (Date.now() > deadline)
        assert.fail(
          `release ${name} is ${v.phase} at ${v.weight} %:\n${v.history.map((h) => `${h.at} ${h.phase} ${h.weight}% ${h.message}`).join('\n')}`,
        );
      await sleep(200);
    }
  }

  test('a good release: verified with ?group=gray, approved, 5 → 20 → 50 %, promoted, cleaned up, no request lost', async () => {
    check(await cli('up', '-d'), 'up');
    check(await cli('apply', '-f', 'mock.yaml'), 'apply mock.yaml');
    const s = JSON.parse(check(await cli('status', '-o', 'json'), 'status').stdout) as {
      gateways: { url: string }[];
    };
    url = s.gateways[0]!.url;
    assert.equal(chainOf((await curl(url)).body), 'mocka v1 → mockb v1 → mockc v1');

    const spec = release(
      'mock-v2',
      'v2',
      'mocka-v2, mockc-v2',
      `  verify: { match: { query: { name: group, exact: gray } }, approval: manual }
  steps: [{ weight: 5, pause: 2s }, { weight: 20, pause: 2s }, { weight: 50, pause: 2s }]
  cleanup: { after: 2s }
`,
    );
    check(
      await cli('apply', '-f', 'gray-v2.yaml', '-f', file('release-v2.yaml', spec)),
      'apply v2',
    );
    assert.equal((await status('mock-v2')).phase, 'Verifying');
    // Only testers reach the gray lane before the approval; mockb has no v2 and falls back.
    assert.equal(
      chainOf((await curl(`${url}/?group=gray`)).body),
      'mocka v2 → mockb v1 → mockc v2',
    );
    assert.equal(chainOf((await curl(url)).body), 'mocka v1 → mockb v1 → mockc v1');

    const loop = background(url);
    await sleep(300);
    check(await cli('release', 'approve', 'mock-v2'), 'approve');
    const done = await until('mock-v2', (v) => v.phase === 'Succeeded', 120_000);
    const report = await loop.stop();
    assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.requests} failed`);
    assert.ok(report.requests > 100, `the background client ran (${report.requests} requests)`);

    assert.deepEqual(moves(done), [
      ['Started', 0],
      ['Approved', 5],
      ['StepPassed', 20],
      ['StepPassed', 50],
      ['Promoted', 100],
      ['CleanedUp', 100],
    ]);
    assert.deepEqual(done.promotion?.cleanup, ['default/mocka-v1', 'default/mockc-v1']);
    // The baseline switched: a request with no tag now takes v2 of mocka and mockc.
    assert.equal(chainOf((await curl(url)).body), 'mocka v2 → mockb v1 → mockc v2');
    const deployments = JSON.parse(
      check(await cli('get', 'deploy', '-o', 'json'), 'get').stdout,
    ) as {
      items: { name: string }[];
    };
    assert.deepEqual(deployments.items.map((d) => d.name).sort(), [
      'mocka-v2',
      'mockb-v1',
      'mockc-v2',
    ]);
    const described = check(await cli('describe', 'release', 'mock-v2'), 'describe').stdout;
    assert.match(described, /Phase: {4}Succeeded/);
    assert.match(described, /Promoted: .*default\/mocka v1 → v2, default\/mockc v1 → v2/);
  });

  test('a release naming what does not exist is refused at apply, at the field, and nothing is applied', async () => {
    const bad = await cli(
      'apply',
      '-f',
      file('release-bad.yaml', release('mock-bad', 'v9', 'mocka-v9', '  steps: [{ weight: 5 }]\n')),
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /release-bad\.yaml:7:15: Release mock-bad: spec\.workloads\[0\]: Deployment default\/mocka-v9 does not exist/,
    );
    assert.match(bad.stderr, /nothing was applied/);
    assert.equal((await cli('release', 'status', 'mock-bad')).code, 1);
    // A command that does not fit the phase says why and changes nothing.
    const late = await cli('release', 'approve', 'mock-v2');
    assert.equal(late.code, 1);
    assert.match(late.stderr, /release mock-v2: nothing to approve: the release is Succeeded/);
  });

  test('a faulty version rolls back by itself within interval × failureLimit + one interval', async () => {
    // Running before its release, it gets no traffic: no lane selects it yet.
    check(
      await cli(
        'apply',
        '-f',
        file(
          'mockc-v3.yaml',
          mock(
            'mockc',
            'v3',
            undefined,
            '            - { name: fault_error_percent, value: "40" }\n',
          ),
        ),
      ),
      'apply mockc-v3',
    );
    const loop = background(url);
    await sleep(300);
    check(
      await cli(
        'apply',
        '-f',
        file(
          'release-v3.yaml',
          release('mockc-v3', 'v3', 'mockc-v3', '  steps: [{ weight: 50, pause: 30s }]\n'),
        ),
      ),
      'apply the faulty release',
    );
    const rolled = await until('mockc-v3', (v) => v.phase !== 'Progressing', 60_000);
    // Both ends from the release's own history, as the daemon recorded them: the faulty version
    // went live when the lane first got a share of the traffic. (The clock of this test would
    // add the CLI's start-up and the polling, which a loaded machine stretches by seconds.)
    const live = rolled.history.find((h) => h.weight > 0);
    assert.ok(live, 'the history records when the lane got traffic');
    const tookMs = Date.parse(rolled.history.at(-1)!.at) - Date.parse(live.at);
    await sleep(1000);
    const report = await loop.stop();
    assert.equal(rolled.phase, 'RolledBack');
    assert.equal(rolled.weight, 0);
    assert.equal(rolled.outcome?.reason, 'AnalysisFailed');
    assert.match(rolled.outcome!.message, /successRate \d+(\.\d+)? \(must be >= 99\)/);
    process.stderr.write(`# faulty release: live to rolled back in ${tookMs} ms\n`);
    assert.ok(
      tookMs <= (FAILURE_LIMIT + 1) * INTERVAL_S * 1000,
      `rolled back ${tookMs} ms after going live, more than interval × failureLimit + one interval`,
    );
    // Every failed request was answered by the faulty version itself.
    assert.ok(report.failures.length > 0, 'the faulty version answered some requests');
    for (const f of report.failures)
      assert.match(f, /^500 .*mockc\(version: v3, .*fault: injected error/);
    // No gray traffic any more; the workload stays for inspection.
    for (let i = 0; i < 20; i++) assert.doesNotMatch(chainOf((await curl(url)).body), /v3/);
    const deployments = check(await cli('get', 'deploy'), 'get').stdout;
    assert.match(deployments, /mockc-v3/);
  });

  test('kill -9 of the daemon mid-release: lanes up resumes the step where it was, nothing replayed', async () => {
    check(
      await cli('apply', '-f', file('mockb-v4.yaml', mock('mockb', 'v4', 'http://mockc:8000/'))),
      'v4',
    );
    const loop = background(url);
    check(
      await cli(
        'apply',
        '-f',
        file(
          'release-v4.yaml',
          release(
            'mockb-v4',
            'v4',
            'mockb-v4',
            '  steps: [{ weight: 10, pause: 2s }, { weight: 30, pause: 8s }]\n',
          ),
        ),
      ),
      'apply release v4',
    );
    const before = await until(
      'mockb-v4',
      (v) => v.weight === 30 && v.stepElapsedMs >= 3000,
      60_000,
    );
    const { pid } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL');
    await loop.stop();
    check(await cli('up', '-d'), 'up again');
    const resumed = await status('mockb-v4');
    assert.equal(resumed.phase, 'Progressing');
    assert.equal(resumed.step, 2, 'the recorded step, not the first');
    assert.ok(
      resumed.stepElapsedMs >= before.stepElapsedMs,
      `pause time kept: ${resumed.stepElapsedMs} ms after the restart, ${before.stepElapsedMs} ms before`,
    );
    const s = JSON.parse(check(await cli('status', '-o', 'json'), 'status').stdout) as {
      gateways: { url: string }[];
    };
    const again = background(s.gateways[0]!.url);
    const done = await until('mockb-v4', (v) => v.phase === 'Succeeded', 90_000);
    await again.stop();
    assert.deepEqual(moves(done), [
      ['Started', 10],
      ['StepPassed', 30],
      ['Promoted', 100],
      ['Promoted', 100],
    ]);
    assert.equal(done.phase, 'Succeeded');
    assert.equal(chainOf((await curl(s.gateways[0]!.url)).body), 'mocka v2 → mockb v4 → mockc v2');
    url = s.gateways[0]!.url;
  });

  test('deleting a promoted release is refused with what to apply first; with it applied the delete keeps the baseline, and --force hands it back', async () => {
    const refused = await cli('delete', 'release', 'mock-v2');
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /release mock-v2 made lane v2 the baseline of default\/mocka, default\/mockc, and deleting it would hand them back/,
    );
    assert.match(refused.stderr, /default\/mocka would go back to lane v1/);
    assert.match(refused.stderr, /cleanup deleted .*default\/mocka-v1, default\/mockc-v1/);
    assert.match(refused.stderr, /nothing was deleted/);
    assert.equal(chainOf((await curl(url)).body), 'mocka v2 → mockb v4 → mockc v2');

    // Apply what the refusal says, taken from its own lines: the Lane, and the group's services.
    const lane = /apply it first: (\{.*\})$/m.exec(refused.stderr)?.[1];
    const services = /LaneGroup mock \(mock\.yaml:\d+\): services: (\[.*\])$/m.exec(
      refused.stderr,
    )?.[1];
    assert.ok(lane && services, refused.stderr);
    const group = readFileSync(join(EXAMPLES, 'mock.yaml'), 'utf8')
      .split(/^---$/m)
      .find((d) => /^kind: LaneGroup$/m.test(d))!
      .replace(/^ {2}services: .*$/m, `  services: ${services}`);
    check(
      await cli('apply', '-f', file('keep-v2.yaml', `${lane}\n---\n${group}`)),
      'apply the advice',
    );
    check(await cli('delete', 'release', 'mock-v2'), 'delete mock-v2 once v2 is written down');
    assert.equal(chainOf((await curl(url)).body), 'mocka v2 → mockb v4 → mockc v2');

    const forced = check(await cli('delete', 'release', 'mockb-v4', '--force'), 'delete --force');
    assert.match(forced.stdout, /release.*mockb-v4 deleted/);
    assert.equal(chainOf((await curl(url)).body), 'mocka v2 → mockb v1 → mockc v2');
  });
});
