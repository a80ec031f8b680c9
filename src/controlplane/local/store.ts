/**
 * The applied resources of the local daemon. An apply or delete is validated as a whole, written
 * to the state directory durably, and only then takes effect: a rejected apply changes nothing,
 * and a crash right after `apply` returns loses nothing.
 */

import { loadResources, noResourcesIn } from '../../config/load/resources.ts';
import { type Resource, resourceKey, resourceLabel } from '../../config/resource/resource.ts';
import { formatIssue, type Issue } from '../../config/source/issues.ts';
import type { ApplyAction, DeleteTarget, SourceText } from './protocol.ts';
import { RequestError } from './request-error.ts';
import { type StateDir, StateError, type StoredDocument } from './state/state.ts';
import { checkRunnable } from './workloads/runnable.ts';

interface Entry {
  readonly resource: Resource;
  readonly doc: StoredDocument;
}

function stored(r: Resource, cluster: string, dir: string | undefined): StoredDocument {
  return {
    cluster,
    file: r.origin.file ?? '<unknown>',
    line: r.origin.textLine,
    text: r.origin.text,
    ...(dir !== undefined ? { dir } : {}),
  };
}

/** Documents parsed again at their original line: positions in messages stay those of the file. */
function sourceOf(doc: StoredDocument): SourceText {
  return {
    file: doc.file,
    text: `${'\n'.repeat(Math.max(0, doc.line - 1))}${doc.text}`,
    ...(doc.dir !== undefined ? { dir: doc.dir } : {}),
  };
}

/** A DNS-1123 label, as Kubernetes names a cluster's objects: it also becomes part of log file names. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * An empty cluster would place Deployments, Services and Gateways nowhere (no endpoints), and
 * come back as `default` after a restart; `../x` would put instance logs outside the state
 * directory. The CLI sends what the user typed, so the check is here, for every client.
 */
function checkCluster(cluster: string | undefined): void {
  if (cluster !== undefined && (typeof cluster !== 'string' || !CLUSTER_NAME.test(cluster)))
    throw new RequestError(
      400,
      `cluster ${JSON.stringify(cluster)} is not a valid name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit), or leave it out for the default cluster`,
    );
}

/** `runnable`: whether Deployments must be runnable here (to apply them, not to delete them). */
function validate(sources: readonly SourceText[], cluster: string | undefined, runnable = true) {
  const loaded = loadResources(sources, cluster === undefined ? {} : { cluster });
  const errors = [
    ...loaded.issues.filter((i) => i.severity === 'error'),
    ...(runnable ? checkRunnable(loaded.resources) : []),
  ];
  return {
    resources: loaded.resources,
    notes: loaded.issues.filter((i) => i.severity !== 'error'),
    errors,
  };
}

/**
 * Cross-resource checks that refuse an apply (a Release naming what does not exist): `applied`
 * are the documents of this apply, `all` what the store would hold after it, `before` what it holds now.
 */
export type ApplyCheck = (
  applied: readonly Resource[],
  all: readonly Resource[],
  before: readonly Resource[],
) => Issue[];

/**
 * What refuses a delete unless it is forced: something in force that the deletion would end (a
 * promoted release handing its services back). `after` is what the store would hold.
 */
export type DeleteCheck = (
  after: readonly Resource[],
) => { readonly message: string; readonly lines: readonly string[] } | undefined;

export class ResourceStore {
  readonly #state: StateDir;
  readonly #check: ApplyCheck | undefined;
  readonly #deleteCheck: DeleteCheck | undefined;
  #entries = new Map<string, Entry>();

  constructor(state: StateDir, checks: { apply?: ApplyCheck; delete?: DeleteCheck } = {}) {
    this.#state = state;
    this.#check = checks.apply;
    this.#deleteCheck = checks.delete;
  }

  /** Loads what was applied before; a document that no longer validates is a state error. */
  restore(): void {
    const docs = this.#state.readDocuments();
    const entries = new Map<string, Entry>();
    for (const doc of docs) {
      const { resources, errors } = validate([sourceOf(doc)], doc.cluster || undefined);
      if (errors.length > 0 || resources.length !== 1) {
        throw new StateError(
          `a stored resource no longer validates (${errors.map(formatIssue).join('; ') || 'no resource'}); lanes will not drop it silently — delete it from ${this.#state.dir}/resources.json by hand`,
        );
      }
      const r = resources[0]!;
      entries.set(resourceKey(r.id), { resource: r, doc });
    }
    this.#entries = entries;
  }

  resources(): Resource[] {
    return [...this.#entries.values()].map((e) => e.resource);
  }

  #persist(entries: Map<string, Entry>): void {
    this.#state.writeDocuments([...entries.values()].map((e) => e.doc));
    this.#entries = entries;
  }

  apply(
    sources: readonly SourceText[],
    cluster: string | undefined,
  ): {
    results: { resource: string; action: ApplyAction }[];
    notes: Issue[];
    applied: readonly Resource[];
  } {
    checkCluster(cluster);
    const { resources, notes, errors } = validate(sources, cluster);
    if (errors.length > 0) {
      throw new RequestError(
        400,
        `the apply was rejected: ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was applied`,
        errors.map(formatIssue),
      );
    }
    if (resources.length === 0)
      throw new RequestError(400, `${noResourcesIn(sources)}; nothing was applied`);
    const next = new Map(this.#entries);
    const results: { resource: string; action: ApplyAction }[] = [];
    for (const r of resources) {
      const key = resourceKey(r.id);
      const before = next.get(key);
      const doc = stored(r, r.id.cluster, sources.find((s) => s.file === r.origin.file)?.dir);
      const action: ApplyAction = !before
        ? 'created'
        : before.doc.text === doc.text && before.doc.dir === doc.dir
          ? 'unchanged'
          : 'configured';
      next.set(key, { resource: r, doc });
      results.push({ resource: describe(r), action });
    }
    const refused =
      this.#check?.(
        resources,
        [...next.values()].map((e) => e.resource),
        this.resources(),
      ) ?? [];
    if (refused.length > 0) {
      throw new RequestError(
        400,
        `the apply was rejected: ${refused.length} error${refused.length === 1 ? '' : 's'}; nothing was applied`,
        refused.map(formatIssue),
      );
    }
    this.#persist(next);
    return { results, notes, applied: resources };
  }

  delete(
    sources: readonly SourceText[] | undefined,
    targets: readonly DeleteTarget[] | undefined,
    cluster: string | undefined,
    force = false,
  ): string[] {
    checkCluster(cluster);
    const keys: string[] = [];
    const missing: string[] = [];
    const ambiguous: string[] = [];
    if (sources && sources.length > 0) {
      // Only the identities matter: a Deployment whose image cannot run here can still go.
      const { resources, errors } = validate(sources, cluster, false);
      if (errors.length > 0)
        throw new RequestError(
          400,
          'the files to delete do not validate; nothing was deleted',
          errors.map(formatIssue),
        );
      if (resources.length === 0)
        throw new RequestError(400, `${noResourcesIn(sources)}; nothing was deleted`);
      for (const r of resources) {
        const key = resourceKey(r.id);
        if (this.#entries.has(key)) keys.push(key);
        else missing.push(describe(r));
      }
    }
    for (const t of targets ?? []) {
      for (const name of t.names) {
        const matches = [...this.#entries.entries()].filter(
          ([, e]) =>
            e.resource.kind === t.kind &&
            e.resource.metadata.name === name &&
            (t.namespace === undefined ||
              e.resource.metadata.namespace === t.namespace ||
              e.resource.metadata.namespace === '') &&
            (e.resource.id.cluster === '' || e.resource.id.cluster === (cluster ?? 'default')),
        );
        // Without a namespace, same-named resources in several namespaces all match: deleting
        // whichever comes first would be a guess.
        if (matches.length > 1)
          ambiguous.push(
            `${t.kind} ${name} is in several namespaces (${matches.map(([, e]) => e.resource.metadata.namespace).join(', ')}); name one`,
          );
        else if (matches.length === 1) keys.push(matches[0]![0]);
        else
          missing.push(
            `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${name}${cluster ? ` in cluster ${cluster}` : ''}`,
          );
      }
    }
    if (ambiguous.length > 0) {
      throw new RequestError(
        400,
        `which one? ${ambiguous.join('; ')}; nothing was deleted`,
        ambiguous,
      );
    }
    if (missing.length > 0) {
      throw new RequestError(
        404,
        `not found: ${missing.join(', ')}; nothing was deleted`,
        missing.map((m) => `${m}: not found`),
      );
    }
    const next = new Map(this.#entries);
    const deleted: string[] = [];
    for (const key of keys) {
      const e = next.get(key);
      if (!e) continue;
      next.delete(key);
      deleted.push(describe(e.resource));
    }
    const refused = force
      ? undefined
      : this.#deleteCheck?.([...next.values()].map((e) => e.resource));
    if (refused)
      throw new RequestError(409, `${refused.message}; nothing was deleted`, refused.lines);
    this.#persist(next);
    return deleted;
  }

  /** The directory of the file a resource came from. */
  dirOf(r: Resource): string | undefined {
    return this.#entries.get(resourceKey(r.id))?.doc.dir;
  }

  /** The stored document of a resource: what a restart restores (the store test compares them). */
  document(r: Resource): StoredDocument | undefined {
    return this.#entries.get(resourceKey(r.id))?.doc;
  }
}

/** `Deployment default/mocka-v1 (cluster dev)`. */
export function describe(r: Resource): string {
  return `${resourceLabel(r.id)}${r.id.cluster && r.id.cluster !== 'default' ? ` (cluster ${r.id.cluster})` : ''}`;
}
