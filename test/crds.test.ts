/**
 * The CRDs generated from lanes' own schemas (src/config/crd/): structural, and a real validator
 * (Ajv, with the API server's strict field validation: an unknown field is an error) accepts every
 * example and conformance document of those kinds and rejects the invalid ones lanes rejects.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { laneCrds } from '../src/config/crd/crds.ts';
import { loadResources } from '../src/config/load/resources.ts';
import type { OpenApiSchema } from '../src/config/schema/dsl.ts';
import { CrdValidator } from './support/crd-ajv.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KINDS = new Set(['LaneGroup', 'Lane', 'Mesh', 'Release', 'ASMSwimLaneGroup', 'ASMSwimLane']);
const crds = laneCrds({ asm: true });
const validator = new CrdValidator(crds as unknown as Record<string, unknown>[]);

type Doc = Record<string, unknown>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

function docsOf(text: string, where: string): { where: string; doc: Doc }[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter(
      (d): d is Doc => typeof d === 'object' && d !== null && KINDS.has(String((d as Doc).kind)),
    )
    .map((doc) => ({ where, doc }));
}

/** Every document of the CRD kinds in examples/, README.md and the conformance cases. */
function corpus(): { where: string; doc: Doc }[] {
  const out: { where: string; doc: Doc }[] = [];
  for (const f of yamlFiles(join(ROOT, 'examples')))
    out.push(...docsOf(readFileSync(f, 'utf8'), f));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/```yaml\n([\s\S]*?)```/g))
    out.push(...docsOf(m[1]!, 'README.md'));
  for (const f of readdirSync(join(ROOT, 'conformance')).filter((x) => x.endsWith('.yaml'))) {
    const c = parse(readFileSync(join(ROOT, 'conformance', f), 'utf8')) as {
      steps?: { apply?: { yaml?: string }[] }[];
    };
    for (const step of c.steps ?? [])
      for (const a of step.apply ?? []) if (a.yaml) out.push(...docsOf(a.yaml, `conformance/${f}`));
  }
  return out;
}

/** Structural schema rules (KEP-2335) that a generator could get wrong. */
function structuralProblems(s: OpenApiSchema, path: string, inLogic: boolean): string[] {
  const out: string[] = [];
  const free =
    s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-int-or-string'] === true;
  if (!inLogic && s.type === undefined && !free) out.push(`${path}: no type`);
  if (inLogic && s.type !== undefined) out.push(`${path}: type inside a logical junctor`);
  for (const [k, v] of Object.entries(s.properties ?? {}))
    out.push(...structuralProblems(v, `${path}.${k}`, inLogic));
  if (s.items) out.push(...structuralProblems(s.items, `${path}[]`, inLogic));
  if (s.additionalProperties)
    out.push(...structuralProblems(s.additionalProperties, `${path}{}`, inLogic));
  for (const k of ['oneOf', 'anyOf'] as const) {
    for (const b of s[k] ?? []) {
      const intOrString = s['x-kubernetes-int-or-string'] === true && k === 'anyOf';
      if (!intOrString) out.push(...structuralProblems(b, `${path}.${k}`, true));
    }
  }
  if (s.not) out.push(...structuralProblems(s.not, `${path}.not`, true));
  return out;
}

describe('generated CRDs', () => {
  it('are structural, with a status subresource and printer columns', () => {
    for (const crd of crds) {
      for (const v of crd.spec.versions) {
        assert.deepEqual(
          structuralProblems(v.schema.openAPIV3Schema, crd.spec.names.kind, false),
          [],
        );
        assert.deepEqual(v.subresources, { status: {} });
        assert.ok(
          v.additionalPrinterColumns.some((c) => c.name === 'Age'),
          crd.metadata.name,
        );
      }
    }
    assert.deepEqual(
      crds.map((c) => c.metadata.name),
      [
        'lanegroups.lanes.dev',
        'lanes.lanes.dev',
        'meshes.lanes.dev',
        'releases.lanes.dev',
        'asmswimlanegroups.istio.alibabacloud.com',
        'asmswimlanes.istio.alibabacloud.com',
      ],
    );
  });

  it('accept the smallest Release lanes accepts', () => {
    assert.ok(loadResources([{ file: 'r.json', text: JSON.stringify(release(RELEASE_SPEC)) }]).ok);
    assert.deepEqual(validator.validate(release(RELEASE_SPEC)), []);
  });

  it('carry lanes’ enums and defaults', () => {
    const spec = crds[0]!.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    assert.deepEqual(spec.properties!.mode, {
      type: 'string',
      enum: ['permissive', 'strict'],
      description: 'permissive: a lane without a service falls back along its chain; strict: never',
      default: 'permissive',
    });
    assert.deepEqual(spec.required, ['routeHeader', 'services']);
  });

  const docs = corpus();
  it('the corpus has examples of every kind', () => {
    assert.deepEqual([...new Set(docs.map((d) => String(d.doc.kind)))].sort(), [...KINDS].sort());
  });
  for (const { where, doc } of docs) {
    const name = `${String(doc.kind)} ${String((doc.metadata as Doc)?.name)} (${where.replace(ROOT, '')})`;
    it(`accepts ${name}, which lanes accepts`, () => {
      const lanes = loadResources([{ file: 'doc.json', text: JSON.stringify(doc) }]);
      assert.ok(lanes.ok, 'lanes accepts it');
      assert.deepEqual(validator.validate(doc), []);
    });
  }

  const GROUP = { apiVersion: 'lanes.dev/v1alpha1', kind: 'LaneGroup', metadata: { name: 'g' } };
  const LANE = { apiVersion: 'lanes.dev/v1alpha1', kind: 'Lane', metadata: { name: 'l' } };
  const RELEASE_SPEC = { group: 'g', lane: 'v2', workloads: ['a'], steps: [{ weight: 10 }] };
  const release = (spec: Doc): Doc => ({
    apiVersion: 'lanes.dev/v1alpha1',
    kind: 'Release',
    metadata: { name: 'r' },
    spec,
  });
  const invalid: [string, Doc][] = [
    ['a LaneGroup without spec', { ...GROUP }],
    ['a LaneGroup without routeHeader', { ...GROUP, spec: { services: ['a'] } }],
    ['an unknown mode', { ...GROUP, spec: { routeHeader: 'x', mode: 'loose', services: ['a'] } }],
    ['an unknown field', { ...GROUP, spec: { routeHeader: 'x', services: ['a'], fallback: 'v1' } }],
    ['an empty services list', { ...GROUP, spec: { routeHeader: 'x', services: [] } }],
    [
      'an unknown carrier type',
      { ...GROUP, spec: { routeHeader: 'x', services: ['a'], carriers: [{ type: 'cookie' }] } },
    ],
    [
      'a weight above 100',
      { ...LANE, spec: { group: 'g', selector: { v: 'l' }, entry: [{ weight: 101 }] } },
    ],
    [
      'weight and sticky together',
      {
        ...LANE,
        spec: {
          group: 'g',
          selector: { v: 'l' },
          entry: [{ weight: 1, sticky: { percent: 1, header: 'h' } }],
        },
      },
    ],
    [
      'a sticky rule with header and cookie',
      {
        ...LANE,
        spec: {
          group: 'g',
          selector: { v: 'l' },
          entry: [{ sticky: { percent: 1, header: 'h', cookie: 'c' } }],
        },
      },
    ],
    [
      'two conditions in one match object',
      {
        ...LANE,
        spec: {
          group: 'g',
          selector: { v: 'l' },
          entry: [{ match: { header: { name: 'h', present: true }, path: { prefix: '/' } } }],
        },
      },
    ],
    [
      'a selector that is not a map of strings',
      { ...LANE, spec: { group: 'g', selector: { v: 1 } } },
    ],
    [
      'enabled as a string',
      { ...LANE, spec: { group: 'g', selector: { v: 'l' }, enabled: 'yes' } },
    ],
    [
      'an ASM patch field',
      {
        apiVersion: 'istio.alibabacloud.com/v1',
        kind: 'ASMSwimLaneGroup',
        metadata: { name: 'g' },
        spec: { services: [{ name: 'a', trafficPolicyPatch: {} }] },
      },
    ],
    [
      'a Mesh outbound mode lanes does not know',
      {
        apiVersion: 'lanes.dev/v1alpha1',
        kind: 'Mesh',
        metadata: { name: 'default' },
        spec: { outboundTrafficPolicy: { mode: 'DENY' } },
      },
    ],
    ['a Release without steps', release({ group: 'g', lane: 'v2', workloads: ['a'] })],
    ['a Release step weight above 100', release({ ...RELEASE_SPEC, steps: [{ weight: 101 }] })],
    ['a Release promote mode lanes does not know', release({ ...RELEASE_SPEC, promote: 'auto' })],
    ['a Release workload that is not a name', release({ ...RELEASE_SPEC, workloads: ['Mock_A'] })],
  ];
  for (const [what, doc] of invalid) {
    it(`rejects ${what}, as lanes does`, () => {
      assert.equal(
        loadResources([{ file: 'doc.json', text: JSON.stringify(doc) }]).ok,
        false,
        'lanes rejects it',
      );
      assert.notDeepEqual(validator.validate(doc), [], 'the CRD schema rejects it');
    });
  }
});
