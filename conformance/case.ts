/**
 * The conformance case format (`conformance/*.yaml`): steps that apply and delete resources,
 * set instance health, and send requests with expected outcomes. File paths are relative to the
 * case file, or under a named root: `repo:` (the repository) or `story:` (the story's YAML).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { publishedStory, STORY_DIR } from '../scripts/story.ts';
import { setBaggageValue } from '../src/core/carriers/baggage.ts';
import {
  OVERRIDE_BAGGAGE_KEY,
  OVERRIDE_HEADER,
  overrideKey,
  pairsText,
  parseOverridePairs,
  signOverride,
} from '../src/core/carriers/override.ts';
import type { AppBehaviour } from './mesh-state.ts';

export interface ApplySpec {
  readonly files: readonly string[];
  readonly yaml: string | undefined;
  readonly cluster: string | undefined;
}

export interface DeleteSpec {
  readonly kind: string;
  readonly names: readonly string[];
  readonly namespace: string | undefined;
  readonly cluster: string | undefined;
}

export interface ExplicitEndpoints {
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly count: number;
  readonly healthy: boolean;
  readonly cluster: string;
  readonly port: number;
  readonly workload: string | undefined;
}

export type Entry =
  | { readonly kind: 'gateway'; readonly gateway: string; readonly port: number | undefined }
  | {
      readonly kind: 'outbound';
      readonly namespace: string;
      readonly labels: Readonly<Record<string, string>>;
      readonly workload: string | undefined;
      readonly to: string;
    };

export interface Expect {
  /** Hops as `app@version`; a final `!CODE` is a mesh error. */
  readonly chain?: readonly string[];
  /** Percentages of chains (joined with ` > `) over `samples` requests; nothing else may occur. */
  readonly distribution?: Readonly<Record<string, number>>;
  readonly tolerance?: number;
  /** Headers (lower case) the first hop's request must carry after the decision; null: absent. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** Baggage entries the first hop's request must carry; null: absent. */
  readonly baggage?: Readonly<Record<string, string | null>>;
  /** Fallback steps of the first decision, as `lane:reason`. */
  readonly fallback?: readonly string[];
  /** Status code of the first decision's answer when it does not forward. */
  readonly status?: number;
  /**
   * What the entry hop did with the request's override: `followed`, or `rejected: <reason>`
   * (the first decision in the engine, the entry hop's access-log line through the proxies).
   */
  readonly override?: string;
  /**
   * Sticky entry: over `samples` varied keys, whether a request passes through this hop
   * (`app@version`) must not change when the same key is sent again with other randomness.
   */
  readonly stable?: string;
}

/**
 * A per-request override a request carries: `pairs` (`default/mockb=dev-bob, …`), how it is
 * signed, and on which carrier it is sent. The runners sign with OVERRIDE_KEYS (the mesh's key in
 * both), so a case reads as what a user would send.
 */
export interface OverrideSpec {
  readonly pairs: string;
  /** `mesh` (default): signed, valid for an hour; `none`: unsigned; the rest: signed but not valid. */
  readonly signed: 'mesh' | 'expired' | 'foreign' | 'tampered' | 'none';
  /** `header` (default), `baggage`, or Linkerd's `l5d-dtab` / `l5d-ctx-dtab` (always unsigned). */
  readonly carrier: 'header' | 'baggage' | 'l5d-dtab' | 'l5d-ctx-dtab';
}

/** The conformance mesh's override key, and one it does not have. */
export const OVERRIDE_KEYS = [
  overrideKey(Buffer.from('lanes conformance override key, not secret')),
];
const FOREIGN_KEY = overrideKey(Buffer.from('a key the conformance mesh does not have'));

const OVERRIDE_SIGNED = ['mesh', 'expired', 'foreign', 'tampered', 'none'] as const;
const OVERRIDE_CARRIERS = ['header', 'baggage', 'l5d-dtab', 'l5d-ctx-dtab'] as const;

function overrideOf(value: unknown, what: string, file: string): OverrideSpec | undefined {
  if (value === undefined) return undefined;
  const o = value as Raw;
  const signed = (o.signed as OverrideSpec['signed'] | undefined) ?? 'mesh';
  const carrier = (o.carrier as OverrideSpec['carrier'] | undefined) ?? 'header';
  if (typeof o.pairs !== 'string') throw new Error(`${file}: ${what}.pairs is required`);
  if (!OVERRIDE_SIGNED.includes(signed))
    throw new Error(`${file}: ${what}.signed: one of ${OVERRIDE_SIGNED.join(', ')}`);
  if (!OVERRIDE_CARRIERS.includes(carrier))
    throw new Error(`${file}: ${what}.carrier: one of ${OVERRIDE_CARRIERS.join(', ')}`);
  if (carrier.startsWith('l5d') && signed !== 'none')
    throw new Error(`${file}: ${what}: Linkerd dtab headers are never signed; say signed: none`);
  return { pairs: o.pairs, signed, carrier };
}

/** The headers that carry `spec`, added to `headers`. */
export function withOverrideHeaders(
  headers: Readonly<Record<string, string>>,
  spec: OverrideSpec,
  nowMs = Date.now(),
): Record<string, string> {
  const parsed = parseOverridePairs(spec.pairs);
  if ('error' in parsed) throw new Error(`override ${JSON.stringify(spec.pairs)}: ${parsed.error}`);
  const pairs = parsed.pairs;
  const exp = Math.floor(nowMs / 1000) + (spec.signed === 'expired' ? -60 : 3600);
  const key = spec.signed === 'foreign' ? FOREIGN_KEY : OVERRIDE_KEYS[0]!;
  let value: string;
  switch (spec.signed) {
    case 'none':
      value = pairsText(pairs);
      break;
    case 'tampered': {
      // Signed for other lanes, then the pairs swapped in: the signature no longer matches.
      const signed = signOverride(
        pairs.map((p) => ({ ...p, lane: `${p.lane}-x` })),
        key,
        exp,
      );
      value = `${pairsText(pairs)}${signed.slice(signed.indexOf(';'))}`;
      break;
    }
    default:
      value = signOverride(pairs, key, exp);
  }
  const out = { ...headers };
  switch (spec.carrier) {
    case 'header':
      out[OVERRIDE_HEADER] = value;
      break;
    case 'baggage':
      out.baggage = setBaggageValue(out.baggage, OVERRIDE_BAGGAGE_KEY, value);
      break;
    default:
      out[spec.carrier] = pairs
        .map((p) => `/svc/${p.service.split('/').reverse().join('.')} => /lane/${p.lane}`)
        .join('; ');
  }
  return out;
}

export interface RequestCase {
  readonly title: string;
  readonly entry: Entry;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly samples: number;
  /** A header whose value varies per sample (`{n}` is replaced by the sample number). */
  readonly vary: Readonly<Record<string, string>>;
  /** The override the request carries (its headers are in `headers` already). */
  readonly override: OverrideSpec | undefined;
  readonly expect: Expect;
  /**
   * Rendered to stock Istio (`lanes render istio`), this request gets another answer, because of
   * the feature this warning reason names (it must be among the step's expected warnings).
   */
  readonly istioDiffers: string | undefined;
  /** …or because of a limitation of the rendering that README.md states in these words. */
  readonly istioLimitation: string | undefined;
}

export interface StepCase {
  readonly title: string;
  readonly apply: readonly ApplySpec[];
  readonly delete: readonly DeleteSpec[];
  readonly unhealthy: readonly string[];
  readonly endpoints: readonly ExplicitEndpoints[] | undefined;
  readonly requests: readonly RequestCase[];
  /** Conditions expected in statuses: `Kind name: Type=Status[/Reason]`. */
  readonly statuses: readonly string[];
  /**
   * Warnings `lanes render istio` gives at this step (`Kind ns/name fieldPath: Reason`, exactly,
   * in any order); undefined: the same as at the step before (none at the first step).
   */
  readonly istioWarnings: readonly string[] | undefined;
}

export interface ConformanceCase {
  readonly name: string;
  readonly file: string;
  readonly apps: Readonly<Record<string, AppBehaviour>>;
  readonly steps: readonly StepCase[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');

/**
 * Where a case's `dir:` and `files:` point: relative to the case file, or under a named root:
 * `repo:` the repository (vendored test data, examples), `story:` the reference story's YAML
 * (ours, examples/story, unless the caller runs the case on another copy such as the published
 * walkthrough).
 */
export interface CaseRoots {
  readonly story: string;
}

export const DEFAULT_ROOTS: CaseRoots = { story: STORY_DIR };

function resolvePath(base: string, p: string, roots: CaseRoots): string {
  if (p.startsWith('repo:')) return join(REPO, p.slice('repo:'.length));
  if (p.startsWith('story:')) return join(roots.story, p.slice('story:'.length));
  return resolve(dirname(base), p);
}

function isRooted(p: string): boolean {
  return p.startsWith('repo:') || p.startsWith('story:');
}

type Raw = Record<string, unknown>;

function req<T>(value: T | undefined, what: string, file: string): T {
  if (value === undefined) throw new Error(`${file}: ${what} is required`);
  return value;
}

const EXPECT_KEYS: readonly (keyof Expect)[] = [
  'chain',
  'distribution',
  'tolerance',
  'headers',
  'baggage',
  'fallback',
  'status',
  'stable',
  'override',
];

/** An expectation that checks something: a misspelt key must not make a case assert nothing. */
function expectOf(value: unknown, what: string, file: string): Expect {
  const e = req(value as Raw | undefined, what, file);
  const keys = Object.keys(e);
  const unknown = keys.filter((k) => !(EXPECT_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new Error(
      `${file}: ${what}: unknown ${unknown.join(', ')} (known: ${EXPECT_KEYS.join(', ')})`,
    );
  if (keys.every((k) => k === 'tolerance'))
    throw new Error(`${file}: ${what} expects nothing; give chain, distribution, status, …`);
  return e as Expect;
}

/** The `istio:` block of a step or request, with only the keys it may have. */
function istioOf(value: unknown, what: string, file: string, keys: readonly string[]): Raw {
  if (value === undefined) return {};
  const raw = value as Raw;
  const unknown = Object.keys(raw).filter((k) => !keys.includes(k));
  if (unknown.length > 0)
    throw new Error(`${file}: ${what}: unknown ${unknown.join(', ')} (known: ${keys.join(', ')})`);
  return raw;
}

function parseEntry(r: Raw, file: string): Entry {
  if (typeof r.gateway === 'string') {
    return {
      kind: 'gateway',
      gateway: r.gateway,
      port: typeof r.port === 'number' ? r.port : undefined,
    };
  }
  const from = req(r.from as Raw | string | undefined, 'a request needs gateway or from', file);
  const to = req(r.to as string | undefined, 'an outbound request needs to', file);
  if (typeof from === 'string') {
    // A workload name: its namespace and labels are looked up by the runner.
    const [namespace, name] = from.split('/');
    return {
      kind: 'outbound',
      namespace: namespace ?? 'default',
      labels: {},
      workload: `${namespace}/${name}`,
      to,
    };
  }
  return {
    kind: 'outbound',
    namespace: (from.namespace as string | undefined) ?? 'default',
    labels: (from.labels as Record<string, string> | undefined) ?? {},
    workload: undefined,
    to,
  };
}

export function loadCase(path: string, roots: CaseRoots = DEFAULT_ROOTS): ConformanceCase {
  const file = resolve(path);
  const raw = parse(readFileSync(file, 'utf8')) as Raw;
  const steps = (req(raw.steps as Raw[] | undefined, 'steps', file) ?? []).map((s, i): StepCase => {
    const apply = ((s.apply as Raw[] | undefined) ?? []).map((a): ApplySpec => {
      const dir = typeof a.dir === 'string' ? resolvePath(file, a.dir, roots) : dirname(file);
      const files = ((a.files as string[] | undefined) ?? []).map((f) =>
        isRooted(f) ? resolvePath(file, f, roots) : join(dir, f),
      );
      return {
        files,
        yaml: a.yaml as string | undefined,
        cluster: a.cluster as string | undefined,
      };
    });
    const del = ((s.delete as Raw[] | undefined) ?? []).map(
      (d): DeleteSpec => ({
        kind: req(d.kind as string | undefined, `steps[${i}].delete[].kind`, file),
        names: (d.names as string[] | undefined) ?? [
          req(d.name as string | undefined, `steps[${i}].delete[].name`, file),
        ],
        namespace: d.namespace as string | undefined,
        cluster: d.cluster as string | undefined,
      }),
    );
    const endpoints = (s.endpoints as Raw[] | undefined)?.map(
      (e): ExplicitEndpoints => ({
        service: req(e.service as string | undefined, 'endpoints[].service', file),
        labels: (e.labels as Record<string, string> | undefined) ?? {},
        count: (e.count as number | undefined) ?? 1,
        healthy: (e.healthy as boolean | undefined) ?? true,
        cluster: (e.cluster as string | undefined) ?? 'default',
        port: (e.port as number | undefined) ?? 8080,
        workload: e.workload as string | undefined,
      }),
    );
    const requests = ((s.requests as Raw[] | undefined) ?? []).map((r, j): RequestCase => {
      const override = overrideOf(r.override, `steps[${i}].requests[${j}].override`, file);
      const headers = (r.headers as Record<string, string> | undefined) ?? {};
      return {
        title: (r.title as string | undefined) ?? `request ${j}`,
        entry: parseEntry(r, file),
        method: (r.method as string | undefined) ?? 'GET',
        path: (r.path as string | undefined) ?? '/',
        headers: override ? withOverrideHeaders(headers, override) : headers,
        samples: (r.samples as number | undefined) ?? 1,
        vary: (r.vary as Record<string, string> | undefined) ?? {},
        override,
        expect: expectOf(r.expect, `steps[${i}].requests[${j}].expect`, file),
        istioDiffers: istioOf(r.istio, `steps[${i}].requests[${j}].istio`, file, [
          'differs',
          'limitation',
        ]).differs as string | undefined,
        istioLimitation: (r.istio as Raw | undefined)?.limitation as string | undefined,
      };
    });
    const istio = istioOf(s.istio, `steps[${i}].istio`, file, ['warnings']);
    return {
      title: (s.title as string | undefined) ?? `step ${i + 1}`,
      apply,
      delete: del,
      unhealthy: (s.unhealthy as string[] | undefined) ?? [],
      endpoints,
      requests,
      statuses: (s.statuses as string[] | undefined) ?? [],
      istioWarnings: istio.warnings as string[] | undefined,
    };
  });
  return {
    name: req(raw.name as string | undefined, 'name', file),
    file,
    apps: (raw.apps as Record<string, AppBehaviour> | undefined) ?? {},
    steps,
  };
}

export function allCases(): ConformanceCase[] {
  return readdirSync(HERE)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadCase(join(HERE, f)));
}

/**
 * Every case, plus the story case once more on the published walkthrough's own files when they
 * sit beside the repository; `skipped` says what could not run and why.
 */
export function suiteCases(): {
  readonly cases: readonly ConformanceCase[];
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
} {
  const cases = allCases();
  const name = 'ASM reference story, on the published YAML files';
  const published = publishedStory();
  if ('skip' in published) return { cases, skipped: [{ name, reason: published.skip }] };
  const story = loadCase(join(HERE, 'asm-story.yaml'), { story: published.dir });
  return { cases: [...cases, { ...story, name }], skipped: [] };
}
