/**
 * Resource types as typed on the command line: kubectl-style names, plurals and short forms,
 * case-insensitive, and `resource.group` / `resource.version.group` forms (`deployments.apps`).
 *
 * This is a table of its own rather than a view of `src/config/kinds/registry.ts` so that the CLI does
 * not load every schema at startup; a test checks that both list the same kinds.
 */
import { didYouMean } from '../../config/schema/did-you-mean.ts';

export interface KindInfo {
  readonly kind: string;
  readonly group: string;
  /** Lowercase, kubectl's resource name. */
  readonly plural: string;
  readonly short: readonly string[];
  readonly namespaced: boolean;
  /** `cluster`: lives in one cluster (has a CLUSTER); `mesh`: the same everywhere. */
  readonly placement: 'cluster' | 'mesh';
}

export const KIND_TABLE: readonly KindInfo[] = [
  kindInfo('Deployment', 'apps', 'deployments', ['deploy'], true, 'cluster'),
  kindInfo('Service', '', 'services', ['svc'], true, 'cluster'),
  kindInfo('Gateway', 'networking.istio.io', 'gateways', ['gw'], true, 'cluster'),
  kindInfo('VirtualService', 'networking.istio.io', 'virtualservices', ['vs'], true, 'mesh'),
  kindInfo('DestinationRule', 'networking.istio.io', 'destinationrules', ['dr'], true, 'mesh'),
  kindInfo('ASMSwimLaneGroup', 'istio.alibabacloud.com', 'asmswimlanegroups', [], false, 'mesh'),
  kindInfo('ASMSwimLane', 'istio.alibabacloud.com', 'asmswimlanes', [], false, 'mesh'),
  kindInfo('LaneGroup', 'lanes.dev', 'lanegroups', [], false, 'mesh'),
  kindInfo('Lane', 'lanes.dev', 'lanes', [], false, 'mesh'),
  kindInfo('Mesh', 'lanes.dev', 'meshes', [], false, 'mesh'),
  kindInfo('Release', 'lanes.dev', 'releases', ['rel'], false, 'mesh'),
  // otelinst/otelinsts are the short names of the OpenTelemetry Operator's CRD.
  kindInfo(
    'Instrumentation',
    'opentelemetry.io',
    'instrumentations',
    ['otelinst', 'otelinsts'],
    true,
    'mesh',
  ),
];

function kindInfo(
  kind: string,
  group: string,
  plural: string,
  short: readonly string[],
  namespaced: boolean,
  placement: 'cluster' | 'mesh',
): KindInfo {
  return { kind, group, plural, short, namespaced, placement };
}

const VERSION = /^v\d+((alpha|beta)\d+)?$/;

/** The kind a command-line word names, or undefined. */
export function resolveKind(text: string): KindInfo | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === '') return undefined;
  const dot = lower.indexOf('.');
  if (dot < 0) return KIND_TABLE.find((k) => namesOf(k).includes(lower));
  const name = lower.slice(0, dot);
  let group = lower.slice(dot + 1);
  const versionDot = group.indexOf('.');
  if (versionDot > 0 && VERSION.test(group.slice(0, versionDot))) {
    group = group.slice(versionDot + 1);
  }
  // Short names take no group, as in kubectl (`deploy.apps` is not a resource there either).
  return KIND_TABLE.find(
    (k) => k.group === group && (k.plural === name || k.kind.toLowerCase() === name),
  );
}

/** `deployment.apps`, `service`: the name kubectl prints before `/name`. */
export function qualifiedName(info: Pick<KindInfo, 'kind' | 'group'>): string {
  const kind = info.kind.toLowerCase();
  return info.group === '' ? kind : `${kind}.${info.group}`;
}

/** `deployments.apps`, `services`: kubectl's plural form in "not found" messages. */
export function qualifiedPlural(info: KindInfo): string {
  return info.group === '' ? info.plural : `${info.plural}.${info.group}`;
}

export function kindByName(kind: string): KindInfo | undefined {
  return KIND_TABLE.find((k) => k.kind === kind);
}

/** The usage error for a word that names no kind: a suggestion and the list of kinds. */
export function unknownKindMessage(text: string): string {
  const candidates = KIND_TABLE.flatMap((k) => namesOf(k));
  const guess = didYouMean(text.split('.', 1)[0] ?? text, candidates);
  const suggestion = guess ? ` (did you mean ${JSON.stringify(singularOf(guess))}?)` : '';
  return `unknown resource type ${JSON.stringify(text)}${suggestion}; known types: ${knownKindsList()}`;
}

/** `deployment (deploy), service (svc), …`. */
export function knownKindsList(): string {
  return KIND_TABLE.map((k) => {
    const singular = k.kind.toLowerCase();
    return k.short.length > 0 ? `${singular} (${k.short.join(', ')})` : singular;
  }).join(', ');
}

function namesOf(k: KindInfo): string[] {
  return [k.kind.toLowerCase(), k.plural, ...k.short];
}

function singularOf(name: string): string {
  return (KIND_TABLE.find((k) => namesOf(k).includes(name))?.kind ?? name).toLowerCase();
}
