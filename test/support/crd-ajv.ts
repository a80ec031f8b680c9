/**
 * Test support: validates objects against CustomResourceDefinition OpenAPI v3 schemas with Ajv,
 * the JSON Schema validator most of the npm ecosystem uses (also behind @kubernetes-models), and
 * ajv-formats for OpenAPI's `int32`, `double`, `byte` and `date-time`.
 *
 * Why Ajv beside the hand-written checker (crd-schema.ts): that one mirrors the API server's
 * structural validation closely (ObjectMeta rules, null pruning, a table of CEL rules) but is our
 * own code; Ajv is an independent, widely used implementation of the JSON Schema keywords. Where
 * both apply they must agree (test/istio-crd-crosscheck.test.ts), so a mistake in either shows.
 *
 * Kubernetes specifics: `apiVersion`, `kind`, `metadata` are implicit root fields;
 * `x-kubernetes-int-or-string` is an int or a string; `nullable` allows null; the other
 * `x-kubernetes-*` keywords (CEL validations, list types) are not checked here. `strict` adds
 * `additionalProperties: false` wherever a structural schema would prune unknown fields, so a
 * field the API server would silently drop is an error instead.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

// ajv-formats is CommonJS: its default export is the function under `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv) => Ajv;

type Schema = Record<string, unknown>;

function isObj(v: unknown): v is Schema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of `s` with `additionalProperties: false` where unknown fields would be pruned. */
function strictCopy(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictCopy);
  if (!isObj(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'description') continue;
    out[k] =
      k === 'properties' && isObj(v)
        ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, strictCopy(ps)]))
        : strictCopy(v);
  }
  if (
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

function withRoot(schema: Schema): Schema {
  return {
    ...schema,
    properties: {
      ...(isObj(schema.properties) ? schema.properties : {}),
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
    },
  };
}

export class CrdValidator {
  readonly #validators = new Map<string, ValidateFunction>();

  /** `crds`: a multi-document YAML text of CustomResourceDefinitions. */
  constructor(crds: string | readonly Schema[], strict = true) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(ajv);
    ajv.addKeyword({
      keyword: 'x-kubernetes-int-or-string',
      schemaType: 'boolean',
      validate: (on: boolean, data: unknown) =>
        !on || typeof data === 'string' || Number.isInteger(data),
    });
    for (const k of [
      'x-kubernetes-preserve-unknown-fields',
      'x-kubernetes-validations',
      'x-kubernetes-list-type',
      'x-kubernetes-list-map-keys',
      'x-kubernetes-map-type',
      'x-kubernetes-embedded-resource',
    ])
      ajv.addKeyword({ keyword: k });
    const docs =
      typeof crds === 'string'
        ? parseAllDocuments(crds).map((d) => d.toJS() as unknown)
        : (crds as unknown[]);
    for (const crd of docs) {
      if (!isObj(crd) || crd.kind !== 'CustomResourceDefinition' || !isObj(crd.spec)) continue;
      const spec = crd.spec as Schema;
      const kind = (spec.names as Schema).kind as string;
      for (const v of spec.versions as Schema[]) {
        const raw = (v.schema as Schema).openAPIV3Schema as Schema;
        const schema = withRoot((strict ? strictCopy(raw) : raw) as Schema);
        this.#validators.set(`${spec.group}/${v.name}/${kind}`, ajv.compile(schema));
      }
    }
  }

  static fromFile(url: URL, strict = true): CrdValidator {
    return new CrdValidator(readFileSync(url, 'utf8'), strict);
  }

  has(apiVersion: string, kind: string): boolean {
    return this.#validators.has(`${apiVersion}/${kind}`);
  }

  /** `path: message` for each error; [] when the object is valid. */
  validate(object: unknown): string[] {
    const o = isObj(object) ? object : {};
    const v = this.#validators.get(`${String(o.apiVersion)}/${String(o.kind)}`);
    if (!v) return [`no CRD serves ${String(o.apiVersion)} ${String(o.kind)}`];
    if (v(object)) return [];
    return (v.errors ?? []).map((e) => {
      const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
          : '';
      return `${path}: ${e.message ?? e.keyword}${extra}`;
    });
  }
}
