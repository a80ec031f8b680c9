/**
 * Source texts → validated resources, all or nothing: the result carries every issue found in
 * every document, and `ok` is false if any of them is an error. Pure (no I/O).
 */

import { parseResource } from '../kinds/document.ts';
import { type Resource, resourceKey, resourceLabel } from '../resource/resource.ts';
import { type Issue, isError } from '../source/issues.ts';
import { parseYamlDocuments } from '../yaml/parse.ts';

export interface SourceText {
  readonly file: string;
  readonly text: string;
}

export interface LoadResult {
  readonly ok: boolean;
  readonly resources: readonly Resource[];
  /** Errors, warnings and ignored-field notes, in source order. */
  readonly issues: readonly Issue[];
}

export interface LoadOptions {
  /** Cluster for Deployments, Services and Gateways (`lanes apply --cluster`). */
  readonly cluster?: string;
}

export function loadResources(sources: readonly SourceText[], opts: LoadOptions = {}): LoadResult {
  const issues: Issue[] = [];
  const resources: Resource[] = [];
  const firstSeen = new Map<string, Resource>();
  for (const source of sources) {
    const parsed = parseYamlDocuments(source.text, source.file);
    issues.push(...parsed.issues);
    for (const doc of parsed.documents) {
      const result = parseResource(
        doc,
        opts.cluster === undefined ? {} : { cluster: opts.cluster },
      );
      issues.push(...result.issues);
      const resource = result.resource;
      if (!resource) continue;
      const key = resourceKey(resource.id);
      const first = firstSeen.get(key);
      if (first) {
        issues.push({
          file: resource.origin.file,
          line: resource.origin.line,
          col: resource.origin.col,
          path: '',
          resource: resourceLabel(resource.id),
          severity: 'error',
          message: `defined twice in one apply; the first definition is at ${first.origin.file}:${first.origin.line}:${first.origin.col}`,
        });
        continue;
      }
      firstSeen.set(key, resource);
      resources.push(resource);
    }
  }
  return { ok: !issues.some(isError), resources, issues };
}

/**
 * What to say when sources that loaded without an error hold no resource at all (an empty file,
 * or only comments and `---`): a command that then did nothing must not look like one that
 * succeeded, as kubectl says "no objects passed to apply". The caller adds what it did not do.
 */
export function noResourcesIn(sources: readonly SourceText[]): string {
  const files = sources.map((s) => s.file);
  return `no resources in ${files.join(', ')}: ${files.length === 1 ? 'it is' : 'they are'} empty or only comments; check the path`;
}
