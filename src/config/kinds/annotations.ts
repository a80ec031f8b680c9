/**
 * Annotations under `lanes.dev/` configure lanes on resources of other APIs (an Istio Gateway, a
 * Deployment). A misspelt one would silently do nothing, so unknown ones are errors.
 */

import { didYouMean } from '../schema/did-you-mean.ts';
import type { ParseContext } from '../schema/dsl.ts';
import { joinPath } from '../schema/path.ts';

interface AnnotationDef {
  readonly kinds: readonly string[];
  readonly values?: readonly string[];
  readonly describe: string;
}

export const LANES_ANNOTATIONS: Record<string, AnnotationDef> = {
  'lanes.dev/trust-client-lane': {
    kinds: ['Gateway'],
    values: ['true', 'false'],
    describe:
      'when "true", the gateway keeps lane tags sent by clients (route header, baggage entry) instead of removing them, and follows their unsigned per-request overrides (lanes-override, l5d-dtab), signing them for the hops behind it',
  },
  'lanes.dev/user-spec': {
    kinds: ['VirtualService', 'DestinationRule'],
    describe:
      'written by `lanes render istio` and the controller: the spec the user wrote before lanes merged its routes or subsets into it',
  },
  'lanes.dev/rendered-hash': {
    kinds: ['VirtualService', 'DestinationRule'],
    describe:
      "written by `lanes render istio` and the controller: the hash of the spec lanes wrote, so a changed object is read as the user's again",
  },
};

export const TRUST_CLIENT_LANE = 'lanes.dev/trust-client-lane';

export function validateLanesAnnotations(
  annotations: Readonly<Record<string, string>>,
  kind: string,
  ctx: ParseContext,
): void {
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('lanes.dev/')) continue;
    const path = joinPath('metadata.annotations', key);
    const def = LANES_ANNOTATIONS[key];
    if (!def) {
      const guess = didYouMean(key, Object.keys(LANES_ANNOTATIONS));
      ctx.report(
        'error',
        path,
        ctx.posOf(path),
        `unknown lanes annotation ${JSON.stringify(key)}${guess ? `: did you mean ${JSON.stringify(guess)}?` : `; known: ${Object.keys(LANES_ANNOTATIONS).join(', ')}`}`,
      );
      continue;
    }
    if (!def.kinds.includes(kind)) {
      ctx.report(
        'error',
        path,
        ctx.posOf(path),
        `${key} applies to ${def.kinds.join(', ')}, not to ${kind}`,
      );
      continue;
    }
    if (def.values && !def.values.includes(value)) {
      ctx.report(
        'error',
        path,
        ctx.posOf(path),
        `Unsupported value: ${JSON.stringify(value)}: supported values: ${def.values.map((v) => JSON.stringify(v)).join(', ')}`,
      );
    }
  }
}

/** On a VirtualService or DestinationRule lanes merged into: the user's own spec, as JSON. */
export const USER_SPEC_ANNOTATION = 'lanes.dev/user-spec';
/** On the same object: the hash of the spec lanes wrote, to tell whether the user changed it since. */
export const RENDERED_HASH_ANNOTATION = 'lanes.dev/rendered-hash';
