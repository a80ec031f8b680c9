/**
 * Test support: validates a plain JS object (one parsed YAML document) against Istio's official
 * CustomResourceDefinition schemas (test/data/istio/crds.gen.yaml), the way the
 * Kubernetes API server's structural-schema validation would, so tests can cross-check lanes' own
 * validation against the upstream contract.
 *
 * Kubernetes behaviour reproduced:
 * - the object is picked by `apiVersion` + `kind`; `apiVersion`, `kind` and `metadata` are implicit
 *   root fields (ObjectMeta rules: name / namespace / label / annotation syntax);
 * - nulls in non-nullable fields are pruned before validation (PruneNonNullableNullsWithoutDefaults):
 *   `timeout: null` is the same as no `timeout`; a null list item is a type error;
 * - `type`, `enum`, `format`, numeric bounds, string length, `pattern`, item and property counts,
 *   `required`, `oneOf` / `anyOf` / `allOf` / `not`, `additionalProperties`, `nullable`,
 *   `x-kubernetes-int-or-string`, `x-kubernetes-list-type` (set / map uniqueness),
 *   `x-kubernetes-preserve-unknown-fields`;
 * - `x-kubernetes-validations` (CEL): only rules whose exact text is in the table below are run;
 *   `unimplementedCelRules()` lists every other rule so a suite can state what it does not check.
 *
 * Deliberate differences from the API server:
 * - unknown fields are reported (`spec.foo: unknown field`) instead of silently pruned;
 * - oneOf / anyOf / allOf / not failures carry the path of the node they apply to (Kubernetes
 *   reports them at the root with an empty value);
 * - after a type mismatch at a node nothing else is checked at that node.
 *
 * Loading is strict: a schema keyword, `format` or rule field this module does not know makes
 * `loadCrdSchemas` throw, so a newer CRD file can never be validated only partly without notice.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

// ---------------------------------------------------------------------------------------------
// Public types

/** One validation error, Kubernetes field-error style: `${path}: ${message}`. */
export interface FieldError {
  /** `spec.http[0].route[1].weight`; map keys as `.key` when identifier-like, else `["key"]`. */
  readonly path: string;
  /** `Required value`, `Invalid value: 150: … should be less than or equal to 100`, `unknown field`. */
  readonly message: string;
}

export interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/** The subset of OpenAPI v3 / Kubernetes structural schema that the CRD file uses. */
export interface JsonSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly items?: JsonSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly exclusiveMaximum?: boolean;
  readonly multipleOf?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly not?: JsonSchema;
  readonly nullable?: boolean;
  readonly description?: string;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-validations'?: readonly CelRule[];
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** One served version of one CRD. */
export interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** `openAPIV3Schema` exactly as in the file. */
  readonly schema: JsonSchema;
}

export interface CrdSchemas {
  /** The file the schemas were read from. */
  readonly source: string;
  /** Keyed by `group/version/kind`, e.g. `networking.istio.io/v1beta1/VirtualService`. */
  readonly versions: ReadonlyMap<string, CrdVersion>;
}

/** Where a CEL rule sits in a CRD, for `celRuleSites` / `unimplementedCelRules`. */
export interface CelRuleSite {
  readonly apiVersion: string;
  readonly kind: string;
  /** Schema path: `spec.http[*].timeout`, map values as `.*`. */
  readonly schemaPath: string;
  readonly rule: string;
  readonly message: string;
  readonly implemented: boolean;
}

/** `format` values this module checks; loading a schema with any other format throws. */
export const SUPPORTED_FORMATS: readonly string[] = ['int32', 'double', 'date-time', 'byte'];

export const DEFAULT_CRD_FILE: URL = new URL('../data/istio/crds.gen.yaml', import.meta.url);

// ---------------------------------------------------------------------------------------------
// Loading

const cache = new Map<string, CrdSchemas>();

/** Parses the multi-document CRD file once per path (cached) and indexes every version. */
export function loadCrdSchemas(path: URL = DEFAULT_CRD_FILE): CrdSchemas {
  let schemas = cache.get(path.href);
  if (!schemas) {
    schemas = parseCrdSchemas(readFileSync(path, 'utf8'), path.href);
    cache.set(path.href, schemas);
  }
  return schemas;
}

/**
 * Indexes the served versions of every CustomResourceDefinition in a multi-document YAML text.
 * Throws on anything the validator would not fully check (unknown keyword, format, rule field).
 */
export function parseCrdSchemas(text: string, source: string): CrdSchemas {
  const versions = new Map<string, CrdVersion>();
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    const where = `${source} document ${i}`;
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]?.message}`);
    const crd: unknown = doc.toJS();
    if (crd === null || crd === undefined) continue;
    if (!isPlainObject(crd) || crd.kind !== 'CustomResourceDefinition') {
      throw new Error(`${where}: not a CustomResourceDefinition`);
    }
    const spec = crd.spec;
    if (!isPlainObject(spec) || !isPlainObject(spec.names) || !Array.isArray(spec.versions)) {
      throw new Error(`${where}: CRD without spec.names / spec.versions`);
    }
    const group = spec.group;
    const kind = spec.names.kind;
    if (typeof group !== 'string' || typeof kind !== 'string') {
      throw new Error(`${where}: CRD without group / kind`);
    }
    for (const v of spec.versions) {
      if (!isPlainObject(v) || typeof v.name !== 'string' || !isPlainObject(v.schema)) {
        throw new Error(`${where} (${kind}): version without name / schema`);
      }
      if (v.served === false) continue;
      const schema = v.schema.openAPIV3Schema;
      if (!isPlainObject(schema))
        throw new Error(`${where} (${kind} ${v.name}): no openAPIV3Schema`);
      checkSchema(schema, `${kind} ${v.name}`, false);
      versions.set(crdKey(group, v.name, kind), {
        group,
        version: v.name,
        kind,
        schema: schema as JsonSchema,
      });
    }
  }
  return { source, versions };
}

export function crdKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** The CRD version for `apiVersion` (`group/version`) and `kind`, if the file has it. */
export function findCrd(
  schemas: CrdSchemas,
  apiVersion: string,
  kind: string,
): CrdVersion | undefined {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return undefined;
  return schemas.versions.get(
    crdKey(apiVersion.slice(0, slash), apiVersion.slice(slash + 1), kind),
  );
}

const KNOWN_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'additionalProperties',
  'items',
  'required',
  'enum',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'nullable',
  'description',
  'title',
  'example',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
]);

const TYPES: ReadonlySet<string> = new Set([
  'object',
  'array',
  'string',
  'integer',
  'number',
  'boolean',
]);

const patterns = new Map<string, RegExp>();

/** Rejects anything this validator would otherwise silently ignore. */
function checkSchema(s: Record<string, unknown>, where: string, inCombinator: boolean): void {
  for (const key of Object.keys(s)) {
    if (!KNOWN_KEYWORDS.has(key)) throw new Error(`${where}: unsupported schema keyword ${key}`);
  }
  if (s.type !== undefined && !(typeof s.type === 'string' && TYPES.has(s.type))) {
    throw new Error(`${where}: unsupported type ${JSON.stringify(s.type)}`);
  }
  if (s.format !== undefined && !SUPPORTED_FORMATS.includes(String(s.format))) {
    throw new Error(`${where}: unsupported format ${JSON.stringify(s.format)}`);
  }
  if (typeof s.pattern === 'string') compilePattern(s.pattern);
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
    throw new Error(`${where}: unsupported x-kubernetes-list-type ${String(listType)}`);
  }
  const rules = s['x-kubernetes-validations'];
  if (rules !== undefined) {
    if (inCombinator) {
      throw new Error(`${where}: x-kubernetes-validations inside oneOf/anyOf/allOf/not`);
    }
    if (!Array.isArray(rules)) throw new Error(`${where}: x-kubernetes-validations is not a list`);
    for (const r of rules) {
      const ok =
        isPlainObject(r) &&
        typeof r.rule === 'string' &&
        (r.message === undefined || typeof r.message === 'string') &&
        Object.keys(r).every((k) => k === 'rule' || k === 'message');
      // messageExpression, reason, fieldPath, optionalOldSelf change what a rule reports.
      if (!ok) {
        throw new Error(
          `${where}: unsupported x-kubernetes-validations entry ${JSON.stringify(r)}`,
        );
      }
    }
  }
  if (isPlainObject(s.properties)) {
    for (const [k, v] of Object.entries(s.properties)) {
      if (!isPlainObject(v)) throw new Error(`${where}.${k}: schema is not an object`);
      checkSchema(v, `${where}.${k}`, inCombinator);
    }
  }
  if (s.items !== undefined) {
    if (!isPlainObject(s.items)) throw new Error(`${where}: items is not a single schema`);
    checkSchema(s.items, `${where}[*]`, inCombinator);
  }
  if (isPlainObject(s.additionalProperties)) {
    checkSchema(s.additionalProperties, `${where}.*`, inCombinator);
  }
  for (const c of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = s[c];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new Error(`${where}: ${c} is not a list`);
    for (const sub of list) {
      if (!isPlainObject(sub)) throw new Error(`${where}: ${c} entry is not a schema`);
      checkSchema(sub, `${where}(${c})`, true);
    }
  }
  if (s.not !== undefined) {
    if (!isPlainObject(s.not)) throw new Error(`${where}: not is not a schema`);
    checkSchema(s.not, `${where}(not)`, true);
  }
}

/** Go RE2 patterns as JavaScript RegExps (the file's patterns use the common subset). */
function compilePattern(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patterns.set(pattern, re);
  }
  return re;
}

// ---------------------------------------------------------------------------------------------
// Validation entry point

/**
 * Validates the whole object (apiVersion, kind, metadata, spec, status) against the CRD schema
 * picked by its apiVersion and kind. Returns no errors when the API server would accept it.
 */
export function validateAgainstCrd(schemas: CrdSchemas, obj: unknown): FieldError[] {
  if (!isPlainObject(obj)) {
    return [{ path: '', message: `Invalid value: ${show(jsonKind(obj))}: must be an object` }];
  }
  const errs: FieldError[] = [];
  const { apiVersion, kind } = obj;
  for (const [name, v] of [
    ['apiVersion', apiVersion],
    ['kind', kind],
  ] as const) {
    if (v === undefined || v === null || v === '')
      errs.push({ path: name, message: 'Required value' });
    else if (typeof v !== 'string') errs.push(typeError(name, v, ['string']));
  }
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || errs.length > 0) return errs;

  const crd = findCrd(schemas, apiVersion, kind);
  if (!crd) {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
    const served = [...schemas.versions.values()]
      .filter((v) => v.group === group && v.kind === kind)
      .map((v) => `${v.group}/${v.version}`);
    if (served.length > 0) {
      errs.push({
        path: 'apiVersion',
        message: `Unsupported value: ${show(apiVersion)}: supported values: ${served.map(show).join(', ')}`,
      });
    } else {
      errs.push({
        path: 'kind',
        message: `Invalid value: ${show(kind)}: no matches for kind ${show(kind)} in version ${show(apiVersion)}`,
      });
    }
    return errs;
  }

  const { metadata, ...rest } = obj;
  validateObjectMeta(metadata, errs);
  const root = rootSchema(crd);
  validateNode(pruneNulls(rest, root), root, '', { errs, structural: true });
  return errs;
}

/** `path: message` lines, handy for assertions. */
export function formatFieldErrors(errs: readonly FieldError[]): string[] {
  return errs.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
}

const rootSchemas = new WeakMap<CrdVersion, JsonSchema>();

/** The CRD's root schema plus the implicit `apiVersion` and `kind` (metadata is checked apart). */
function rootSchema(crd: CrdVersion): JsonSchema {
  let root = rootSchemas.get(crd);
  if (!root) {
    root = {
      ...crd.schema,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        ...crd.schema.properties,
      },
    };
    rootSchemas.set(crd, root);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Null pruning (Kubernetes PruneNonNullableNullsWithoutDefaults)

function fieldSchema(s: JsonSchema | undefined, key: string): JsonSchema | undefined {
  if (!s) return undefined;
  if (s.properties && Object.hasOwn(s.properties, key)) return s.properties[key];
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

function pruneNulls(v: unknown, s: JsonSchema | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => pruneNulls(x, s?.items));
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v).flatMap(([k, x]) => {
      const fs = fieldSchema(s, k);
      if (x === null && fs !== undefined && fs.nullable !== true) return [];
      return [[k, pruneNulls(x, fs)]];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Schema validation

interface Ctx {
  readonly errs: FieldError[];
  /** False inside oneOf/anyOf/allOf/not: plain JSON Schema, no unknown-field check, no CEL. */
  readonly structural: boolean;
}

type JsonKind =
  | 'null'
  | 'boolean'
  | 'string'
  | 'integer'
  | 'number'
  | 'array'
  | 'object'
  | 'invalid';

function jsonKind(v: unknown): JsonKind {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'number':
      if (!Number.isFinite(v)) return 'invalid';
      return Number.isInteger(v) ? 'integer' : 'number';
    case 'object':
      if (Array.isArray(v)) return 'array';
      return isPlainObject(v) ? 'object' : 'invalid';
    default:
      return 'invalid';
  }
}

function schemaTypes(s: JsonSchema): readonly string[] | undefined {
  if (s['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return s.type ? [s.type] : undefined;
}

function typeAccepts(types: readonly string[], kind: JsonKind): boolean {
  return types.includes(kind) || (kind === 'integer' && types.includes('number'));
}

function validateNode(value: unknown, s: JsonSchema, path: string, ctx: Ctx): void {
  const push = (message: string): void => {
    ctx.errs.push({ path, message });
  };
  const types = schemaTypes(s);
  const kind = jsonKind(value);
  if (kind === 'invalid') {
    push(`Invalid value: ${show(String(value))}: ${inBody(path)} must be a JSON value`);
    return;
  }
  if (kind === 'null') {
    if (!s.nullable && types) push(typeError(path, value, types).message);
    return;
  }
  if (types && !typeAccepts(types, kind)) {
    push(typeError(path, value, types).message);
    return;
  }

  if (s.enum && !s.enum.some((e) => deepEqual(e, value))) {
    push(`Unsupported value: ${show(value)}: supported values: ${s.enum.map(show).join(', ')}`);
  }
  if (s.format) validateFormat(value, s.format, path, push);

  if (typeof value === 'number') validateNumber(value, s, path, push);
  else if (typeof value === 'string') validateString(value, s, path, push);
  else if (Array.isArray(value)) validateArray(value, s, path, ctx);
  else if (isPlainObject(value)) validateObject(value, s, path, ctx);

  validateCombinators(value, s, path, ctx);
  if (ctx.structural) runCelRules(value, s, path, ctx);
}

function validateFormat(
  value: unknown,
  format: string,
  path: string,
  push: (m: string) => void,
): void {
  switch (format) {
    case 'int32':
      if (typeof value === 'number' && (value < -2147483648 || value > 2147483647)) {
        push(
          `Invalid value: ${show(value)}: Checked value must be of type integer with format int32 in ${path}`,
        );
      }
      return;
    case 'double':
      return; // any finite JSON number is a double
    case 'date-time':
      if (typeof value === 'string' && !isDateTime(value)) push(formatError(path, value, format));
      return;
    case 'byte':
      if (typeof value === 'string' && !BASE64.test(value)) push(formatError(path, value, format));
      return;
    default:
      throw new Error(`unsupported format ${format}`); // checkSchema keeps this unreachable
  }
}

function validateNumber(
  value: number,
  s: JsonSchema,
  path: string,
  push: (m: string) => void,
): void {
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum) {
      const rel = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
      push(`Invalid value: ${show(value)}: ${inBody(path)} should be ${rel} ${num(s.maximum)}`);
    }
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum) {
      const rel = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      push(`Invalid value: ${show(value)}: ${inBody(path)} should be ${rel} ${num(s.minimum)}`);
    }
  }
  if (s.multipleOf !== undefined && !Number.isInteger(value / s.multipleOf)) {
    push(
      `Invalid value: ${show(value)}: ${inBody(path)} should be a multiple of ${num(s.multipleOf)}`,
    );
  }
}

function validateString(
  value: string,
  s: JsonSchema,
  path: string,
  push: (m: string) => void,
): void {
  const length = [...value].length; // Go counts runes
  if (s.maxLength !== undefined && length > s.maxLength) {
    push(`Too long: may not be more than ${s.maxLength} bytes`);
  }
  if (s.minLength !== undefined && length < s.minLength) {
    push(
      `Invalid value: ${show(value)}: ${inBody(path)} should be at least ${s.minLength} chars long`,
    );
  }
  if (s.pattern !== undefined && !compilePattern(s.pattern).test(value)) {
    push(`Invalid value: ${show(value)}: ${inBody(path)} should match '${s.pattern}'`);
  }
}

function validateArray(value: readonly unknown[], s: JsonSchema, path: string, ctx: Ctx): void {
  const push = (message: string): void => {
    ctx.errs.push({ path, message });
  };
  if (s.maxItems !== undefined && value.length > s.maxItems) {
    push(`Too many: ${value.length}: must have at most ${s.maxItems} items`);
  }
  if (s.minItems !== undefined && value.length < s.minItems) {
    push(
      `Invalid value: ${value.length}: ${inBody(path)} should have at least ${s.minItems} items`,
    );
  }
  if (s.uniqueItems) {
    const seen = new Set<string>();
    if (value.some((x) => seen.size === seen.add(canonical(x)).size)) {
      push(`Invalid value: ${show(value)}: ${inBody(path)} shouldn't contain duplicates`);
    }
  }
  if (s.items) {
    for (const [i, x] of value.entries()) validateNode(x, s.items, `${path}[${i}]`, ctx);
  }
  if (ctx.structural) validateListType(value, s, path, ctx);
}

/** Kubernetes ValidateListSetsAndMaps: no duplicate items (set) or item keys (map). */
function validateListType(value: readonly unknown[], s: JsonSchema, path: string, ctx: Ctx): void {
  const listType = s['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return;
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  for (const [i, x] of value.entries()) {
    let id: unknown = x;
    if (listType === 'map') {
      if (!isPlainObject(x)) continue;
      id = Object.fromEntries(keys.filter((k) => Object.hasOwn(x, k)).map((k) => [k, x[k]]));
    }
    const c = canonical(id);
    if (seen.has(c))
      ctx.errs.push({ path: `${path}[${i}]`, message: `Duplicate value: ${show(id)}` });
    seen.add(c);
  }
}

function validateObject(
  value: Readonly<Record<string, unknown>>,
  s: JsonSchema,
  path: string,
  ctx: Ctx,
): void {
  const push = (message: string): void => {
    ctx.errs.push({ path, message });
  };
  const count = Object.keys(value).length;
  if (s.maxProperties !== undefined && count > s.maxProperties) {
    push(`Too many: ${count}: must have at most ${s.maxProperties} items`);
  }
  if (s.minProperties !== undefined && count < s.minProperties) {
    push(
      `Invalid value: ${count}: ${inBody(path)} should have at least ${s.minProperties} properties`,
    );
  }
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, x] of Object.entries(value)) {
    const child = childPath(path, k);
    const prop = s.properties && Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
    if (prop) {
      validateNode(x, prop, child, ctx);
    } else if (typeof s.additionalProperties === 'object') {
      validateNode(x, s.additionalProperties, child, ctx);
    } else if (s.additionalProperties === false) {
      ctx.errs.push({
        path: child,
        message: `Forbidden: ${inBody(path)} does not allow property ${show(k)}`,
      });
    } else if (ctx.structural && !preserve && s.additionalProperties !== true) {
      ctx.errs.push({ path: child, message: 'unknown field' });
    }
  }
  for (const r of s.required ?? []) {
    if (!Object.hasOwn(value, r))
      ctx.errs.push({ path: childPath(path, r), message: 'Required value' });
  }
}

function validateCombinators(value: unknown, s: JsonSchema, path: string, ctx: Ctx): void {
  const label = show(schemaTypes(s)?.join(',') ?? jsonKind(value));
  const push = (message: string): void => {
    ctx.errs.push({ path, message: `Invalid value: ${label}: ${path || '<root>'} ${message}` });
  };
  const trial = (sub: JsonSchema): FieldError[] => {
    const errs: FieldError[] = [];
    validateNode(value, sub, path, { errs, structural: false });
    return errs;
  };
  const fewest = (results: readonly FieldError[][]): readonly FieldError[] =>
    results.reduce<FieldError[] | undefined>(
      (best, r) => (best === undefined || r.length < best.length ? r : best),
      undefined,
    ) ?? [];

  if (s.anyOf) {
    const results = s.anyOf.map(trial);
    if (!results.some((r) => r.length === 0)) {
      push('must validate at least one schema (anyOf)');
      ctx.errs.push(...fewest(results));
    }
  }
  if (s.oneOf) {
    const results = s.oneOf.map(trial);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid === 0) {
      push('must validate one and only one schema (oneOf). Found none valid');
      ctx.errs.push(...fewest(results));
    } else if (valid > 1) {
      push(`must validate one and only one schema (oneOf). Found ${valid} valid alternatives`);
    }
  }
  if (s.allOf) {
    const results = s.allOf.map(trial);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== results.length) {
      for (const r of results) ctx.errs.push(...r);
      push(`must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`);
    }
  }
  if (s.not && trial(s.not).length === 0) push('must not validate the schema (not)');
}

function typeError(path: string, value: unknown, types: readonly string[]): FieldError {
  const kind = jsonKind(value);
  return {
    path,
    message: `Invalid value: ${show(kind)}: ${inBody(path)} must be of type ${types.join(',')}: ${show(kind)}`,
  };
}

function formatError(path: string, value: string, format: string): string {
  return `Invalid value: ${show(value)}: ${inBody(path)} must be of type ${format}: ${show(value)}`;
}

function inBody(path: string): string {
  return path === '' ? 'body' : `${path} in body`;
}

// ---------------------------------------------------------------------------------------------
// Formats

/** govalidator.IsBase64, which Kubernetes uses for `format: byte` (so "" is not valid). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;

const TIME_OF_DAY = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

/** kube-openapi strfmt.IsDateTime: `YYYY-MM-DD` (a real date) `T` `hh:mm:ss[.frac](Z|±hh:mm)`. */
function isDateTime(value: string): boolean {
  if (value.length < 4) return false;
  const [date, time] = value.toLowerCase().split('t');
  if (date === undefined || time === undefined || !isFullDate(date)) return false;
  const m = TIME_OF_DAY.exec(time);
  return m !== null && (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

/** Go time.Parse("2006-01-02", s): four-digit year, real month and day of that month. */
function isFullDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta (Kubernetes ValidateObjectMeta for namespaced custom resources)

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
const OBJECT_META: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    generateName: { type: 'string' },
    namespace: { type: 'string' },
    selfLink: { type: 'string' },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
    generation: { type: 'integer', minimum: 0 },
    creationTimestamp: { type: 'string', format: 'date-time' },
    deletionTimestamp: { type: 'string', format: 'date-time' },
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: STRING_MAP,
    annotations: STRING_MAP,
    finalizers: { type: 'array', items: { type: 'string' } },
    ownerReferences: {
      type: 'array',
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          name: { type: 'string' },
          uid: { type: 'string' },
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
      },
    },
    managedFields: {
      type: 'array',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
};

function validateObjectMeta(metadata: unknown, errs: FieldError[]): void {
  const m = metadata === null ? undefined : pruneNulls(metadata, OBJECT_META);
  if (m !== undefined) {
    const before = errs.length;
    validateNode(m, OBJECT_META, 'metadata', { errs, structural: true });
    if (errs.length > before || !isPlainObject(m)) return;
  }
  const meta = isPlainObject(m) ? m : {};
  const { name, generateName, namespace, labels, annotations } = meta;
  if (name === undefined || name === '') {
    if (generateName === undefined || generateName === '') {
      errs.push({
        path: 'metadata.name',
        message: 'Required value: name or generateName is required',
      });
    }
  } else if (typeof name === 'string') {
    for (const msg of dns1123Subdomain(name)) {
      errs.push({ path: 'metadata.name', message: `Invalid value: ${show(name)}: ${msg}` });
    }
  }
  if (typeof namespace === 'string' && namespace !== '') {
    const msgs: string[] = [];
    if (namespace.length > 63) msgs.push('must be no more than 63 characters');
    if (!DNS1123_LABEL.test(namespace)) msgs.push(LABEL_MSG);
    for (const msg of msgs) {
      errs.push({
        path: 'metadata.namespace',
        message: `Invalid value: ${show(namespace)}: ${msg}`,
      });
    }
  }
  if (isPlainObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      for (const msg of qualifiedName(k)) {
        errs.push({ path: 'metadata.labels', message: `Invalid value: ${show(k)}: ${msg}` });
      }
      if (typeof v !== 'string') continue;
      const msgs: string[] = [];
      if (v.length > 63) msgs.push('must be no more than 63 characters');
      if (!LABEL_VALUE.test(v)) msgs.push(LABEL_VALUE_MSG);
      for (const msg of msgs) {
        errs.push({
          path: childPath('metadata.labels', k),
          message: `Invalid value: ${show(v)}: ${msg}`,
        });
      }
    }
  }
  if (isPlainObject(annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(annotations)) {
      for (const msg of qualifiedName(k.toLowerCase())) {
        errs.push({ path: 'metadata.annotations', message: `Invalid value: ${show(k)}: ${msg}` });
      }
      size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
      errs.push({
        path: 'metadata.annotations',
        message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
      });
    }
  }
}

function dns1123Subdomain(value: string): string[] {
  const msgs: string[] = [];
  if (value.length > 253) msgs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) msgs.push(SUBDOMAIN_MSG);
  return msgs;
}

/** Kubernetes IsQualifiedName: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const msgs: string[] = [];
  const name = parts.length === 2 ? (parts[1] ?? '') : value;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0) msgs.push('prefix part must be non-empty');
    else msgs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name.length === 0) msgs.push('name part must be non-empty');
  else if (name.length > 63) msgs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME_PART.test(name)) msgs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return msgs;
}

// ---------------------------------------------------------------------------------------------
// CEL rules (x-kubernetes-validations)

/** Thrown by a predicate where CEL evaluation would fail (no such key, bad conversion, …). */
class CelEvalError extends Error {}

type CelPredicate = (self: unknown) => boolean;

/**
 * Every rule this module runs, by its exact text in the CRD file. Each predicate mirrors the CEL
 * expression, including where CEL evaluation errors (which Kubernetes reports as
 * `<error> evaluating rule: <message>`).
 */
const CEL_RULES: ReadonlyMap<string, CelPredicate> = new Map<string, CelPredicate>([
  // Label selectors (DestinationRule workloadSelector, …).
  ['self.all(key, !key.contains("*"))', (self) => celMapKeys(self).every((k) => !k.includes('*'))],
  ['self.all(key, key.size() != 0)', (self) => celMapKeys(self).every((k) => k.length !== 0)],
  ['!self.contains("*")', (self) => !celString(self).includes('*')],
  // Durations (VirtualService timeout / retries, DestinationRule connection pool, …).
  [
    "duration(self) >= duration('1ms')",
    (self) => {
      const ns = parseGoDuration(celString(self));
      if (ns === undefined) {
        throw new CelEvalError("type conversion error from 'string' to 'google.protobuf.Duration'");
      }
      return ns >= 1_000_000n;
    },
  ],
  // ServiceEntry / WorkloadEntry / WorkloadGroup.
  [
    '!((has(self.addresses) ? self.addresses : []).exists(k, k.contains("/")) && !((has(self.resolution) ? self.resolution : "NONE") in ["STATIC", "NONE"]))',
    (self) => {
      const addresses = celHas(self, 'addresses') ? celList(celField(self, 'addresses')) : [];
      const resolution = celHas(self, 'resolution') ? celField(self, 'resolution') : 'NONE';
      const cidr = celExists(addresses, (k) => celString(k).includes('/'));
      return !(cidr && !(resolution === 'STATIC' || resolution === 'NONE'));
    },
  ],
  [
    '((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true',
    (self) =>
      (celHas(self, 'resolution') ? celField(self, 'resolution') : 'NONE') === 'NONE'
        ? !celHas(self, 'endpoints')
        : true,
  ],
  [
    '((has(self.resolution) ? self.resolution : "") == "DNS_ROUND_ROBIN") ? ((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true',
    (self) =>
      (celHas(self, 'resolution') ? celField(self, 'resolution') : '') === 'DNS_ROUND_ROBIN'
        ? (celHas(self, 'endpoints') ? celList(celField(self, 'endpoints')) : []).length <= 1
        : true,
  ],
  [
    'has(self.address) || has(self.network)',
    (self) => celHas(self, 'address') || celHas(self, 'network'),
  ],
  [
    '(has(self.address) ? self.address : "").startsWith("unix://") ? !has(self.ports) : true',
    (self) =>
      celString(celHas(self, 'address') ? celField(self, 'address') : '').startsWith('unix://')
        ? !celHas(self, 'ports')
        : true,
  ],
  [
    'self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true',
    (self) => {
      const s = celString(self);
      if (!s.startsWith('unix://')) return true;
      const c = celSubstring(s, 7, 8);
      return c === '/' || c === '@';
    },
  ],
  [
    'self.startsWith("unix://") ? !self.endsWith("/") : true',
    (self) => {
      const s = celString(self);
      return s.startsWith('unix://') ? !s.endsWith('/') : true;
    },
  ],
  [
    'self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$"))',
    (self) =>
      celMapKeys(self).every(
        (k) => [...k].length < 63 && /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/u.test(k),
      ),
  ],
  ['self != "*"', (self) => celString(self) !== '*'],
  [
    'self.all(l1, self.exists_one(l2, l1.number == l2.number))',
    (self) => {
      const items = celList(self);
      // exists_one propagates errors, so one item without `number` makes every l1 fail to evaluate.
      const numbers = items.map((l) => celField(l, 'number'));
      return numbers.every((n) => numbers.filter((m) => deepEqual(m, n)).length === 1);
    },
  ],
  ['0 < self && self <= 65535', (self) => 0 < celNumber(self) && celNumber(self) <= 65535],
]);

/**
 * Rules of the shape `(has(self.a) ? 1 : 0) + (has(self.b) ? 1 : 0) [+ …] <= 1`, as Istio writes
 * "only one of a or b can be set" (Gateway server TLS, and others).
 */
const AT_MOST_ONE_TERM = /^\(has\(self\.([A-Za-z_][A-Za-z0-9_]*)\) \? 1 : 0\)$/;

function atMostOneRule(rule: string): CelPredicate | undefined {
  if (!rule.endsWith(' <= 1')) return undefined;
  const fields: string[] = [];
  for (const term of rule.slice(0, -' <= 1'.length).split(' + ')) {
    const m = AT_MOST_ONE_TERM.exec(term);
    if (!m?.[1]) return undefined;
    fields.push(m[1]);
  }
  return (self) => fields.filter((f) => celHas(self, f)).length <= 1;
}

function celPredicate(rule: string): CelPredicate | undefined {
  return CEL_RULES.get(rule) ?? atMostOneRule(rule);
}

function runCelRules(value: unknown, s: JsonSchema, path: string, ctx: Ctx): void {
  const rules = s['x-kubernetes-validations'];
  if (!rules) return;
  const label = show(s.type ?? '');
  for (const r of rules) {
    const predicate = celPredicate(r.rule);
    if (!predicate) continue; // listed by unimplementedCelRules()
    const text = r.message?.trim() || r.rule.trim();
    try {
      if (!predicate(value)) {
        const message = r.message?.trim() ? r.message.trim() : `failed rule: ${r.rule.trim()}`;
        ctx.errs.push({ path, message: `Invalid value: ${label}: ${message}` });
      }
    } catch (e) {
      if (!(e instanceof CelEvalError)) throw e;
      ctx.errs.push({
        path,
        message: `Invalid value: ${label}: ${e.message} evaluating rule: ${text}`,
      });
    }
  }
}

function celHas(self: unknown, field: string): boolean {
  if (!isPlainObject(self)) throw new CelEvalError('no such overload');
  return Object.hasOwn(self, field);
}

function celField(self: unknown, field: string): unknown {
  if (!celHas(self, field)) throw new CelEvalError(`no such key: ${field}`);
  return (self as Record<string, unknown>)[field];
}

function celString(v: unknown): string {
  if (typeof v !== 'string') throw new CelEvalError('no such overload');
  return v;
}

function celNumber(v: unknown): number {
  if (typeof v !== 'number') throw new CelEvalError('no such overload');
  return v;
}

function celList(v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) throw new CelEvalError('no such overload');
  return v;
}

function celMapKeys(v: unknown): string[] {
  if (!isPlainObject(v)) throw new CelEvalError('no such overload');
  return Object.keys(v);
}

/** CEL `exists`: true if any element is true, even when others fail to evaluate. */
function celExists(list: readonly unknown[], f: (x: unknown) => boolean): boolean {
  let error: unknown;
  for (const x of list) {
    try {
      if (f(x)) return true;
    } catch (e) {
      error = e;
    }
  }
  if (error !== undefined) throw error;
  return false;
}

/** cel-go ext/strings substring: code-point indexes, out-of-range is an evaluation error. */
function celSubstring(s: string, start: number, end: number): string {
  const runes = [...s];
  if (start > end) throw new CelEvalError(`invalid substring range. start: ${start}, end: ${end}`);
  if (start < 0 || start > runes.length) throw new CelEvalError(`index out of range: ${start}`);
  if (end < 0 || end > runes.length) throw new CelEvalError(`index out of range: ${end}`);
  return runes.slice(start, end).join('');
}

const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µs, micro sign
  ['\u03bcs', 1_000n], // μs, Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const INT64_LIMIT = 1n << 63n;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Go's time.ParseDuration (what CEL's `duration()` uses): `[-+]?(\d*(\.\d*)?unit)+` or `0`, units
 * ns us µs μs ms s m h, within int64 nanoseconds. Returns nanoseconds, or undefined when Go fails.
 */
export function parseGoDuration(input: string): bigint | undefined {
  let s = input;
  let total = 0n;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return undefined;
    let v = 0n;
    let i = 0;
    for (; isDigit(s[i]); i++) {
      v = v * 10n + BigInt(Number(s[i]));
      if (v > INT64_LIMIT) return undefined;
    }
    const pre = i > 0;
    s = s.slice(i);
    let fraction = 0n;
    let scale = 1n;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let overflow = false;
      i = 0;
      for (; isDigit(s[i]); i++) {
        if (overflow) continue;
        const next = fraction * 10n + BigInt(Number(s[i]));
        if (fraction > (INT64_LIMIT - 1n) / 10n || next > INT64_LIMIT) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10n;
      }
      post = i > 0;
      s = s.slice(i);
    }
    if (!pre && !post) return undefined;
    i = 0;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    if (i === 0) return undefined; // missing unit
    const unit = DURATION_UNITS.get(s.slice(0, i));
    if (unit === undefined) return undefined;
    s = s.slice(i);
    if (v > INT64_LIMIT / unit) return undefined;
    v *= unit;
    if (fraction > 0n) {
      v += BigInt(Math.trunc(Number(fraction) * (Number(unit) / Number(scale))));
      if (v > INT64_LIMIT) return undefined;
    }
    total += v;
    if (total > INT64_LIMIT) return undefined;
  }
  if (negative) return -total;
  if (total > INT64_LIMIT - 1n) return undefined;
  return total;
}

// ---------------------------------------------------------------------------------------------
// CEL rule inventory

/** The rule texts recognised verbatim (the at-most-one `has()` sum shape is also recognised). */
export const IMPLEMENTED_CEL_RULES: readonly string[] = [...CEL_RULES.keys()];

/** Every CEL rule in every served version of `kind`, and whether this module runs it. */
export function celRuleSites(schemas: CrdSchemas, kind: string): CelRuleSite[] {
  const versions = [...schemas.versions.values()].filter((v) => v.kind === kind);
  if (versions.length === 0) throw new Error(`no CustomResourceDefinition for kind ${kind}`);
  const sites: CelRuleSite[] = [];
  const walk = (s: JsonSchema, path: string, v: CrdVersion): void => {
    for (const r of s['x-kubernetes-validations'] ?? []) {
      sites.push({
        apiVersion: `${v.group}/${v.version}`,
        kind,
        schemaPath: path,
        rule: r.rule,
        message: r.message ?? '',
        implemented: celPredicate(r.rule) !== undefined,
      });
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, childPath(path, k), v);
    if (s.items) walk(s.items, `${path}[*]`, v);
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`, v);
  };
  for (const v of versions) walk(v.schema, '', v);
  return sites;
}

/** The CEL rules of `kind` that validateAgainstCrd does NOT check (empty = all checked). */
export function unimplementedCelRules(schemas: CrdSchemas, kind: string): CelRuleSite[] {
  return celRuleSites(schemas, kind).filter((s) => !s.implemented);
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function childPath(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A value as Kubernetes field errors print it: strings quoted, numbers and booleans bare. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '"null"';
  return canonical(v);
}

function num(n: number): string {
  return String(n);
}

/** JSON with sorted object keys, for equality and duplicate checks. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function deepEqual(a: unknown, b: unknown): boolean {
  return a === b || canonical(a) === canonical(b);
}
