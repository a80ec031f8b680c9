/**
 * What a render reads when its input holds an earlier render's output (a cluster's objects, or
 * `lanes render istio` run on its own output): objects lanes created are outputs, not inputs; a
 * user's object lanes merged into is read as the user's own spec while it is as lanes wrote it.
 * So rendering twice gives the same objects, and lane routes never pile up.
 */
import { loadResources } from '../../../config/load/resources.ts';
import type { Resource } from '../../../config/resource/resource.ts';
import {
  isManagedByLanes,
  RENDERED_HASH_ANNOTATION,
  rawDocument,
  recordedUserSpec,
  USER_SPEC_ANNOTATION,
} from './ownership.ts';

export function userInputs(resources: readonly Resource[]): Resource[] {
  const out: Resource[] = [];
  for (const r of resources) {
    const routing =
      r.id.group === 'networking.istio.io' &&
      (r.kind === 'VirtualService' || r.kind === 'DestinationRule');
    if (routing && isManagedByLanes(r)) continue;
    if (!routing || r.metadata.annotations[USER_SPEC_ANNOTATION] === undefined) {
      out.push(r);
      continue;
    }
    const doc = rawDocument(r);
    const user = recordedUserSpec(r, doc.spec);
    const annotations = { ...r.metadata.annotations };
    delete annotations[USER_SPEC_ANNOTATION];
    delete annotations[RENDERED_HASH_ANNOTATION];
    const metadata = {
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      ...(Object.keys(r.metadata.labels).length > 0 ? { labels: r.metadata.labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    const loaded = loadResources([
      {
        file: r.origin.file ?? '',
        text: JSON.stringify({
          apiVersion: r.apiVersion,
          kind: r.kind,
          metadata,
          spec: user ?? doc.spec,
        }),
      },
    ]);
    // The recorded spec was valid when lanes read it; if it no longer is, keep the object as is.
    out.push(loaded.ok && loaded.resources[0] ? loaded.resources[0] : r);
  }
  return out;
}
