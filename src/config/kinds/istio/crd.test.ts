/**
 * Every field of Istio's CRDs (test/data/istio/crds.gen.yaml) is declared by the lanes
 * schema: as supported, ignored or unsupported. None may come back as "unknown field".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { nodeFromValue } from '../../source/node.ts';
import { parseResource } from '../document.ts';
import { testDataFile } from './test-support.ts';

interface OpenApi {
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly properties?: Record<string, OpenApi>;
  readonly items?: OpenApi;
  readonly additionalProperties?: OpenApi | boolean;
}

interface Crd {
  readonly kind?: string;
  readonly spec?: {
    readonly names?: { readonly kind?: string };
    readonly versions?: readonly {
      readonly name: string;
      readonly schema?: { readonly openAPIV3Schema?: OpenApi };
    }[];
  };
}

const { text } = testDataFile('istio/crds.gen.yaml');
const crds = parseAllDocuments(text).map((d) => d.toJS() as Crd);

function specSchema(kind: string, version: string): OpenApi {
  const crd = crds.find(
    (c) => c?.kind === 'CustomResourceDefinition' && c.spec?.names?.kind === kind,
  );
  const v = crd?.spec?.versions?.find((x) => x.name === version);
  const spec = v?.schema?.openAPIV3Schema?.properties?.spec;
  assert.ok(spec, `${kind} ${version} in the CRD file`);
  return spec;
}

type Segment = { readonly field: string } | { readonly item: true } | { readonly key: true };

/** Every field path of a schema: each property, inside list items and map values. */
function fieldPaths(schema: OpenApi, prefix: Segment[] = []): Segment[][] {
  const out: Segment[][] = [];
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, { field: name }];
    out.push(path, ...fieldPaths(sub, path));
  }
  if (schema.items) out.push(...fieldPaths(schema.items, [...prefix, { item: true }]));
  if (typeof schema.additionalProperties === 'object') {
    out.push(...fieldPaths(schema.additionalProperties, [...prefix, { key: true }]));
  }
  return out;
}

function sample(schema: OpenApi): unknown {
  if (schema.enum?.[0] !== undefined) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      return 'x';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default:
      return {};
  }
}

/** A value that sets exactly the field at `path`, nested as the schema says. */
function valueAt(schema: OpenApi, path: readonly Segment[]): unknown {
  const [head, ...rest] = path;
  if (!head) return sample(schema);
  if ('field' in head) {
    const sub = schema.properties?.[head.field] ?? {};
    return { [head.field]: valueAt(sub, rest) };
  }
  if ('item' in head) return [valueAt(schema.items ?? {}, rest)];
  const sub = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
  return { k: valueAt(sub, rest) };
}

function show(path: readonly Segment[]): string {
  return path.map((s) => ('field' in s ? `.${s.field}` : 'item' in s ? '[]' : '{}')).join('');
}

describe('every field of Istio’s CRD is declared (supported, ignored or unsupported)', () => {
  for (const kind of ['Gateway', 'VirtualService', 'DestinationRule']) {
    for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
      test(`${kind} ${version}: no CRD field is an unknown field`, () => {
        const schema = specSchema(kind, version);
        const paths = fieldPaths(schema);
        assert.ok(paths.length > 20, `${paths.length} field paths`);
        const unknown: string[] = [];
        for (const path of paths) {
          const node = nodeFromValue({
            apiVersion: `networking.istio.io/${version}`,
            kind,
            metadata: { name: 'x' },
            spec: valueAt(schema, path),
          });
          const { issues } = parseResource({ file: 'crd.yaml', index: 0, node, text: '', line: 1 });
          for (const i of issues) {
            if (i.message.startsWith('unknown field')) unknown.push(`${show(path)}: ${i.path}`);
          }
        }
        assert.deepEqual(unknown, []);
      });
    }
  }
});
