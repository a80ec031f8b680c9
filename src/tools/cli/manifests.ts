/**
 * Kubernetes objects as `kubectl apply -f -` reads them: YAML documents separated by `---`, or
 * one JSON `List` (`-o json`); and the flags of the commands that print them.
 */
import { stringify } from 'yaml';
import type { EdgeExtensionApi } from '../../core/render/istio/edge-extension.ts';
import { UsageError } from './io.ts';

export type ManifestFormat = 'yaml' | 'json';

export function renderManifests(objects: readonly object[], format: ManifestFormat): string {
  if (format === 'json')
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return objects
    .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false, blockQuote: 'literal' }))
    .join('---\n');
}

/** `-o` of the commands that print manifests (render, install, uninstall): yaml unless json. */
export function manifestFormat(value: string | undefined): ManifestFormat {
  if (value === undefined || value === 'yaml') return 'yaml';
  if (value === 'json') return 'json';
  throw new UsageError(`-o takes yaml or json, got ${JSON.stringify(value)}`);
}

/** `--edge-lua`: which Istio API carries the gateways' Lua filter (render, controller). */
export function edgeLuaFlag(value: string | undefined): EdgeExtensionApi | undefined {
  if (value === undefined) return undefined;
  if (value === 'trafficextension') return 'TrafficExtension';
  if (value === 'envoyfilter') return 'EnvoyFilter';
  throw new UsageError(
    `--edge-lua takes trafficextension (Istio 1.30 and later) or envoyfilter, got ${JSON.stringify(value)}`,
  );
}
