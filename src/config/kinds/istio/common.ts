/**
 * Shapes shared by Istio's networking kinds: durations, percentages, StringMatch, header
 * operations, destinations, gateway references, exportTo and label maps. Every check reproduces
 * istio/istio's validation message (istio-semantics.md §1.9) after the field path.
 */
import {
  type CheckContext,
  INVALID,
  type Invalid,
  int,
  list,
  num,
  obj,
  type ParseContext,
  record,
  required,
  Schema,
  str,
} from '../../schema/dsl.ts';
import { NS_PER_MS, parseGoDurationNs } from '../../schema/duration.ts';
import { compileFullMatch } from '../../schema/regex.ts';
import type { Node } from '../../source/node.ts';
import { parseHeaderValue } from './header-value.ts';
import {
  goFloat,
  isDns1123Label,
  validateFqdn,
  validateTagKey,
  validateTagValue,
  validateWildcardDomain,
} from './istio-names.ts';
import type { Destination, HeaderOperations, Headers, Percent, StringMatch } from './types.ts';

const q = (s: string): string => JSON.stringify(s);

/** Proto int32 / uint32 fields, with the Kubernetes range message the CRD would give. */
export function int32(): Schema<number> {
  return int({ min: -2147483648, max: 2147483647 });
}

export function uint32(): Schema<number> {
  return int({ min: 0, max: 4294967295 });
}

/** agent.ValidatePort. */
export function portMessage(port: number): string | undefined {
  return port >= 1 && port <= 65535
    ? undefined
    : `port number ${port} must be in the range 1..65535`;
}

/**
 * A duration (`10s`, `1.5s`, `250ms`, `1m30s`) in milliseconds, with agent.ValidateDuration's
 * rules. `allowZero`: `0s` means "disabled" (tcp.idleTimeout).
 */
export function istioDuration(opts: { readonly allowZero?: boolean } = {}): Schema<number> {
  return str()
    .check((text, c) => {
      const ns = parseGoDurationNs(text);
      if (ns === undefined) {
        c.error(`Invalid value: ${q(text)}: must be a duration such as 10s, 1.5s, 250ms or 1m30s`);
      } else if (opts.allowZero && ns === 0n) {
        // allowed
      } else if (ns < NS_PER_MS) {
        c.error('duration must be greater than 1ms');
      } else if (ns % NS_PER_MS !== 0n) {
        c.error('only durations to ms precision are supported');
      }
    })
    .map((text) => Number((parseGoDurationNs(text) ?? 0n) / NS_PER_MS));
}

/** Istio's `Percent{value}`; absent `value` is 0. */
export function percentage(): Schema<Percent> {
  return obj({ value: num() })
    .check((p, c) => {
      const v = p.value ?? 0;
      if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) {
        c.error(`percentage ${goFloat(v)} is neither 0.0, nor in range [0.0001, 100.0]`, 'value');
      }
    })
    .map((p) => ({ value: p.value ?? 0 }));
}

/** ValidatePercent, for the integer percentages (outlier detection, deprecated fault `percent`). */
export function percentMessage(value: number): string | undefined {
  return value < 0 || value > 100 ? `percentage ${value} is not in range 0..100` : undefined;
}

// ---------------------------------------------------------------------------------------------
// StringMatch

export interface StringMatchOptions {
  /** `uri` allows an empty prefix (Envoy's route prefix); scheme/method/authority/headers don't. */
  readonly emptyPrefix?: boolean;
  /** `withoutHeaders`: `regex: "*"` is not RE2; Istio turns it into a presence match. */
  readonly starIsPresence?: boolean;
}

/** StringMatch: at most one of exact / prefix / regex; `{}` means "present" (header matches). */
export function stringMatch(where: string, opts: StringMatchOptions = {}): Schema<StringMatch> {
  return obj(
    { exact: str(), prefix: str(), regex: str() },
    { atMostOneOf: ['exact', 'prefix', 'regex'] },
  ).check((m, c) => {
    if (m.prefix === '' && !opts.emptyPrefix) {
      c.error(`${q(where)}: prefix string match should not be empty`, 'prefix');
    }
    if (m.regex !== undefined && !(opts.starIsPresence && m.regex === '*')) {
      const compiled = compileFullMatch(m.regex);
      if (!compiled.ok) c.error(`${q(where)}: ${compiled.message}`, 'regex');
    }
  });
}

/** A JSON-null value parses to `null`, so the enclosing map can report it with its key. */
class NullOr<T> extends Schema<T | null> {
  readonly expected: string;
  readonly #inner: Schema<T>;

  constructor(inner: Schema<T>) {
    super();
    this.#inner = inner;
    this.expected = inner.expected;
  }

  protected parseNode(node: Node, path: string, ctx: ParseContext): T | null | Invalid {
    if (node.kind === 'scalar' && node.value === null) return null;
    const value = this.#inner.parse(node, path, ctx);
    return value === INVALID ? INVALID : value;
  }
}

/** RFC 9110 token characters; Istio accepts upper case too (Envoy lower-cases names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const JWT_CLAIM_PREFIX = '@request.auth.claims';

export function isJwtClaimKey(name: string): boolean {
  return name.startsWith(`${JWT_CLAIM_PREFIX}.`) || name.startsWith(`${JWT_CLAIM_PREFIX}[`);
}

/** ValidateHTTPHeaderNameOrJwtClaimRoute; JWT claim keys are judged by the VirtualService. */
function matchHeaderName(): Schema<string> {
  return str().check((name, c) => {
    if (name === '') c.error('header name cannot be empty');
    else if (!isJwtClaimKey(name) && !TOKEN.test(name)) {
      c.error(`header name ${name} is not a valid header name`);
    }
  });
}

// VS.proto: "The keys uri, scheme, method, and authority will be ignored" inside `headers`.
const PSEUDO_MATCH_KEYS = new Set(['uri', 'scheme', 'method', 'authority']);

/**
 * `headers`, `withoutHeaders` or `queryParams` of a match block: name → StringMatch.
 * `what` names a value in the null message (`header match x cannot be null`).
 */
export function stringMatchMap(
  where: 'headers' | 'withoutHeaders' | 'queryParams',
  what: string,
): Schema<Record<string, StringMatch>> {
  const value = stringMatch(where, { starIsPresence: where === 'withoutHeaders' });
  const key = where === 'queryParams' ? str() : matchHeaderName();
  return record(new NullOr(value), key)
    .check((m, c) => {
      for (const [name, v] of Object.entries(m)) {
        if (v === null) c.error(`${what} ${name} cannot be null`, name);
        else if (where === 'headers' && PSEUDO_MATCH_KEYS.has(name)) {
          c.ignored(
            `ignored: Istio ignores the key ${name} inside headers; use match.${name}`,
            name,
          );
        }
      }
    })
    .map((m) => {
      // What Istio ignores (reported above) is left out here, so nothing downstream sees it.
      const out: Record<string, StringMatch> = {};
      for (const [name, v] of Object.entries(m)) {
        if (where === 'headers' && PSEUDO_MATCH_KEYS.has(name)) continue;
        out[name] = v ?? {};
      }
      return out;
    });
}

// ---------------------------------------------------------------------------------------------
// Header operations

function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ':authority' || lower === 'host';
}

/** ValidateHTTPHeaderWithAuthorityOperationName: request set/add may write Host / :authority. */
function writableRequestHeader(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if ((name.startsWith(':') || name.toLowerCase() === 'host') && !isAuthorityHeader(name)) {
    return `invalid header ${q(name)}: header cannot have ":" prefix`;
  }
  return tokenMessage(name);
}

/** ValidateHTTPHeaderOperationName: request remove, and every response operation. */
function operationHeader(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name.toLowerCase() === 'host') return `invalid header ${q(name)}: cannot set Host header`;
  if (name.startsWith(':')) return `invalid header ${q(name)}: header cannot have ":" prefix`;
  return tokenMessage(name);
}

// Beyond Istio: a name that is not an HTTP token cannot be written by Node's HTTP stack.
function tokenMessage(name: string): string | undefined {
  if (isAuthorityHeader(name) || TOKEN.test(name)) return undefined;
  return `header name ${name} is not a valid header name`;
}

function headerNameSchema(rule: (name: string) => string | undefined): Schema<string> {
  return str().check((name, c) => {
    const message = rule(name);
    if (message) c.error(message);
  });
}

/**
 * ValidateHTTPHeaderValue, then the value as lanes writes it. Envoy's `%VARIABLE%` substitution
 * is not implemented, so a value that uses it is an error; `%%` is Envoy's literal `%`.
 */
function headerValue(): Schema<string> {
  return str()
    .check((value, c) => {
      const parsed = parseHeaderValue(value);
      if (parsed.error) c.error(parsed.error);
      else if (parsed.variables.length > 0) {
        c.error(
          `not supported by lanes yet: Envoy's %VARIABLE% substitution in header values (${parsed.variables.join(', ')}); write the value literally, with %% for a literal %`,
        );
      }
    })
    .map((value) => value.replaceAll('%%', '%'));
}

function headerOperations(direction: 'request' | 'response'): Schema<HeaderOperations> {
  const write = direction === 'request' ? writableRequestHeader : operationHeader;
  return obj({
    set: record(headerValue(), headerNameSchema(write)),
    add: record(headerValue(), headerNameSchema(write)),
    remove: list(headerNameSchema(operationHeader)),
  });
}

/** `headers.request|response.{set,add,remove}` of a route or a route destination. */
export function headersSchema(): Schema<Headers> {
  return obj({ request: headerOperations('request'), response: headerOperations('response') });
}

/** The request `set`/`add` entries that write the authority (`:authority` or `host`). */
export function authorityWrites(headers: Headers | undefined): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(headers?.request?.[op] ?? {})) {
      if (isAuthorityHeader(name)) out.push([op, name, value]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Destinations, gateways, exportTo, labels

/** validateDestination. */
export function destination(): Schema<Destination> {
  return obj({
    host: required(str()),
    subset: str(),
    port: obj({ number: uint32() }),
  })
    .check((d, c) => {
      if (d.host === '*') c.error('invalid destination host *', 'host');
      else {
        const message = validateWildcardDomain(d.host);
        if (message) c.error(message, 'host');
      }
      // An empty subset is proto's "unset".
      if (d.subset && !isDns1123Label(d.subset)) {
        c.error(`subset name is invalid: ${d.subset}`, 'subset');
      }
      if (d.port) {
        const message = portMessage(d.port.number ?? 0);
        if (message)
          c.error(message, ...(d.port.number === undefined ? ['port'] : ['port', 'number']));
      }
    })
    .map((d): Destination => {
      const out: { host: string; subset?: string; port?: { number?: number } } = { host: d.host };
      if (d.subset) out.subset = d.subset;
      if (d.port) out.port = d.port;
      return out;
    });
}

/**
 * A gateway reference: `ns/name`, `name` (the resource's namespace) or `mesh`. The legacy
 * `name.ns` form is accepted with Istio's warning and normalised to `ns/name`, as Istio resolves it.
 */
export function gatewayRef(): Schema<string> {
  return str()
    .check((name, c) => {
      const slash = name.indexOf('/');
      if (slash < 0) {
        if (name.includes('.')) {
          c.warn(
            `using legacy gatewayName format ${q(name)}; prefer the <namespace>/<name> format: ${q(legacyToSlash(name))}`,
          );
        }
        const message = validateFqdn(name);
        if (message) c.error(message);
        return;
      }
      const ns = name.slice(0, slash);
      const gw = name.slice(slash + 1);
      if (ns === '' || gw === '') c.error('config namespace and gateway name cannot be empty');
      if (!isDns1123Label(ns)) c.error(`invalid value for namespace: ${q(ns)}`);
      if (!isDns1123Label(gw)) c.error(`invalid value for gateway name: ${q(gw)}`);
    })
    .map((name) => (!name.includes('/') && name.includes('.') ? legacyToSlash(name) : name));
}

function legacyToSlash(name: string): string {
  const parts = name.split('.');
  return `${parts[1] ?? ''}/${parts[0] ?? ''}`;
}

/** validateExportTo, the parts that do not need the resource's namespace. */
export function exportToSchema(): Schema<string[]> {
  return list(
    str().check((entry, c) => {
      if (entry === '.' || entry === '*') return;
      if (entry === '~')
        c.error('exportTo ~ (none) is not allowed for Istio configuration objects');
      else if (!isDns1123Label(entry)) {
        c.error('only .,*,~, or a valid DNS 1123 label is allowed as exportTo entry');
      }
    }),
  ).check((entries, c) => {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      if (seen.has(entry)) c.error(`duplicate entries in exportTo for entry ${entry}`, i);
      seen.add(entry);
    });
    if (entries.includes('*') && entries.length > 1) {
      c.error('cannot have both public (*) and non-public exportTo values for a resource');
    }
  });
}

/** validateExportTo's `.` versus the namespace's own name (run once the namespace is known). */
export function checkExportToNamespace(
  entries: readonly string[] | undefined,
  namespace: string,
  c: CheckContext,
): void {
  const dot = entries?.indexOf('.') ?? -1;
  const own = entries?.indexOf(namespace) ?? -1;
  if (dot >= 0 && own >= 0) {
    c.error(
      `duplicate entries in exportTo: . and current namespace ${namespace}`,
      'spec',
      'exportTo',
      Math.max(dot, own),
    );
  }
}

/** labels.Instance.Validate: Istio's label rules and messages (subset labels, sourceLabels). */
export function istioLabels(): Schema<Record<string, string>> {
  return record(
    str().check((value, c) => {
      const message = validateTagValue(value);
      if (message) c.error(message);
    }),
    str().check((key, c) => {
      const message = validateTagKey(key);
      if (message) c.error(message);
    }),
  );
}

/** An accepted field lanes has no use for, noted on its value (the value stays visible to checks). */
export function noted<T>(reason: string, schema: Schema<T>): Schema<T> {
  return schema.check((_value, c) => c.ignored(`ignored: ${reason}`));
}
