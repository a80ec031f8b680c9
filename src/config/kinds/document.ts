/**
 * Turns one source document into a validated resource: top-level fields, metadata, then the
 * kind's spec schema. Pure; all problems come back as issues with file:line:col and field path.
 */
import {
  DEFAULT_CLUSTER,
  DEFAULT_NAMESPACE,
  type Origin,
  type Resource,
  type ResourceId,
  resourceLabel,
} from '../resource/resource.ts';
import { CheckContext, INVALID, ignored, obj, ParseContext, str } from '../schema/dsl.ts';
import type { Issue } from '../source/issues.ts';
import { type MapNode, mapGet, type Pos } from '../source/node.ts';
import type { SourceDocument } from '../yaml/parse.ts';
import { validateLanesAnnotations } from './annotations.ts';
import { annotationMap, DNS1123_SUBDOMAIN, dnsSubdomain, labelMap } from './common.ts';
import { lookupKind, splitApiVersion } from './registry.ts';

export interface ParseOptions {
  /** Cluster for kinds placed in a cluster (`lanes apply --cluster dev`). */
  readonly cluster?: string;
}

export interface ParsedResource {
  readonly resource: Resource | undefined;
  readonly issues: readonly Issue[];
}

const READ_ONLY_METADATA = 'set by the API server, not by the files you apply';

const metadataSchema = obj({
  name: str({ minLength: 1 }),
  generateName: ignored(
    'lanes needs a fixed name to apply and delete resources; set metadata.name',
  ),
  namespace: dnsSubdomain('a namespace'),
  labels: labelMap(),
  annotations: annotationMap(),
  uid: ignored(READ_ONLY_METADATA),
  resourceVersion: ignored(READ_ONLY_METADATA),
  generation: ignored(READ_ONLY_METADATA),
  creationTimestamp: ignored(READ_ONLY_METADATA),
  deletionTimestamp: ignored(READ_ONLY_METADATA),
  deletionGracePeriodSeconds: ignored(READ_ONLY_METADATA),
  managedFields: ignored(READ_ONLY_METADATA),
  selfLink: ignored(READ_ONLY_METADATA),
  ownerReferences: ignored('lanes does not garbage-collect by owner'),
  finalizers: ignored('lanes does not run finalizers'),
});

/** Parses and validates one document. `resource` is undefined when there is any error. */
export function parseResource(doc: SourceDocument, opts: ParseOptions = {}): ParsedResource {
  const ctx = new ParseContext(doc.file);
  const root = doc.node;
  ctx.positions.set('', root.pos);
  if (root.kind !== 'map') {
    ctx.report(
      'error',
      '',
      root.pos,
      'Invalid value: a resource must be an object with apiVersion, kind, metadata and spec',
    );
    return { resource: undefined, issues: ctx.issues };
  }

  const apiVersion = topString(root, 'apiVersion', ctx);
  const kind = topString(root, 'kind', ctx);
  if (apiVersion === undefined || kind === undefined)
    return { resource: undefined, issues: ctx.issues };

  const lookup = lookupKind(apiVersion, kind);
  if (!lookup.ok) {
    const pos = root.entries.find((e) => e.key === lookup.field)?.value.pos ?? root.pos;
    ctx.report('error', lookup.field, pos, lookup.message);
    return { resource: undefined, issues: ctx.issues };
  }
  const def = lookup.def;

  for (const entry of root.entries) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(entry.key)) {
      ctx.report(
        'error',
        entry.key,
        entry.keyPos,
        `unknown field ${JSON.stringify(entry.key)}: a resource has apiVersion, kind, metadata, spec${def.specRequired ? '' : ' (optional)'} and status`,
      );
    }
  }

  const metaNode = mapGet(root, 'metadata');
  if (!metaNode) {
    ctx.report('error', 'metadata', root.pos, 'Required value: metadata.name is required');
    return { resource: undefined, issues: ctx.issues };
  }
  const metadata = metadataSchema.parse(metaNode, 'metadata', ctx);
  if (metadata === INVALID) return { resource: undefined, issues: ctx.issues };
  if (metadata.name === undefined) {
    ctx.report('error', 'metadata.name', metaNode.pos, 'Required value');
    return { resource: undefined, issues: ctx.issues };
  }
  const name = metadata.name;
  const namePattern = def.namePattern ?? {
    pattern: DNS1123_SUBDOMAIN,
    hint: "a name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'",
  };
  if (!namePattern.pattern.test(name) || name.length > 253) {
    ctx.report(
      'error',
      'metadata.name',
      ctx.posOf('metadata.name'),
      `Invalid value: ${JSON.stringify(name)}: ${namePattern.hint}`,
    );
  }

  let namespace = metadata.namespace ?? DEFAULT_NAMESPACE;
  if (def.scope === 'Cluster') {
    if (metadata.namespace !== undefined) {
      ctx.report(
        'ignored',
        'metadata.namespace',
        ctx.posOf('metadata.namespace'),
        `ignored: ${kind} is cluster-scoped (mesh-wide); it has no namespace`,
      );
    }
    namespace = '';
  }
  const label = resourceLabel({ kind, namespace, name });
  ctx.resource = label;
  // Issues found so far were reported before we knew the resource's name.
  const earlier = ctx.issues.splice(0).map((i) => ({ ...i, resource: label }));
  ctx.issues.push(...earlier);

  const annotations = metadata.annotations ?? {};
  validateLanesAnnotations(annotations, kind, ctx);

  if (mapGet(root, 'status')) {
    ctx.report('ignored', 'status', ctx.posOf('status'), 'ignored: status is written by lanes');
  }

  const specNode = mapGet(root, 'spec');
  let spec: unknown;
  if (specNode === undefined || (specNode.kind === 'scalar' && specNode.value === null)) {
    if (def.specRequired) {
      ctx.report('error', 'spec', root.pos, `Required value: ${kind} needs a spec`);
    }
    const empty = def.specRequired
      ? INVALID
      : def.spec.parse({ kind: 'map', pos: root.pos, entries: [] }, 'spec', ctx);
    spec = empty === INVALID ? undefined : empty;
  } else {
    const parsed = def.spec.parse(specNode, 'spec', ctx);
    spec = parsed === INVALID ? undefined : parsed;
  }

  const meta = { name, namespace, labels: metadata.labels ?? {}, annotations };
  if (!ctx.hasErrors && def.checkResource) def.checkResource(meta, spec, new CheckContext('', ctx));
  if (ctx.hasErrors) return { resource: undefined, issues: ctx.issues };

  const cluster = def.placement === 'cluster' ? (opts.cluster ?? DEFAULT_CLUSTER) : '';
  const id: ResourceId = {
    group: splitApiVersion(apiVersion).group,
    kind,
    namespace,
    name,
    cluster,
  };
  const origin: Origin = {
    file: doc.file,
    line: root.pos.line,
    col: root.pos.col,
    positions: Object.fromEntries(ctx.positions) as Record<string, Pos>,
    text: doc.text,
    textLine: doc.line,
  };
  const resource: Resource = {
    apiVersion,
    kind,
    id,
    metadata: meta,
    spec,
    origin,
    notes: ctx.issues.filter((i) => i.severity !== 'error'),
  };
  return { resource, issues: ctx.issues };
}

function topString(root: MapNode, key: string, ctx: ParseContext): string | undefined {
  const node = root.entries.find((e) => e.key === key)?.value;
  if (!node) {
    ctx.report('error', key, root.pos, `Required value: every resource needs ${key}`);
    return undefined;
  }
  ctx.positions.set(key, node.pos);
  if (node.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '') {
    ctx.report('error', key, node.pos, `Invalid value: ${key} must be a non-empty string`);
    return undefined;
  }
  return node.value;
}
