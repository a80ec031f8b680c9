/** `lanes render istio` through the CLI: output, warnings on stderr, and its errors. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run } from '../src/tools/cli/main.ts';

const STORY = fileURLToPath(new URL('../examples/story/', import.meta.url));
const STEP_1 = [
  'gateways.yaml',
  'instrumentation.yaml',
  'mock.yaml',
  'swimlane-v1.yaml',
  'ingress-vs.yaml',
];

async function lanes(args: readonly string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: {
      write: (s: string) => {
        stdout += s;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
      },
    },
    stdin: (async function* () {
      yield stdin;
    })(),
    env: {},
    cwd: STORY,
  });
  return { code, stdout, stderr };
}

const step1 = STEP_1.flatMap((f) => ['-f', f]);

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: unknown;
}
function docs(yaml: string): Doc[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Doc);
}

/** examples/release/release-v2.yaml's Release, without the Deployments it names. */
const RELEASE_ONLY = `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: {name: mock-v2}
spec:
  group: mock
  lane: v2
  workloads: [mocka-v2, mockc-v2]
  verify: {match: {query: {name: group, exact: gray}}, approval: manual}
  steps: [{weight: 5, pause: 30s}]
`;

/** A gray version of app-b for examples/mse-param-rule (whose base is the instances in no lane), and its Release. */
const GRAY2 = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-b-gray2}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-b, version: gray2}}
  template:
    metadata: {labels: {app: app-b, version: gray2}}
    spec: {containers: [{name: app, image: asm-mock}]}
---
apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: {name: b-gray2}
spec:
  group: mse-demo
  lane: gray2
  workloads: [app-b-gray2]
  verify: {match: {query: {name: group, exact: gray2}}, approval: manual}
  steps: [{weight: 10, pause: 1m}]
`;

function kinds(yaml: string): string[] {
  return parseAllDocuments(yaml).map((d) => {
    const o = d.toJS() as { kind: string; metadata: { name: string } };
    return `${o.kind} ${o.metadata.name}`;
  });
}

describe('lanes render istio', () => {
  it('prints the Istio objects of the story step 1 and warns about what does not render', async () => {
    const r = await lanes(['render', 'istio', ...step1]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(kinds(r.stdout), [
      'Gateway ingressgateway',
      'Gateway ingressgateway-dev',
      'DestinationRule mocka-lanes',
      'DestinationRule mockb-lanes',
      'DestinationRule mockc-lanes',
      'VirtualService mocka-lanes',
      'VirtualService mockb-lanes',
      'VirtualService mockc-lanes',
      'VirtualService swimlane-ingress-vs',
    ]);
    assert.deepEqual(
      r.stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(': ').slice(0, 3).join(': ')),
      [
        'warning: ASMSwimLaneGroup mock spec.permissiveModeConfiguration.traceHeader: BaggageHygieneNeedsExtension',
        'warning: ASMSwimLaneGroup mock spec.isPermissive: HealthFallbackNotRendered',
      ],
    );
  });

  it('--edge-lua trafficextension adds one Lua filter per gateway instead of the hygiene warning', async () => {
    const r = await lanes(['render', 'istio', ...step1, '--edge-lua', 'trafficextension']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      kinds(r.stdout).filter((k) => k.startsWith('TrafficExtension')),
      [
        'TrafficExtension lanes-edge-hygiene-istio-system-ingressgateway',
        'TrafficExtension lanes-edge-hygiene-istio-system-ingressgateway-dev',
      ],
    );
    assert.doesNotMatch(r.stderr, /BaggageHygieneNeedsExtension/);
  });

  it('rendering its own output again gives the same objects (lanes reads back only the user’s parts)', async () => {
    const once = await lanes(['render', 'istio', ...step1]);
    // The output (Gateways, DestinationRules, VirtualServices, the user's merged one) read back
    // beside the files it does not hold.
    const twice = await lanes(
      ['render', 'istio', '-f', 'mock.yaml', '-f', 'swimlane-v1.yaml', '-f', '-'],
      once.stdout,
    );
    assert.equal(twice.code, 0, twice.stderr);
    assert.equal(twice.stdout, once.stdout);
  });

  // A Release nothing drives stands before its first step: its lane exists (so its workloads'
  // pods are never in the baseline's traffic), only its verification match enters it, no weight.
  const RELEASE = ['mock.yaml', 'gray-v2.yaml', 'release-v2.yaml'].flatMap((f) => [
    '-f',
    `../release/${f}`,
  ]);

  it("a Release renders before its first step: its lane's subsets, its verify match at the gateway, no weight", async () => {
    const r = await lanes(['render', 'istio', ...RELEASE]);
    assert.equal(r.code, 0, r.stderr);
    const objects = docs(r.stdout);
    const subsets = (name: string) => {
      const dr = objects.find((o) => o.kind === 'DestinationRule' && o.metadata.name === name);
      assert.ok(dr, name);
      return (dr.spec as { subsets: { name: string; labels: Record<string, string> }[] }).subsets;
    };
    assert.deepEqual(subsets('mocka-lanes'), [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ]);
    assert.deepEqual(subsets('mockb-lanes'), [{ name: 'v1', labels: { version: 'v1' } }]);
    assert.deepEqual(
      subsets('mockc-lanes').map((s) => s.name),
      ['v1', 'v2'],
    );
    const entry = objects.find(
      (o) => o.kind === 'VirtualService' && o.metadata.name === 'lanes-ingressgateway',
    )?.spec as { http: { name: string; match?: unknown; route: Record<string, unknown>[] }[] };
    assert.deepEqual(
      entry.http.map((h) => h.name),
      ['lanes/v2/release mock-v2 verify', 'lanes/mock/ingress'],
    );
    assert.deepEqual(entry.http[0]!.match, [{ queryParams: { group: { exact: 'gray' } } }]);
    assert.deepEqual(
      entry.http.flatMap((h) => h.route.map((d) => (d.destination as { subset: string }).subset)),
      ['v2', 'v1'],
    );
    assert.ok(
      entry.http.every((h) => h.route.every((d) => d.weight === undefined)),
      'no step weight is rendered',
    );
    assert.match(
      r.stderr,
      /warning: Release mock-v2 spec\.steps: ReleaseNotRendered: \.\.\/release\/release-v2\.yaml:14:10 the weight steps \(5 → 20 → 50 %\).*lanes' local daemon.*lane v2 is entered only by requests that match spec\.verify\.match.*declare Lane v2 with a weighted entry rule/,
    );
    assert.doesNotMatch(r.stderr, /ReleaseLaneNotRendered/);
  });

  it("a Release whose workloads are not among the files says that its lane is not rendered, and where their pods' traffic comes from", async () => {
    const r = await lanes(
      ['render', 'istio', '-f', '../release/mock.yaml', '-f', '-'],
      RELEASE_ONLY,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: Release mock-v2 spec\.lane: ReleaseLaneNotRendered: <stdin>:6:9 lane v2 is not rendered: .*Render with those Deployments, or apply a Lane v2 \(group mock\) that selects their pods/,
    );
    assert.match(
      r.stderr,
      /Release mock-v2 spec\.steps: ReleaseNotRendered: .*nothing enters lane v2/,
    );
    assert.doesNotMatch(r.stdout, /subset: v2/);
  });

  it('gray workloads of a Release in a group without a baseline lane are its own lane, not silently in the unlaned route', async () => {
    // Without the release's lane, app-b-gray2's pod is "in no lane" and the route every untagged
    // request takes (all instances of app-b) includes it, with no warning.
    const r = await lanes(['render', 'istio', '-f', '../mse-param-rule/', '-f', '-'], GRAY2);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: LaneGroup mse-demo spec\.services\[1\]: UnlanedFallbackNotSelectable: \.\.\/mse-param-rule\/lanes\.yaml:24:7 requests for default\/app-b /,
    );
    const dr = docs(r.stdout).find((o) => o.metadata.name === 'app-b-lanes');
    assert.deepEqual(dr?.spec, {
      host: 'app-b.default.svc.cluster.local',
      subsets: [{ name: 'gray2', labels: { app: 'app-b', version: 'gray2' } }],
    });
  });

  it("the story after step 4, rendered from its files as README's walkthrough says (without dev-services.yaml), is the golden rendering of the conformance case", async () => {
    const files = [
      'gateways.yaml',
      'mock.yaml',
      'swimlane-v1.yaml',
      'alice-dev.yaml',
      'caros-dev.yaml',
      'mock-v2.yaml',
      'swimlane-v2.yaml',
      'ingress-vs-v2-20.yaml',
    ];
    const r = await lanes([
      'render',
      'istio',
      '--edge-lua',
      'trafficextension',
      ...files.flatMap((f) => ['-f', f]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const golden = readFileSync(new URL('data/render/story-step-4.yaml', import.meta.url), 'utf8');
    assert.equal(r.stdout, golden.slice(golden.indexOf('\n') + 1, golden.indexOf('# warnings:')));
    assert.match(
      r.stderr,
      /^warning: ASMSwimLaneGroup mock spec\.isPermissive: HealthFallbackNotRendered: [^\n]*\n$/,
    );
  });

  it('-o json prints one List that kubectl applies', async () => {
    const r = await lanes(['render', 'istio', ...step1, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: { kind: string }[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.items.length, 9);
  });

  it('reads stdin with -f -', async () => {
    const r = await lanes(
      ['render', 'istio', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('a file with no resource in it is an error that says so, not an empty success', async () => {
    const r = await lanes(['render', 'istio', '-f', '-'], '# nothing here yet\n---\n');
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr:
        'lanes: no resources in <stdin>: it is empty or only comments; check the path; nothing was rendered\n',
    });
  });

  it('an invalid file renders nothing and says where the error is', async () => {
    const r = await lanes(
      ['render', 'istio', '-f', '-'],
      'apiVersion: lanes.dev/v1alpha1\nkind: LaneGroup\nmetadata: {name: g}\nspec: {routeHeader: X}\n',
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /<stdin>:4:\d+: LaneGroup g: spec.routeHeader: .*lower-case/);
    assert.match(r.stderr, /lanes: the files were rejected: 2 errors; nothing was rendered/);
  });

  const usage: [string, string[], RegExp][] = [
    ['no target', ['render', '-f', 'mock.yaml'], /needs a target: lanes render istio/],
    [
      'an unknown target',
      ['render', 'linkerd', '-f', 'mock.yaml'],
      /unknown render target "linkerd"/,
    ],
    ['no files', ['render', 'istio'], /needs -f PATH/],
    [
      'an unknown Lua API',
      ['render', 'istio', '-f', 'mock.yaml', '--edge-lua', 'wasm'],
      /--edge-lua takes trafficextension/,
    ],
    [
      'an unknown output',
      ['render', 'istio', '-f', 'mock.yaml', '-o', 'table'],
      /-o takes yaml or json/,
    ],
  ];
  for (const [what, args, message] of usage) {
    it(`${what} is a usage error (exit 2)`, async () => {
      const r = await lanes(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
    });
  }
});
