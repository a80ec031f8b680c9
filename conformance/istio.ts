/**
 * The conformance suite rendered to stock Istio: each step's resources go through
 * `lanes render istio`, the lane kinds (lanes.dev, ASM) and the original Istio routing objects are
 * removed, and lanes' own engine and proxies run on what is left — the Services, Deployments and
 * Gateways as applied, and the rendered VirtualServices and DestinationRules, read back as YAML
 * through lanes' strict Istio schemas. The opt-in Lua edge filter is rendered too; the runners
 * apply its TypeScript model in front of every gateway.
 */
import { stringify } from 'yaml';
import { loadResources } from '../src/config/load/resources.ts';
import type { Resource } from '../src/config/resource/resource.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { analyze } from '../src/core/compiler/analyze.ts';
import type { ResourceStatus } from '../src/core/compiler/status.ts';
import type { Endpoint } from '../src/core/compiler/table.ts';
import { applyEdgeHygiene, type EdgeHygiene } from '../src/core/render/istio/edge-extension.ts';
import {
  type IstioObject,
  type RenderWarning,
  warningKey,
} from '../src/core/render/istio/objects.ts';
import { type RenderOptions, renderIstio } from '../src/core/render/istio/render.ts';
import type { GatewayFilter } from './engine-runner.ts';
import type { ResourceTransform } from './mesh-state.ts';

const LANE_GROUPS = new Set(['lanes.dev', 'istio.alibabacloud.com']);

/** What a level keeps of the applied resources: everything but lane kinds and Istio routing. */
function kept(r: Resource): boolean {
  if (LANE_GROUPS.has(r.id.group)) return false;
  return r.id.group !== 'networking.istio.io' || r.kind === 'Gateway';
}

export function toYaml(objects: readonly IstioObject[]): string {
  return objects
    .map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0, blockQuote: 'literal' }))
    .join('---\n');
}

export class IstioRendering {
  readonly options: RenderOptions;
  #warnings: readonly RenderWarning[] = [];
  #objects: readonly IstioObject[] = [];
  #hygiene: EdgeHygiene = { headers: [], baggageKeys: [] };
  #statuses: readonly ResourceStatus[] = [];

  constructor(options: RenderOptions) {
    this.options = options;
  }

  /** The latest render's warnings as `Kind ns/name fieldPath: Reason`, sorted. */
  get warnings(): string[] {
    return this.#warnings.map(warningKey).sort();
  }

  get objects(): readonly IstioObject[] {
    return this.#objects;
  }

  /** The statuses of the latest render's inputs (broken references the objects carry over). */
  get statuses(): readonly ResourceStatus[] {
    return this.#statuses;
  }

  readonly transform: ResourceTransform = (
    resources: readonly Resource[],
    endpoints: readonly Endpoint[],
  ) => {
    const result = renderIstio(analyze(resources, endpoints), this.options);
    this.#warnings = result.warnings;
    this.#objects = result.objects;
    this.#hygiene = result.hygiene;
    this.#statuses = result.statuses;
    const routing = result.objects.filter(
      (o) => o.kind === 'VirtualService' || o.kind === 'DestinationRule',
    );
    const loaded = loadResources([{ file: 'rendered.yaml', text: toYaml(routing) }]);
    if (!loaded.ok) {
      const errors = loaded.issues.filter((i) => i.severity === 'error').map(formatIssue);
      throw new Error(`lanes rejects its own rendering:\n${errors.join('\n')}`);
    }
    return [...resources.filter(kept), ...loaded.resources];
  };

  /** The edge extension's model, with what the latest render removes. */
  readonly gatewayFilter: GatewayFilter = (headers) =>
    this.options.edgeExtension ? applyEdgeHygiene(this.#hygiene, headers) : headers;
}
