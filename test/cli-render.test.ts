/** `lanes render istio` through the CLI: output, warnings on stderr, and its errors. */
import assert from 'node:assert/strict';
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

  it('a Release is reported, not dropped: its driver runs in the local daemon', async () => {
    const r = await lanes(['render', 'istio', '-f', '../release/']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: Release mock-v2 spec: ReleaseNotRendered: /);
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

  it('an invalid file renders nothing and says where the error is', async () => {
    const r = await lanes(
      ['render', 'istio', '-f', '-'],
      'apiVersion: lanes.dev/v1alpha1\nkind: LaneGroup\nmetadata: {name: g}\nspec: {routeHeader: X}\n',
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /<stdin>:4:\d+: LaneGroup g: spec.routeHeader: .*lower-case/);
    assert.match(r.stderr, /lanes: 2 error\(s\) in the files; nothing was rendered/);
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
