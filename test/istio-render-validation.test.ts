/**
 * Every object `lanes render istio` produces for every step of every conformance case (and the
 * reference story) is valid three ways: for lanes' own strict Istio schemas (the loader), for
 * Istio's published CRD OpenAPI schemas (test/data/istio/crds.gen.yaml) with Ajv — strict, so a
 * field the API server would prune is an error — and with the hand-written structural checker
 * (ObjectMeta rules, a table of CEL rules); and the offline analyzer rules find nothing. Two
 * renderings per step are golden files, reviewed by hand once (UPDATE_GOLDEN=1 rewrites them).
 * The examples other than the story are rendered through the CLI and checked the same way.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { suiteCases } from '../conformance/case.ts';
import { IstioRendering, toYaml } from '../conformance/istio.ts';
import { MeshState } from '../conformance/mesh-state.ts';
import { loadResources } from '../src/config/load/resources.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { analyzeIstio } from '../src/core/render/istio/analyzers.ts';
import type { IstioObject } from '../src/core/render/istio/objects.ts';
import type { RenderOptions } from '../src/core/render/istio/render.ts';
import { run } from '../src/tools/cli/main.ts';
import { CrdValidator } from './support/crd-ajv.ts';
import {
  DEFAULT_CRD_FILE,
  formatFieldErrors,
  loadCrdSchemas,
  validateAgainstCrd,
} from './support/crd-schema.ts';

const crdsMissing = existsSync(DEFAULT_CRD_FILE)
  ? undefined
  : `Istio's CRD file is not at ${DEFAULT_CRD_FILE.pathname}`;
const ajv = crdsMissing ? undefined : CrdValidator.fromFile(DEFAULT_CRD_FILE);
const handWritten = crdsMissing ? undefined : loadCrdSchemas();

const VARIANTS: readonly [string, RenderOptions][] = [
  ['without the edge extension', {}],
  ['with the EnvoyFilter Lua edge filter', { edgeExtension: 'EnvoyFilter' }],
  ['with the TrafficExtension Lua edge filter', { edgeExtension: 'TrafficExtension' }],
];

const LANES_KINDS = new Set(['Gateway', 'VirtualService', 'DestinationRule']);

function knownServices(state: MeshState): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of state.resources) {
    if (r.kind !== 'Service' || r.id.group !== '') continue;
    const ports = ((r.spec as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port);
    out.set(`${r.metadata.namespace}/${r.metadata.name}`, ports);
  }
  for (const e of state.endpoints()) if (!out.has(e.service)) out.set(e.service, []);
  return out;
}

/** `VirtualService ns/name fieldPath` of every reference the inputs already have broken. */
function brokenInInput(rendering: IstioRendering): Set<string> {
  const out = new Set<string>();
  for (const s of rendering.statuses) {
    for (const c of s.conditions) {
      for (const d of c.details)
        if (d.reason === 'SubsetNotFound' || d.reason === 'BackendNotFound')
          out.add(`${s.id.kind} ${s.id.namespace}/${s.id.name} ${d.fieldPath}`);
    }
  }
  return out;
}

function check(
  objects: readonly IstioObject[],
  ports: ReadonlyMap<string, number[]>,
  broken: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  const routing = objects.filter((o) => LANES_KINDS.has(o.kind));
  const loaded = loadResources([{ file: 'rendered.yaml', text: toYaml(routing) }]);
  for (const i of loaded.issues.filter((x) => x.severity !== 'ignored'))
    problems.push(`lanes: ${formatIssue(i)}`);
  for (const o of objects) {
    const name = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (ajv) for (const e of ajv.validate(o)) problems.push(`${name}: Istio CRD (Ajv): ${e}`);
    if (handWritten) {
      for (const e of formatFieldErrors(validateAgainstCrd(handWritten, o)))
        problems.push(`${name}: Istio CRD (structural checker): ${e}`);
    }
  }
  for (const m of analyzeIstio(objects, { ports })) {
    // A reference the user's own object already breaks is reported in its status, not ours.
    if (m.code === 'IST0101' && broken.has(`${m.object} ${m.path}`)) continue;
    problems.push(`${m.code} ${m.level} ${m.object} ${m.path}: ${m.message}`);
  }
  return problems;
}

for (const c of suiteCases().cases) {
  for (const [variant, options] of VARIANTS) {
    describe(`rendered objects are valid: ${c.name}, ${variant}`, () => {
      const rendering = new IstioRendering(options);
      const state = new MeshState(c, rendering.transform);
      for (const step of c.steps) {
        describe(step.title, () => {
          before(() => {
            for (const spec of step.apply) state.apply(spec);
            for (const spec of step.delete) state.delete(spec);
            state.setUnhealthy(step.unhealthy);
            if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
            state.compile();
          });
          it('every object passes lanes, Istio CRD schemas and the analyzers', (t) => {
            if (crdsMissing) t.diagnostic(`CRD schema checks skipped: ${crdsMissing}`);
            assert.ok(rendering.objects.length > 0);
            assert.deepEqual(
              check(rendering.objects, knownServices(state), brokenInInput(rendering)),
              [],
            );
          });
        });
      }
    });
  }
}

/**
 * Every example but the story (whose steps are the conformance case above), rendered whole the
 * way a user would — `lanes render istio -f examples/<dir>/` through the CLI — with exactly the
 * warnings listed here (one line each; the README's render table says why each one exists).
 */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  grpc: [
    'ASMSwimLaneGroup mock spec.isPermissive: HealthFallbackNotRendered',
    'ASMSwimLaneGroup mock spec.permissiveModeConfiguration.traceHeader: BaggageHygieneNeedsExtension',
  ],
  'mse-param-rule': [
    'LaneGroup mse-demo spec.carriers[0]: BaggageHygieneNeedsExtension',
    'LaneGroup mse-demo spec.mode: HealthFallbackNotRendered',
    'LaneGroup mse-demo spec.services[0]: UnlanedFallbackNotSelectable',
    'LaneGroup mse-demo spec.services[2]: UnlanedFallbackNotSelectable',
    'Lane gray spec.entry[1].sticky: StickyEntryNotRendered',
  ],
  native: [
    'LaneGroup shop spec.carriers[0]: BaggageHygieneNeedsExtension',
    'LaneGroup shop spec.mode: HealthFallbackNotRendered',
    'Lane canary spec.entry[0].sticky: StickyEntryNotRendered',
    'Mesh default spec.outboundTrafficPolicy.mode: MeshSettingNotRendered',
    'Mesh default spec.traceMemory: MeshSettingNotRendered',
  ],
  release: [
    'LaneGroup mock spec.carriers[0]: BaggageHygieneNeedsExtension',
    'LaneGroup mock spec.mode: HealthFallbackNotRendered',
    'Release mock-v2 spec.steps: ReleaseNotRendered',
    'Release mockc-v3 spec.steps: ReleaseNotRendered',
  ],
};

const EXAMPLE_VARIANTS: readonly [string, string[]][] = [
  ['without the edge extension', []],
  ['with the EnvoyFilter Lua edge filter', ['--edge-lua', 'envoyfilter']],
  ['with the TrafficExtension Lua edge filter', ['--edge-lua', 'trafficextension']],
];

async function renderExample(dir: string, flags: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => ({ write: add });
  const code = await run(['render', 'istio', '-f', `examples/${dir}/`, '-o', 'json', ...flags], {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    stdin: (async function* () {})(),
    env: {},
    cwd: fileURLToPath(new URL('../', import.meta.url)),
  });
  return { code, stdout, stderr };
}

describe('the examples, rendered by lanes render istio, are valid', () => {
  for (const [dir, warnings] of Object.entries(EXAMPLES)) {
    for (const [variant, flags] of EXAMPLE_VARIANTS) {
      it(`examples/${dir}/, ${variant}: every object passes lanes, Istio CRD schemas and the analyzers, with exactly the listed warnings`, async (t) => {
        if (crdsMissing) t.diagnostic(`CRD schema checks skipped: ${crdsMissing}`);
        const r = await renderExample(dir, flags);
        assert.equal(r.code, 0, r.stderr);
        const objects = (JSON.parse(r.stdout) as { items: IstioObject[] }).items;
        assert.ok(objects.length > 0);
        const loaded = loadResources(
          readdirSync(new URL(`../examples/${dir}/`, import.meta.url))
            .filter((f) => f.endsWith('.yaml'))
            .map((f) => ({
              file: f,
              text: readFileSync(new URL(`../examples/${dir}/${f}`, import.meta.url), 'utf8'),
            })),
        );
        const ports = new Map<string, number[]>();
        for (const s of loaded.resources.filter((x) => x.kind === 'Service'))
          ports.set(
            `${s.metadata.namespace}/${s.metadata.name}`,
            ((s.spec as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port),
          );
        assert.deepEqual(check(objects, ports), []);
        const keys = r.stderr
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => /^warning: (.*?: [A-Z]\w+):/.exec(l)?.[1] ?? l);
        const expected =
          flags.length > 0
            ? warnings.filter((w) => !w.endsWith('BaggageHygieneNeedsExtension'))
            : warnings;
        assert.deepEqual(keys.sort(), [...expected].sort());
      });
    }
  }
});

const GOLDEN: readonly [string, string, number][] = [
  ['ASM reference story', 'story-step-4.yaml', 4],
  ['native lanes (permissive, baggage carrier)', 'native-lanes-step-1.yaml', 1],
];

describe('golden renderings (reviewed by hand; UPDATE_GOLDEN=1 rewrites them)', () => {
  for (const [name, file, steps] of GOLDEN) {
    it(`${name}, after step ${steps}: ${file}`, () => {
      const c = suiteCases().cases.find((x) => x.name === name);
      assert.ok(c, name);
      const rendering = new IstioRendering({ edgeExtension: 'TrafficExtension' });
      const state = new MeshState(c, rendering.transform);
      for (const step of c.steps.slice(0, steps)) {
        for (const spec of step.apply) state.apply(spec);
        for (const spec of step.delete) state.delete(spec);
        if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
      }
      state.compile();
      const text = `# lanes render istio --edge-lua trafficextension, ${name}, after step ${steps}\n${toYaml(rendering.objects)}# warnings:\n${rendering.warnings.map((w) => `#   ${w}\n`).join('')}`;
      const url = new URL(`data/render/${file}`, import.meta.url);
      if (process.env.UPDATE_GOLDEN) writeFileSync(url, text);
      assert.equal(text, readFileSync(url, 'utf8'));
    });
  }
});
