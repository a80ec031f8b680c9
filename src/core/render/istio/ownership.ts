/**
 * Which objects and which parts of them lanes owns. Objects lanes creates carry the label
 * `app.kubernetes.io/managed-by: lanes`. A user's VirtualService or DestinationRule that lanes
 * merges its routes or subsets into keeps the user's name and records the user's own spec in the
 * annotation `lanes.dev/user-spec`, with `lanes.dev/rendered-hash` the hash of the merged spec:
 * as long as the object still has that hash, a later render (or the controller) starts again from
 * the user's spec; once the user changed it, their new spec is the user's spec.
 */
import {
  RENDERED_HASH_ANNOTATION,
  USER_SPEC_ANNOTATION,
} from '../../../config/kinds/annotations.ts';
import type { Resource } from '../../../config/resource/resource.ts';
import { valueFromNode } from '../../../config/source/node.ts';
import { parseYamlDocuments } from '../../../config/yaml/parse.ts';
import { fnv1a32 } from '../../engine/hash.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'lanes';
export { RENDERED_HASH_ANNOTATION, USER_SPEC_ANNOTATION };

/** JSON with object keys sorted, so the API server's key order (Go maps sort) hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function specHash(spec: unknown): string {
  return fnv1a32(canonicalJson(spec)).toString(16).padStart(8, '0');
}

/** The document of a resource as written (durations as text, every field as the user spelled it). */
export function rawDocument(resource: Resource): Record<string, unknown> {
  const parsed = parseYamlDocuments(resource.origin.text, resource.origin.file ?? '');
  const doc = parsed.documents[0];
  const value = doc ? valueFromNode(doc.node) : undefined;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

export function rawSpec(resource: Resource): Record<string, unknown> {
  const spec = rawDocument(resource).spec;
  return spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>) : {};
}

export function isManagedByLanes(resource: Resource): boolean {
  return resource.metadata.labels[MANAGED_BY_LABEL] === MANAGED_BY;
}

/**
 * The user's own spec of an object lanes merged into: the recorded one while the object is as
 * lanes wrote it, else the object's current spec. Undefined when lanes never merged into it.
 */
export function recordedUserSpec(
  resource: Resource,
  currentSpec: unknown,
): Record<string, unknown> | undefined {
  return recordedUserSpecFrom(resource.metadata.annotations, currentSpec);
}

export function recordedUserSpecFrom(
  annotations: Readonly<Record<string, string>>,
  currentSpec: unknown,
): Record<string, unknown> | undefined {
  const recorded = annotations[USER_SPEC_ANNOTATION];
  const hash = annotations[RENDERED_HASH_ANNOTATION];
  if (recorded === undefined || hash === undefined) return undefined;
  if (specHash(currentSpec) !== hash) return undefined;
  try {
    const spec = JSON.parse(recorded) as unknown;
    return spec !== null && typeof spec === 'object'
      ? (spec as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
