/**
 * A promotion outlives its Release only when the user's resources say so: deleting a promoted
 * release, or changing its spec, is refused with what to apply first; once that is applied, the
 * same delete goes through. Checked with the real driver, compiler and the advice's own YAML.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { formatIssue } from '../../config/source/issues.ts';
import { compile } from '../../core/compiler/compile.ts';
import { promotionApplyCheck, promotionDeleteCheck } from './promotion-guard.ts';
import { mockDeployment, testDriver } from './test-fixtures.ts';

const deployment = mockDeployment;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app: ${name} }, ports: [{ port: 8000 }] }`;

const GROUP = (services: string) => `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec:
  routeHeader: version
  baseline: v1
  services: ${services}
  ingress: [{ gateway: istio-system/ingressgateway, destination: { host: mocka } }]`;

const RELEASE = (steps: string) => `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: mock-v2 }
spec:
  group: mock
  lane: v2
  workloads: [mocka-v2]
  steps: ${steps}
  cleanup: { after: 1s }`;

const load = (...docs: string[]): Resource[] => [
  ...loadResources([{ file: 'mesh.yaml', text: docs.join('\n---\n') }]).resources,
];

const BASE = [
  service('mocka'),
  service('mockb'),
  deployment('mocka', 'v1'),
  deployment('mocka', 'v2'),
  deployment('mockb', 'v1'),
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }`,
];
const STEPS = '[{ weight: 50, pause: 2s }]';
const RESOURCES = load(...BASE, GROUP('[mocka, mockb]'), RELEASE(STEPS));
/** The line of the LaneGroup's document in mesh.yaml (its first line, apiVersion). */
const GROUP_LINE = [...BASE, ''].join('\n---\n').split('\n').length;
const withoutRelease = (rs: readonly Resource[]) => rs.filter((r) => r.kind !== 'Release');

describe('a promoted release is not ended by accident', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-promotion-guard-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = { t: 0 };
  const driver = testDriver(dir, RESOURCES, clock);
  const deps = { releases: () => driver, resources: () => RESOURCES, instances: () => [] };
  const deleteCheck = promotionDeleteCheck(deps);
  const applyCheck = promotionApplyCheck(deps);

  test('while the release still steps, deleting it ends no promotion', () => {
    driver.sync(RESOURCES);
    clock.t += 1000;
    driver.tick();
    assert.equal(driver.view('mock-v2')?.phase, 'Progressing');
    assert.equal(deleteCheck(withoutRelease(RESOURCES)), undefined);
  });

  test('once promoted and cleaned up, deleting it is refused: where each service would go, and what to apply first', async () => {
    for (let i = 0; i < 5; i++) {
      clock.t += 1000;
      driver.tick();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(driver.view('mock-v2')?.phase, 'Succeeded');
    const refused = deleteCheck(withoutRelease(RESOURCES));
    assert.equal(
      refused?.message,
      'release mock-v2 made lane v2 the baseline of default/mocka, and deleting it would hand them back; write the promotion into your resources first',
    );
    assert.deepEqual(refused?.lines, [
      'default/mocka would go back to lane v1',
      "the release's cleanup deleted the workloads of the lanes they left (default/mocka-v1): requests would fall back further, or fail with LANE_NO_ENDPOINTS",
      'lane v2 exists only through the release; apply it first: {apiVersion: lanes.dev/v1alpha1, kind: Lane, metadata: {name: v2}, spec: {group: mock, selector: {app: mocka, version: v2}, services: [mocka]}}',
      `and make lane v2 first in the fallback of those services in LaneGroup mock (mesh.yaml:${GROUP_LINE}): services: [{name: mocka, fallback: [v2]}, mockb]`,
      'or hand them back anyway: lanes delete release mock-v2 --force',
    ]);
  });

  test('with the advice applied (its own YAML), the same delete goes through', () => {
    const lines = deleteCheck(withoutRelease(RESOURCES))!.lines;
    const lane = lines.find((l) => l.includes('kind: Lane'))!.split('apply it first: ')[1]!;
    const services = lines.find((l) => l.includes('LaneGroup mock'))!.split('services: ')[1]!;
    const advised = load(...BASE, GROUP(services), lane);
    assert.deepEqual(
      loadResources([{ file: 'x.yaml', text: lane }]).issues.map(formatIssue),
      [],
      'the Lane line is valid YAML for lanes',
    );
    assert.equal(deleteCheck(advised), undefined);
    // And the lane is then the baseline without the release, as it was with it.
    const table = compile(advised, []).table;
    assert.equal(table.services['default/mocka']?.lanes?.baselineChain[0], 'v2');
    assert.equal(table.services['default/mockb']?.lanes?.baselineChain[0], 'v1');
  });

  test('with only the Lane applied, the refusal asks for the group change alone', () => {
    const lane = `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: mock, selector: { app: mocka, version: v2 }, services: [mocka] }`;
    const refused = deleteCheck(load(...BASE, GROUP('[mocka, mockb]'), lane));
    assert.deepEqual(refused?.lines, [
      'default/mocka would go back to lane v1',
      "the release's cleanup deleted the workloads of the lanes they left (default/mocka-v1): requests would fall back further, or fail with LANE_NO_ENDPOINTS",
      `make lane v2 first in the fallback of those services in LaneGroup mock (mesh.yaml:${GROUP_LINE}): services: [{name: mocka, fallback: [v2]}, mockb]`,
      'or hand them back anyway: lanes delete release mock-v2 --force',
    ]);
  });

  test('deleting something else leaves the promotion in force: nothing to refuse', () => {
    assert.equal(deleteCheck(RESOURCES.filter((r) => r.metadata.name !== 'mockb-v1')), undefined);
  });

  test("changing the finished release's spec is refused at its spec, saying the same", () => {
    const changed = load(RELEASE('[{ weight: 20, pause: 2s }, { weight: 60, pause: 2s }]'));
    const all = [...withoutRelease(RESOURCES), ...changed];
    const issues = applyCheck(changed, all, RESOURCES).map(formatIssue);
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /^mesh\.yaml:\d+:\d+: Release mock-v2: spec: release mock-v2 made lane v2 the baseline of default\/mocka, and changing its spec \(which starts it again\) would hand them back;.*default\/mocka would go back to lane v1; .*or hand them back anyway: lanes delete release mock-v2 --force, then apply it$/,
    );
    // Applying the same spec again changes nothing.
    assert.deepEqual(applyCheck(load(RELEASE(STEPS)), RESOURCES, RESOURCES), []);
  });
});
