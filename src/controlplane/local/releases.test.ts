/**
 * The release driver between a kill and a restart: what it wrote to releases.json is where the
 * next daemon starts, including a promotion whose cleanup was asked for and never confirmed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { compile } from '../../core/compiler/compile.ts';
import { HopMetrics } from '../../dataplane/telemetry/metrics.ts';
import { ReleaseDriver } from './releases.ts';
import { StateDir, StateError } from './state/state.ts';
import { mockDeployment, type TestClock, testDriver } from './test-fixtures.ts';

const deployment = mockDeployment;

const TEXT = [
  `apiVersion: v1
kind: Service
metadata: { name: mocka }
spec: { selector: { app: mocka }, ports: [{ port: 8000 }] }`,
  deployment('mocka', 'v1'),
  deployment('mocka', 'v2'),
  `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec:
  routeHeader: version
  baseline: v1
  services: [mocka]
  ingress: [{ gateway: istio-system/ingressgateway, destination: { host: mocka } }]`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }`,
  `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: mock-v2 }
spec:
  group: mock
  lane: v2
  workloads: [mocka-v2]
  steps: [{ weight: 50, pause: 2s }]
  cleanup: { after: 1s }`,
].join('\n---\n');

const RESOURCES: Resource[] = [...loadResources([{ file: 'r.yaml', text: TEXT }]).resources];

describe('release driver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-releases-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function driver(clock: TestClock, deletes: string[][], resolveDeletes: boolean) {
    return testDriver(dir, RESOURCES, clock, (w) => {
      deletes.push([...w]);
      return resolveDeletes ? Promise.resolve() : new Promise(() => {});
    });
  }

  test('a cleanup asked for by a daemon that died is asked for again, and the release then succeeds', async () => {
    const clock = { t: 0 };
    const deletes: string[][] = [];
    const first = driver(clock, deletes, false);
    first.sync(RESOURCES);
    for (let i = 0; i < 5; i++) {
      clock.t += 1000;
      first.tick();
    }
    assert.equal(first.view('mock-v2')?.phase, 'Promoting');
    assert.deepEqual(deletes, [['default/mocka-v1']], 'cleanup asked once, never confirmed');
    assert.equal(first.routing(RESOURCES)[0]?.promoted, true);

    // kill -9: a new driver reads releases.json.
    const again: string[][] = [];
    const second = driver(clock, again, true);
    second.sync(RESOURCES);
    assert.equal(second.view('mock-v2')?.phase, 'Promoting');
    clock.t += 1000;
    second.tick();
    assert.deepEqual(again, [['default/mocka-v1']]);
    await new Promise((r) => setImmediate(r));
    assert.equal(second.view('mock-v2')?.phase, 'Succeeded');
    const reasons = second.view('mock-v2')!.history.map((h) => h.reason);
    assert.deepEqual(reasons, ['Started', 'Promoted', 'CleanedUp']);
  });

  test('a releases.json of another format stops the driver with the file, what it expected and what to do', () => {
    const other = mkdtempSync(join(tmpdir(), 'lanes-releases-format-'));
    try {
      const state = StateDir.open(other);
      state.writeReleases({ format: 'lanes-releases/0', releases: {} });
      assert.throws(
        () =>
          new ReleaseDriver({
            state,
            metrics: new HopMetrics(),
            resources: () => RESOURCES,
            table: () => undefined,
            compileWith: (releases) => compile(RESOURCES, [], { releases }).table,
            publish: () => {},
            deleteWorkloads: async () => {},
          }),
        (e: unknown) =>
          e instanceof StateError &&
          e.message ===
            `${join(state.dir, 'releases.json')} is not a lanes release file (format "lanes-releases/0", expected lanes-releases/1 with a map of releases); lanes will not restart releases from nothing — fix it, or move it away to forget every release's progress`,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('a release says whether its analysis passes: not measured, then inconclusive without traffic', () => {
    const other = mkdtempSync(join(tmpdir(), 'lanes-releases-analysis-'));
    try {
      const text = TEXT.replace(
        'cleanup: { after: 1s }',
        'analysis: { interval: 1s, minRequests: 5, successRate: { min: 99 } }',
      );
      const resources = [...loadResources([{ file: 'r.yaml', text }]).resources];
      const clock = { t: 0 };
      const d = testDriver(other, resources, clock);
      d.sync(resources);
      const passing = () => {
        const c = d.view('mock-v2')!.conditions.find((x) => x.type === 'AnalysisPassing')!;
        return `${c.status}/${c.reason}: ${c.message}`;
      };
      assert.equal(passing(), 'Unknown/NotMeasured: no analysis window has ended yet');
      // The first tick of a process only starts its clock; the next one counts the second.
      d.tick();
      clock.t += 1000;
      d.tick();
      assert.equal(passing(), 'Unknown/Inconclusive: 0 requests in the last window');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
