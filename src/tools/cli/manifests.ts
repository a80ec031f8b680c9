/**
 * Kubernetes objects as `kubectl apply -f -` reads them: YAML documents separated by `---`, or
 * one JSON `List` (`-o json`).
 */
import { stringify } from 'yaml';

export type ManifestFormat = 'yaml' | 'json';

export function renderManifests(objects: readonly object[], format: ManifestFormat): string {
  if (format === 'json')
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return objects
    .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false, blockQuote: 'literal' }))
    .join('---\n');
}

export function manifestFormat(value: string | undefined): ManifestFormat | undefined {
  if (value === undefined || value === 'yaml') return 'yaml';
  return value === 'json' ? 'json' : undefined;
}
