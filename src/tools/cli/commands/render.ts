/** `lanes render istio -f PATH…`: the stock Istio objects that carry the same lanes. */
import { loadResources, noResourcesIn } from '../../../config/load/resources.ts';
import { positionOf, resourceKey, resourceLabel } from '../../../config/resource/resource.ts';
import { formatIssue } from '../../../config/source/issues.ts';
import { unstartedReleases } from '../../../controlplane/release/unstarted.ts';
import { analyze } from '../../../core/compiler/analyze.ts';
import { describeCondition } from '../../../core/compiler/status.ts';
import { analyzeIstio } from '../../../core/render/istio/analyzers.ts';
import { declaredEndpoints } from '../../../core/render/istio/declared.ts';
import { userInputs } from '../../../core/render/istio/inputs.ts';
import { warningKey } from '../../../core/render/istio/objects.ts';
import { renderIstio } from '../../../core/render/istio/render.ts';
import { type CommandSpec, listFlag, maxPositionals, parseCommand, stringFlag } from '../args.ts';
import { CliError, type CommandContext, UsageError } from '../io.ts';
import { edgeLuaFlag, manifestFormat, renderManifests } from '../manifests.ts';
import { readPaths } from './sources.ts';

export const renderSpec: CommandSpec = {
  name: 'render',
  help: `Print the stock Istio objects (networking.istio.io/v1) that carry the lanes of the files
on a cluster: DestinationRules with a subset per lane, a VirtualService per lane-group service
(merged into yours where you have one), entry VirtualServices per gateway host, and your own
Gateways, VirtualServices and DestinationRules. Apply them beside your Services and Deployments;
no lanes or ASM kinds are needed in the cluster.

Every feature stock Istio cannot carry (trace-id carriers, fallback on unhealthy instances,
sticky percentages, Mesh settings, a Release's steps: it is rendered as before its first step,
its lane entered only by its verify match) is a warning on stderr naming the resource and
field; the objects are still printed. Lane membership comes from the Deployments in the files (without
any, from what the lanes declare).

Usage: lanes render istio -f PATH... [-o yaml|json] [--edge-lua envoyfilter|trafficextension]

Flags:
  -f, --filename PATH       a file, a directory (its .yaml, .yml and .json files) or -; repeatable
  -o, --output FORMAT       yaml (default) or json (a List)
      --edge-lua API        also remove the lane member of baggage clients send, with a Lua
                            filter per gateway: trafficextension (Istio 1.30+) or envoyfilter
      --istio-namespace NS  Istio's root namespace, where the Lua filters go (default istio-system)
      --cluster NAME        cluster for Deployments, Services and Gateways (default: default)

Examples:
  lanes render istio -f lanes/ | kubectl apply -f -
  lanes render istio -f story/ --edge-lua trafficextension -o json
`,
  options: {
    filename: { type: 'string', short: 'f', multiple: true },
    output: { type: 'string', short: 'o' },
    'edge-lua': { type: 'string' },
    'istio-namespace': { type: 'string' },
    cluster: { type: 'string' },
  },
};

export async function render(ctx: CommandContext): Promise<number> {
  const p = parseCommand(renderSpec, ctx);
  if (!p) return 0;
  const target = p.positionals[0];
  if (target !== 'istio') {
    throw new UsageError(
      target === undefined
        ? 'lanes render needs a target: lanes render istio -f PATH; see `lanes render --help`'
        : `unknown render target ${JSON.stringify(target)}: lanes renders istio`,
    );
  }
  maxPositionals(renderSpec, p, 1, 'the target istio and its files with -f');
  const paths = listFlag(p, 'filename');
  if (paths.length === 0)
    throw new UsageError('lanes render istio needs -f PATH; see `lanes render --help`');
  const format = manifestFormat(stringFlag(p, 'output'));
  const edgeExtension = edgeLuaFlag(stringFlag(p, 'edge-lua'));
  const cluster = stringFlag(p, 'cluster');

  const sources = await readPaths(paths, ctx.io);
  const loaded = loadResources(sources, cluster === undefined ? {} : { cluster });
  const issues = loaded.issues.filter((i) => i.severity !== 'ignored').map(formatIssue);
  if (!loaded.ok) {
    const errors = loaded.issues.filter((i) => i.severity === 'error').length;
    // Worded as lanes apply words a refused apply.
    throw new CliError(
      `the files were rejected: ${errors} error${errors === 1 ? '' : 's'}; nothing was rendered`,
      { details: issues },
    );
  }
  if (loaded.resources.length === 0)
    throw new CliError(`${noResourcesIn(sources)}; nothing was rendered`);
  const inputs = userInputs(loaded.resources);
  const analysis = analyze(inputs, declaredEndpoints(inputs), {
    releases: unstartedReleases(inputs),
  });
  const istioNamespace = stringFlag(p, 'istio-namespace');
  const result = renderIstio(analysis, {
    ...(edgeExtension ? { edgeExtension } : {}),
    ...(istioNamespace ? { istioNamespace } : {}),
  });
  for (const line of issues) ctx.io.stderr.write(`${line}\n`);
  const byKey = new Map(analysis.resources.map((r) => [resourceKey(r.id), r]));
  for (const s of result.statuses) {
    const resource = byKey.get(resourceKey(s.id));
    for (const c of s.conditions) {
      if (c.status === 'True') continue;
      const text = resource ? describeCondition(resource, c) : c.message;
      ctx.io.stderr.write(
        `warning: ${resourceLabel(s.id)} ${c.type}=False (${c.reason}): ${text}\n`,
      );
    }
  }
  for (const w of result.warnings) {
    const { kind, namespace, name } = w.resource;
    const resource = analysis.resources.find(
      (r) =>
        r.kind === kind &&
        r.metadata.name === name &&
        (namespace === '' || r.metadata.namespace === namespace),
    );
    const pos = resource ? positionOf(resource, w.fieldPath) : undefined;
    const where =
      resource?.origin.file && pos ? `${resource.origin.file}:${pos.line}:${pos.col} ` : '';
    ctx.io.stderr.write(`warning: ${warningKey(w)}: ${where}${w.message}\n`);
  }
  const ports = new Map<string, number[]>();
  for (const [key, entry] of analysis.registry) ports.set(key, entry.ports);
  for (const m of analyzeIstio(result.objects, { ports }))
    ctx.io.stderr.write(`warning: ${m.code} ${m.object} ${m.path}: ${m.message}\n`);
  ctx.io.stdout.write(renderManifests(result.objects, format));
  return 0;
}
