/**
 * A small declarative schema language for resource specs. A schema parses a positioned node tree
 * into a typed value and reports every problem with its field path and source position. Each
 * object field is declared as supported, ignored (accepted, reported in status) or unsupported
 * (an error that names the field), so nothing a user writes is ever silently dropped.
 */

import type { Issue } from '../source/issues.ts';
import { NO_POS, type Node, type Pos, valueFromNode } from '../source/node.ts';
import { didYouMean } from './did-you-mean.ts';
import { joinPath, type PathSegment } from './path.ts';

export const INVALID: unique symbol = Symbol('invalid');

/** A Kubernetes structural OpenAPI v3 schema node (what a CRD's `openAPIV3Schema` holds). */
export interface OpenApiSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly additionalProperties?: OpenApiSchema;
  readonly items?: OpenApiSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly oneOf?: readonly OpenApiSchema[];
  readonly anyOf?: readonly OpenApiSchema[];
  readonly not?: OpenApiSchema;
  readonly format?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

/** How deep recursive shapes (match trees) are unfolded in a generated schema. */
export interface OpenApiContext {
  readonly depth: number;
  readonly maxDepth: number;
}
export type Invalid = typeof INVALID;

/** Collects issues and the source position of every parsed field path of one document. */
export class ParseContext {
  readonly issues: Issue[] = [];
  readonly positions = new Map<string, Pos>();
  readonly file: string | undefined;
  resource: string | undefined;

  constructor(file: string | undefined, resource?: string) {
    this.file = file;
    this.resource = resource;
  }

  report(severity: Issue['severity'], path: string, pos: Pos, message: string): void {
    this.issues.push({
      file: this.file,
      line: pos.line,
      col: pos.col,
      path,
      message,
      severity,
      resource: this.resource,
    });
  }

  /** The position of a parsed path, or of its closest parsed ancestor. */
  posOf(path: string): Pos {
    let p = path;
    for (;;) {
      const pos = this.positions.get(p);
      if (pos) return pos;
      if (p === '') return NO_POS;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      p = cut > 0 ? p.slice(0, cut) : '';
    }
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }
}

/** What a check sees: the value's path, and ways to report at it or below it. */
export class CheckContext {
  readonly path: string;
  readonly ctx: ParseContext;

  constructor(path: string, ctx: ParseContext) {
    this.path = path;
    this.ctx = ctx;
  }

  at(...segments: PathSegment[]): string {
    return segments.reduce<string>((p, s) => joinPath(p, s), this.path);
  }

  error(message: string, ...segments: PathSegment[]): void {
    const path = this.at(...segments);
    this.ctx.report('error', path, this.ctx.posOf(path), message);
  }

  warn(message: string, ...segments: PathSegment[]): void {
    const path = this.at(...segments);
    this.ctx.report('warning', path, this.ctx.posOf(path), message);
  }

  ignored(message: string, ...segments: PathSegment[]): void {
    const path = this.at(...segments);
    this.ctx.report('ignored', path, this.ctx.posOf(path), message);
  }
}

export type Check<T> = (value: T, c: CheckContext) => void;

export abstract class Schema<T> {
  /** How the expected shape reads in a sentence: "a string", "a list". */
  abstract readonly expected: string;

  protected abstract parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid;

  /**
   * The shape as a Kubernetes structural OpenAPI v3 schema (for generated CRDs). Checks written
   * as code have no OpenAPI form: the API server checks the shape, lanes' own validation the rest.
   * A schema that says nothing about its shape is kept as written.
   */
  toOpenApi(_ctx: OpenApiContext): OpenApiSchema {
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }

  /** A description and a default for the OpenAPI schema; parsing is unchanged. */
  doc(meta: { readonly description?: string; readonly default?: unknown }): Schema<T> {
    return new Documented(this, meta);
  }

  parse(node: Node, path: string, ctx: ParseContext): T | Invalid {
    ctx.positions.set(path, node.pos);
    return this.parseNode(node, path, ctx);
  }

  /** A schema that also runs `fn` on every successfully parsed value. */
  check(fn: Check<T>): Schema<T> {
    return new Checked(this, fn);
  }

  /** A schema whose parsed value is mapped through `fn` (e.g. a duration string to milliseconds). */
  map<U>(fn: (value: T) => U): Schema<U> {
    return new Mapped(this, fn);
  }
}

class Documented<T> extends Schema<T> {
  readonly expected: string;
  readonly #inner: Schema<T>;
  readonly #meta: { readonly description?: string; readonly default?: unknown };

  constructor(
    inner: Schema<T>,
    meta: { readonly description?: string; readonly default?: unknown },
  ) {
    super();
    this.expected = inner.expected;
    this.#inner = inner;
    this.#meta = meta;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid {
    return this.#inner.parse(node, path, ctx);
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    return { ...this.#inner.toOpenApi(ctx), ...this.#meta };
  }
}

class Checked<T> extends Schema<T> {
  readonly expected: string;
  readonly #inner: Schema<T>;
  readonly #fn: Check<T>;

  constructor(inner: Schema<T>, fn: Check<T>) {
    super();
    this.expected = inner.expected;
    this.#inner = inner;
    this.#fn = fn;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid {
    const value = this.#inner.parse(node, path, ctx);
    if (value !== INVALID) this.#fn(value, new CheckContext(path, ctx));
    return value;
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    return this.#inner.toOpenApi(ctx);
  }
}

class Mapped<T, U> extends Schema<U> {
  readonly expected: string;
  readonly #inner: Schema<T>;
  readonly #fn: (value: T) => U;

  constructor(inner: Schema<T>, fn: (value: T) => U) {
    super();
    this.expected = inner.expected;
    this.#inner = inner;
    this.#fn = fn;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): U | Invalid {
    const value = this.#inner.parse(node, path, ctx);
    return value === INVALID ? INVALID : this.#fn(value);
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    return this.#inner.toOpenApi(ctx);
  }
}

export function show(node: Node): string {
  if (node.kind === 'scalar') return JSON.stringify(node.value);
  return node.kind === 'map' ? 'an object' : 'a list';
}

function typeError(node: Node, path: string, ctx: ParseContext, expected: string): Invalid {
  let hint = '';
  if (node.kind === 'scalar' && expected === 'a string' && node.value !== null) {
    hint = ` (quote it: "${String(node.value)}")`;
  }
  ctx.report('error', path, node.pos, `Invalid value: ${show(node)}: must be ${expected}${hint}`);
  return INVALID;
}

// ---------------------------------------------------------------------------------------------
// Scalars

export interface StringOptions {
  readonly pattern?: RegExp;
  /** Says in words what `pattern` allows, for the error message. */
  readonly patternHint?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

class StringSchema extends Schema<string> {
  readonly expected = 'a string';
  readonly #opts: StringOptions;

  constructor(opts: StringOptions) {
    super();
    this.#opts = opts;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): string | Invalid {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') {
      return typeError(node, path, ctx, this.expected);
    }
    const value = node.value;
    const { pattern, patternHint, minLength, maxLength } = this.#opts;
    if (minLength !== undefined && value.length < minLength) {
      const what =
        minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters`;
      ctx.report('error', path, node.pos, `Invalid value: ${JSON.stringify(value)}: ${what}`);
      return INVALID;
    }
    if (maxLength !== undefined && value.length > maxLength) {
      ctx.report(
        'error',
        path,
        node.pos,
        `Invalid value: ${JSON.stringify(value)}: must be at most ${maxLength} characters`,
      );
      return INVALID;
    }
    if (pattern && !pattern.test(value)) {
      ctx.report(
        'error',
        path,
        node.pos,
        `Invalid value: ${JSON.stringify(value)}: ${patternHint ?? `must match ${pattern.source}`}`,
      );
      return INVALID;
    }
    return value;
  }

  override toOpenApi(): OpenApiSchema {
    const { pattern, minLength, maxLength } = this.#opts;
    return {
      type: 'string',
      ...(pattern ? { pattern: pattern.source } : {}),
      ...(minLength !== undefined ? { minLength } : {}),
      ...(maxLength !== undefined ? { maxLength } : {}),
    };
  }
}

export function str(opts: StringOptions = {}): Schema<string> {
  return new StringSchema(opts);
}

export interface NumberOptions {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

class NumberSchema extends Schema<number> {
  readonly expected: string;
  readonly #opts: NumberOptions;

  constructor(opts: NumberOptions) {
    super();
    this.#opts = opts;
    this.expected = opts.integer ? 'an integer' : 'a number';
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): number | Invalid {
    if (node.kind !== 'scalar' || typeof node.value !== 'number' || !Number.isFinite(node.value)) {
      return typeError(node, path, ctx, this.expected);
    }
    const value = node.value;
    const { min, max, integer } = this.#opts;
    if (integer && !Number.isInteger(value)) return typeError(node, path, ctx, this.expected);
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      const range =
        min !== undefined && max !== undefined
          ? `must be between ${min} and ${max}`
          : min !== undefined
            ? `must be at least ${min}`
            : `must be at most ${max}`;
      ctx.report('error', path, node.pos, `Invalid value: ${value}: ${range}`);
      return INVALID;
    }
    return value;
  }

  override toOpenApi(): OpenApiSchema {
    const { min, max, integer } = this.#opts;
    return {
      type: integer ? 'integer' : 'number',
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
    };
  }
}

export function int(opts: Omit<NumberOptions, 'integer'> = {}): Schema<number> {
  return new NumberSchema({ ...opts, integer: true });
}

export function num(opts: Omit<NumberOptions, 'integer'> = {}): Schema<number> {
  return new NumberSchema(opts);
}

class BoolSchema extends Schema<boolean> {
  readonly expected = 'true or false';

  protected parseNode(node: Node, path: string, ctx: ParseContext): boolean | Invalid {
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    return typeError(node, path, ctx, this.expected);
  }

  override toOpenApi(): OpenApiSchema {
    return { type: 'boolean' };
  }
}

export function bool(): Schema<boolean> {
  return new BoolSchema();
}

class EnumSchema<T extends string> extends Schema<T> {
  readonly expected: string;
  readonly #values: readonly T[];

  constructor(values: readonly T[]) {
    super();
    this.#values = values;
    this.expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid {
    if (node.kind === 'scalar' && typeof node.value === 'string') {
      const value = node.value;
      if ((this.#values as readonly string[]).includes(value)) return value as T;
      const guess = didYouMean(value, this.#values);
      const supported = this.#values.map((v) => JSON.stringify(v)).join(', ');
      ctx.report(
        'error',
        path,
        node.pos,
        `Unsupported value: ${JSON.stringify(value)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}: supported values: ${supported}`,
      );
      return INVALID;
    }
    return typeError(node, path, ctx, this.expected);
  }

  override toOpenApi(): OpenApiSchema {
    return { type: 'string', enum: [...this.#values] };
  }
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  return new EnumSchema(values);
}

/** Any value at all, returned as plain data (for free-form fields such as `resources`). */
class AnySchema extends Schema<unknown> {
  readonly expected = 'any value';

  protected parseNode(node: Node): unknown {
    return valueFromNode(node);
  }

  override toOpenApi(): OpenApiSchema {
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }
}

export function anyValue(): Schema<unknown> {
  return new AnySchema();
}

/** An integer or a string, as Kubernetes `IntOrString` (e.g. `targetPort: 8080` or `http`). */
class IntOrStringSchema extends Schema<number | string> {
  readonly expected = 'an integer or a string';

  protected parseNode(node: Node, path: string, ctx: ParseContext): number | string | Invalid {
    if (node.kind === 'scalar') {
      if (typeof node.value === 'string') return node.value;
      if (typeof node.value === 'number' && Number.isInteger(node.value)) return node.value;
    }
    return typeError(node, path, ctx, this.expected);
  }

  override toOpenApi(): OpenApiSchema {
    return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
}

export function intOrString(): Schema<number | string> {
  return new IntOrStringSchema();
}

// ---------------------------------------------------------------------------------------------
// Collections

export interface ListOptions {
  readonly min?: number;
  readonly max?: number;
}

class ListSchema<T> extends Schema<T[]> {
  readonly expected = 'a list';
  readonly #item: Schema<T>;
  readonly #opts: ListOptions;

  constructor(item: Schema<T>, opts: ListOptions) {
    super();
    this.#item = item;
    this.#opts = opts;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T[] | Invalid {
    if (node.kind !== 'seq') return typeError(node, path, ctx, this.expected);
    const { min, max } = this.#opts;
    if (min !== undefined && node.items.length < min) {
      ctx.report(
        'error',
        path,
        node.pos,
        min === 1
          ? 'Required value: must have at least one item'
          : `Invalid value: must have at least ${min} items`,
      );
      return INVALID;
    }
    if (max !== undefined && node.items.length > max) {
      ctx.report(
        'error',
        path,
        node.pos,
        `Too many: ${node.items.length}: must have at most ${max} items`,
      );
      return INVALID;
    }
    const out: T[] = [];
    let ok = true;
    node.items.forEach((item, i) => {
      const value = this.#item.parse(item, `${path}[${i}]`, ctx);
      if (value === INVALID) ok = false;
      else out.push(value);
    });
    return ok ? out : INVALID;
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    const { min, max } = this.#opts;
    return {
      type: 'array',
      items: this.#item.toOpenApi(ctx),
      ...(min !== undefined ? { minItems: min } : {}),
      ...(max !== undefined ? { maxItems: max } : {}),
    };
  }
}

export function list<T>(item: Schema<T>, opts: ListOptions = {}): Schema<T[]> {
  return new ListSchema(item, opts);
}

class RecordSchema<T> extends Schema<Record<string, T>> {
  readonly expected = 'an object';
  readonly #value: Schema<T>;
  readonly #key: Schema<string> | undefined;

  constructor(value: Schema<T>, key: Schema<string> | undefined) {
    super();
    this.#value = value;
    this.#key = key;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): Record<string, T> | Invalid {
    if (node.kind !== 'map') return typeError(node, path, ctx, this.expected);
    const out: Record<string, T> = {};
    let ok = true;
    for (const entry of node.entries) {
      const childPath = joinPath(path, entry.key);
      if (this.#key) {
        const key = this.#key.parse(
          { kind: 'scalar', pos: entry.keyPos, value: entry.key },
          childPath,
          ctx,
        );
        if (key === INVALID) {
          ok = false;
          continue;
        }
      }
      const value = this.#value.parse(entry.value, childPath, ctx);
      if (value === INVALID) ok = false;
      else out[entry.key] = value;
    }
    return ok ? out : INVALID;
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    return { type: 'object', additionalProperties: this.#value.toOpenApi(ctx) };
  }
}

/** A map with user-chosen keys (labels, header names); `key` validates each key. */
export function record<T>(value: Schema<T>, key?: Schema<string>): Schema<Record<string, T>> {
  return new RecordSchema(value, key);
}

// ---------------------------------------------------------------------------------------------
// Objects with declared fields

type FieldMode = 'optional' | 'required' | 'ignored' | 'unsupported';

export interface FieldDef<T, M extends FieldMode> {
  readonly mode: M;
  readonly schema: Schema<unknown> | undefined;
  /** Carries the parsed type for inference only; never set. */
  readonly type?: T;
  /** For ignored and unsupported fields: why, in a sentence the user can act on. */
  readonly reason: string;
}

/** A field that must be present. */
export function required<T>(schema: Schema<T>): FieldDef<T, 'required'> {
  return { mode: 'required', schema, reason: '' };
}

/** A field lanes accepts but has no use for; reported as ignored in the resource's status. */
export function ignored(
  reason: string,
  schema: Schema<unknown> = anyValue(),
): FieldDef<never, 'ignored'> {
  return { mode: 'ignored', schema, reason };
}

/** A real field of the original API that lanes does not support yet: an error that names it. */
export function unsupported(reason: string): FieldDef<never, 'unsupported'> {
  return { mode: 'unsupported', schema: undefined, reason };
}

type AnyField = Schema<unknown> | FieldDef<unknown, FieldMode>;
export type Fields = Record<string, AnyField>;

type RequiredKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends FieldDef<unknown, 'required'> ? K : never;
}[keyof F];
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Schema<unknown> ? K : never;
}[keyof F];
type FieldValue<D> =
  D extends FieldDef<infer T, FieldMode> ? T : D extends Schema<infer T> ? T : never;

export type ObjectOf<F extends Fields> = {
  [K in RequiredKeys<F>]: FieldValue<F[K]>;
} & {
  [K in OptionalKeys<F>]?: FieldValue<F[K]>;
};

export interface ObjectOptions {
  /** Fields of which exactly one must be set (Istio's `oneof`). */
  readonly exactlyOneOf?: readonly string[];
  /** Fields of which at most one may be set. */
  readonly atMostOneOf?: readonly string[];
}

class ObjectSchema<F extends Fields> extends Schema<ObjectOf<F>> {
  readonly expected = 'an object';
  readonly fields: F;
  readonly #opts: ObjectOptions;

  constructor(fields: F, opts: ObjectOptions) {
    super();
    this.fields = fields;
    this.#opts = opts;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): ObjectOf<F> | Invalid {
    if (node.kind !== 'map') return typeError(node, path, ctx, this.expected);
    const out: Record<string, unknown> = {};
    let ok = true;
    const seen = new Set<string>();
    for (const entry of node.entries) {
      const childPath = joinPath(path, entry.key);
      const def = Object.hasOwn(this.fields, entry.key) ? this.fields[entry.key] : undefined;
      if (def === undefined) {
        ok = false;
        const known = Object.keys(this.fields).filter((k) => {
          const f = this.fields[k];
          return !(f && !(f instanceof Schema) && f.mode === 'unsupported');
        });
        const guess = didYouMean(entry.key, known);
        ctx.report(
          'error',
          childPath,
          entry.keyPos,
          guess
            ? `unknown field ${JSON.stringify(entry.key)}: did you mean ${JSON.stringify(guess)}?`
            : `unknown field ${JSON.stringify(entry.key)}: known fields are ${known.join(', ')}`,
        );
        continue;
      }
      // A key with no value (`timeout:`) is null; Kubernetes treats it as absent.
      if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
      seen.add(entry.key);
      if (def instanceof Schema) {
        const value = def.parse(entry.value, childPath, ctx);
        if (value === INVALID) ok = false;
        else out[entry.key] = value;
        continue;
      }
      switch (def.mode) {
        case 'required':
        case 'optional': {
          const value = def.schema!.parse(entry.value, childPath, ctx);
          if (value === INVALID) ok = false;
          else out[entry.key] = value;
          break;
        }
        case 'ignored': {
          const value = def.schema!.parse(entry.value, childPath, ctx);
          if (value === INVALID) ok = false;
          else ctx.report('ignored', childPath, entry.keyPos, `ignored: ${def.reason}`);
          break;
        }
        case 'unsupported':
          ok = false;
          ctx.report('error', childPath, entry.keyPos, `not supported by lanes yet: ${def.reason}`);
          break;
      }
    }
    for (const [key, def] of Object.entries(this.fields)) {
      if (!(def instanceof Schema) && def.mode === 'required' && !seen.has(key)) {
        ok = false;
        ctx.report('error', joinPath(path, key), node.pos, 'Required value');
      }
    }
    const { exactlyOneOf, atMostOneOf } = this.#opts;
    for (const [group, exact] of [
      [exactlyOneOf, true],
      [atMostOneOf, false],
    ] as const) {
      if (!group) continue;
      const present = group.filter((k) => seen.has(k));
      if (present.length > 1 || (exact && present.length === 0)) {
        ok = false;
        const names = group.map((k) => JSON.stringify(k)).join(', ');
        ctx.report(
          'error',
          path,
          node.pos,
          present.length > 1
            ? `Invalid value: only one of ${names} may be set, found ${present.map((k) => JSON.stringify(k)).join(' and ')}`
            : `Required value: exactly one of ${names} must be set`,
        );
      }
    }
    return ok ? (out as ObjectOf<F>) : INVALID;
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    const properties: Record<string, OpenApiSchema> = {};
    const required: string[] = [];
    for (const [key, def] of Object.entries(this.fields)) {
      if (def instanceof Schema) {
        properties[key] = def.toOpenApi(ctx);
        continue;
      }
      switch (def.mode) {
        case 'required':
          required.push(key);
          properties[key] = def.schema!.toOpenApi(ctx);
          break;
        case 'optional':
          properties[key] = def.schema!.toOpenApi(ctx);
          break;
        case 'ignored':
          // Accepted and reported as ignored: kept as written.
          properties[key] = {
            'x-kubernetes-preserve-unknown-fields': true,
            description: `ignored by lanes: ${def.reason}`,
          };
          break;
        case 'unsupported':
          // Left out: the API server rejects it as an unknown field, as lanes does.
          break;
      }
    }
    const out: OpenApiSchema = {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
    };
    const { exactlyOneOf, atMostOneOf } = this.#opts;
    if (exactlyOneOf) return { ...out, oneOf: exactlyOneOf.map((k) => ({ required: [k] })) };
    if (atMostOneOf) {
      const pairs: OpenApiSchema[] = [];
      atMostOneOf.forEach((a, i) => {
        for (const b of atMostOneOf.slice(i + 1)) pairs.push({ required: [a, b] });
      });
      return { ...out, not: { anyOf: pairs } };
    }
    return out;
  }
}

export function obj<F extends Fields>(fields: F, opts: ObjectOptions = {}): Schema<ObjectOf<F>> {
  return new ObjectSchema(fields, opts);
}

/**
 * Parses a map whose keys select one of several schemas (a discriminated union written the
 * Kubernetes way, e.g. a match condition `{header: {...}}` or `{path: {...}}`): exactly one key.
 */
export function taggedUnion<U>(variants: { readonly [key: string]: Schema<U> }): Schema<U> {
  return new TaggedUnionSchema(variants);
}

class TaggedUnionSchema<U> extends Schema<U> {
  readonly expected: string;
  readonly #variants: { readonly [key: string]: Schema<U> };

  constructor(variants: { readonly [key: string]: Schema<U> }) {
    super();
    this.#variants = variants;
    this.expected = `an object with exactly one of ${Object.keys(variants).join(', ')}`;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): U | Invalid {
    if (node.kind !== 'map') return typeError(node, path, ctx, this.expected);
    const keys = Object.keys(this.#variants);
    if (node.entries.length !== 1) {
      ctx.report(
        'error',
        path,
        node.pos,
        `Invalid value: ${node.entries.length === 0 ? 'empty object' : `found ${node.entries.map((e) => e.key).join(', ')}`}: must have exactly one of ${keys.join(', ')} (combine conditions with all/any)`,
      );
      return INVALID;
    }
    const entry = node.entries[0]!;
    const variant = Object.hasOwn(this.#variants, entry.key)
      ? this.#variants[entry.key]
      : undefined;
    const childPath = joinPath(path, entry.key);
    if (!variant) {
      const guess = didYouMean(entry.key, keys);
      ctx.report(
        'error',
        childPath,
        entry.keyPos,
        `unknown field ${JSON.stringify(entry.key)}: ${guess ? `did you mean ${JSON.stringify(guess)}?` : `must be one of ${keys.join(', ')}`}`,
      );
      return INVALID;
    }
    return variant.parse(entry.value, childPath, ctx);
  }

  override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
    const properties: Record<string, OpenApiSchema> = {};
    for (const [key, variant] of Object.entries(this.#variants))
      properties[key] = variant.toOpenApi(ctx);
    return { type: 'object', properties, minProperties: 1, maxProperties: 1 };
  }
}

/** Defers building a schema, for recursive shapes (match trees). */
export function lazy<T>(build: () => Schema<T>): Schema<T> {
  let built: Schema<T> | undefined;
  return new (class extends Schema<T> {
    readonly expected = 'a value';
    protected parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid {
      built ??= build();
      return built.parse(node, path, ctx);
    }
    override toOpenApi(ctx: OpenApiContext): OpenApiSchema {
      // Structural schemas cannot recurse: unfold a few levels, then keep the rest as written.
      if (ctx.depth >= ctx.maxDepth)
        return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      built ??= build();
      return built.toOpenApi({ ...ctx, depth: ctx.depth + 1 });
    }
  })();
}

/**
 * Picks a schema by the node's shape, for fields that accept a short and a long form
 * (`services: [mocka]` or `services: [{name: mocka, fallback: [v1]}]`).
 */
export function byShape<T>(forms: {
  readonly scalar?: Schema<T>;
  readonly map?: Schema<T>;
  readonly seq?: Schema<T>;
}): Schema<T> {
  return new ByShapeSchema(forms);
}

class ByShapeSchema<T> extends Schema<T> {
  readonly expected: string;
  readonly #forms: {
    readonly scalar?: Schema<T>;
    readonly map?: Schema<T>;
    readonly seq?: Schema<T>;
  };

  constructor(forms: {
    readonly scalar?: Schema<T>;
    readonly map?: Schema<T>;
    readonly seq?: Schema<T>;
  }) {
    super();
    this.#forms = forms;
    this.expected = [forms.scalar?.expected, forms.map?.expected, forms.seq?.expected]
      .filter((e) => e !== undefined)
      .join(' or ');
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T | Invalid {
    const schema = this.#forms[node.kind];
    if (!schema) return typeError(node, path, ctx, this.expected);
    return schema.parse(node, path, ctx);
  }

  override toOpenApi(): OpenApiSchema {
    // A structural schema gives a node one type: a short or long form is kept as written.
    return { 'x-kubernetes-preserve-unknown-fields': true, description: this.expected };
  }
}
