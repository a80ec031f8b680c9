import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReleaseSpec } from '../../config/kinds/native/index.ts';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { formatIssue } from '../../config/source/issues.ts';
import { compile } from '../../core/compiler/compile.ts';
import {
  brokenReferences,
  laneTemplate,
  promotionPlan,
  releaseIssues,
  releasesOf,
} from './references.ts';

const deployment = (app: string, version: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}-${version} }
spec:
  selector: { matchLabels: { app: ${app}, version: ${version} } }
  template:
    metadata: { labels: { app: ${app}, version: ${version}${extra} } }
    spec: { containers: [{ name: c, image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java }] }`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app: ${name} }, ports: [{ port: 8000 }] }`;

const BASE = [
  service('mocka'),
  service('mockb'),
  service('mockc'),
  deployment('mocka', 'v1'),
  deployment('mockb', 'v1'),
  deployment('mockc', 'v1'),
  deployment('mocka', 'v2'),
  deployment('mockc', 'v2'),
  `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec:
  routeHeader: version
  baseline: v1
  services: [mocka, mockb, mockc]
  ingress: [{ gateway: istio-system/ingressgateway, destination: { host: mocka } }]`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }`,
].join('\n---\n');

function load(text: string, file = 'base.yaml'): Resource[] {
  const r = loadResources([{ file, text }]);
  assert.deepEqual(r.issues.filter((i) => i.severity === 'error').map(formatIssue), []);
  return [...r.resources];
}

const RELEASE = (spec: string, name = 'mock-v2') => `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: ${name} }
spec:
${spec}
  steps: [{ weight: 5 }]`;

const GOOD = '  group: mock\n  lane: v2\n  workloads: [mocka-v2, mockc-v2]';

function issues(
  release: string,
  options: { active?: string[]; before?: Resource[]; extra?: string } = {},
) {
  const base = load(options.extra ? `${BASE}\n---\n${options.extra}` : BASE);
  const applied = load(release, 'release.yaml');
  const before = options.before ?? base;
  return releaseIssues(applied, [...base, ...applied], before, {
    active: (n) => options.active?.includes(n) ?? false,
  }).map(formatIssue);
}

describe('releaseIssues', () => {
  test('a release whose group, workloads and derived lane hold has no issue', () => {
    assert.deepEqual(issues(RELEASE(GOOD)), []);
  });

  const bad: [string, string, RegExp, { active?: string[]; extra?: string }?][] = [
    [
      'a lane group that does not exist',
      '  group: shop\n  lane: v2\n  workloads: [mocka-v2]',
      /^release\.yaml:5:10: Release mock-v2: spec\.group: lane group "shop" does not exist; LaneGroups: mock$/,
    ],
    [
      'a workload that does not exist',
      '  group: mock\n  lane: v2\n  workloads: [mocka-v2, mockd-v2]',
      /^release\.yaml:7:25: Release mock-v2: spec\.workloads\[1\]: Deployment default\/mockd-v2 does not exist; apply it with the release or before/,
    ],
    [
      'a lane of another group',
      '  group: mock\n  lane: other\n  workloads: [mocka-v2]',
      /spec\.lane: lane other belongs to group g2, not mock/,
      {
        extra: `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g2 }
spec: { routeHeader: x, services: [x] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: other }
spec: { group: g2, selector: { version: v2 } }`,
      },
    ],
    [
      'an existing lane that does not select the workloads',
      '  group: mock\n  lane: v1\n  workloads: [mocka-v2]',
      /spec\.workloads\[0\]: the pods of default\/mocka-v2 \(app: mocka, version: v2\) are not selected by lane v1 \(version: v1\)/,
    ],
    [
      'a lane it cannot create, because its workloads share no label with each other only',
      '  group: mock\n  lane: v9\n  workloads: [mocka-v1, mockc-v2]',
      /spec\.lane: lane v9 does not exist and cannot be created: its workloads share no pod label/,
    ],
    [
      'a second release for the same lane while the first runs',
      GOOD,
      /^release\.yaml:6:9: Release mock-v2: spec\.lane: release first is already running for lane v2; one release per lane at a time/,
      {
        active: ['first'],
        extra: `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: first }
spec: { group: mock, lane: v2, workloads: [mocka-v2], steps: [{ weight: 5 }] }`,
      },
    ],
  ];
  for (const [what, spec, error, options] of bad) {
    test(`refuses ${what}, at the field's file:line:col`, () => {
      const found = issues(RELEASE(spec), options);
      assert.ok(
        found.some((e) => error.test(e)),
        `expected ${error} among:\n${found.join('\n')}`,
      );
    });
  }

  test('a finished release for the same lane does not block a new one', () => {
    const extra = `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: first }
spec: { group: mock, lane: v2, workloads: [mocka-v2], steps: [{ weight: 5 }] }`;
    assert.deepEqual(issues(RELEASE(GOOD), { extra, active: [] }), []);
  });

  test('a running release cannot change its lane or workloads; its steps it can', () => {
    const before = load(`${BASE}\n---\n${RELEASE(GOOD)}`);
    const moved = issues(RELEASE('  group: mock\n  lane: v3\n  workloads: [mocka-v2, mockc-v2]'), {
      before,
      active: ['mock-v2'],
    });
    assert.ok(
      moved.some((e) => /spec\.lane: cannot change lane of release mock-v2 while it runs/.test(e)),
      moved.join('\n'),
    );
    const restepped = issues(RELEASE(GOOD).replace('weight: 5', 'weight: 10'), {
      before,
      active: ['mock-v2'],
    });
    assert.deepEqual(restepped, []);
  });
});

describe('laneTemplate', () => {
  const all = load(`${BASE}\n---\n${RELEASE(GOOD)}`);
  const release = releasesOf(all)[0]!;

  test('selects by the labels all its workloads share, with the group services that select them', () => {
    assert.deepEqual(laneTemplate(release, all), {
      selector: { version: 'v2' },
      services: [
        { namespace: 'default', name: 'mocka' },
        { namespace: 'default', name: 'mockc' },
      ],
    });
  });

  test('a single workload is selected by all its labels', () => {
    const one = load(
      `${BASE}\n---\n${RELEASE('  group: mock\n  lane: va\n  workloads: [mocka-v2]')}`,
    );
    assert.deepEqual(laneTemplate(releasesOf(one)[0]!, one), {
      selector: { app: 'mocka', version: 'v2' },
      services: [{ namespace: 'default', name: 'mocka' }],
    });
  });

  test('refuses labels that would also select another workload of the group', () => {
    const copy = deployment('mocka', 'v2').replace('name: mocka-v2 }', 'name: mocka-v2-copy }');
    const all2 = load(`${BASE}\n---\n${copy}\n---\n${RELEASE(GOOD)}`);
    assert.equal(
      laneTemplate(releasesOf(all2)[0]!, all2),
      'the labels its workloads share (version: v2) also select default/mocka-v2-copy; give them a label of their own (such as version: v2) or create Lane v2',
    );
  });
});

describe('promotionPlan and brokenReferences', () => {
  const all = load(`${BASE}\n---\n${RELEASE(GOOD)}`);
  const release = releasesOf(all)[0]!;
  const spec = release.spec as ReleaseSpec;

  test("names each service's previous baseline and the old workloads to delete, never its own", () => {
    const template = laneTemplate(release, all);
    assert.ok(typeof template !== 'string');
    const { table } = compile(all, [], {
      releases: [
        {
          resource: release,
          group: spec.group,
          lane: spec.lane,
          template,
          weight: 0,
          verify: undefined,
          promoted: false,
        },
      ],
    });
    assert.deepEqual(promotionPlan(release, table, all), {
      services: [
        { service: 'default/mocka', from: 'v1' },
        { service: 'default/mockc', from: 'v1' },
      ],
      cleanup: ['default/mocka-v1', 'default/mockc-v1'],
    });
  });

  test('a deleted group or workload breaks a running release', () => {
    assert.equal(brokenReferences(release, all), undefined);
    assert.equal(
      brokenReferences(
        release,
        all.filter((r) => r.kind !== 'LaneGroup'),
      ),
      'lane group mock was deleted',
    );
    assert.equal(
      brokenReferences(
        release,
        all.filter((r) => r.metadata.name !== 'mockc-v2'),
      ),
      'its workloads default/mockc-v2 were deleted',
    );
  });
});
