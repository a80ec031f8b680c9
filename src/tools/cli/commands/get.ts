/** `lanes get` and `lanes describe`. */

import { suggestName } from '../../../config/schema/did-you-mean.ts';
import type { ResourcesResponse, ResourceView } from '../../../controlplane/local/protocol.ts';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  type CommandSpec,
  maxPositionals,
  OUTPUT_OPTION,
  outputFlag,
  type Parsed,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { connect } from '../client.ts';
import { CliError, type CommandContext, UsageError } from '../io.ts';
import { KIND_TABLE, type KindInfo, knownKindsList, qualifiedPlural } from '../kinds.ts';
import { renderData, renderDescribe, renderResourceTable } from '../render.ts';
import { clusterFlag, kindArg } from './apply.ts';

const FLAGS = `Flags:
  -n, --namespace NS     only this namespace (default: every namespace)
      --cluster NAME     only this cluster (default: every cluster)
  -o, --output FORMAT    table (default), json or yaml
      --state DIR        state directory (default $LANES_HOME, else ./.lanes)`;

export const getSpec: CommandSpec = {
  name: 'get',
  help: `List resources of one kind, or one resource.

Usage: lanes get KIND [NAME] [-n NAMESPACE] [--cluster CLUSTER] [-o table|json|yaml]
       lanes get all [-n NAMESPACE] [--cluster CLUSTER] [-o table|json|yaml]

KIND, in any case, singular or plural, or as KIND.GROUP (deployments.apps):
${wrap(knownKindsList(), 96, '  ')}

${FLAGS}
`,
  options: {
    namespace: { type: 'string', short: 'n' },
    cluster: { type: 'string' },
    ...OUTPUT_OPTION,
  },
};

export const describeSpec: CommandSpec = {
  name: 'describe',
  help: `Show a resource in detail: where it came from, its conditions, notes (ignored fields,
warnings), its instances (Deployments) and the manifest as applied.

Usage: lanes describe KIND NAME [-n NAMESPACE] [--cluster CLUSTER] [-o table|json|yaml]

${FLAGS}
`,
  options: getSpec.options,
};

export async function get(ctx: CommandContext): Promise<number> {
  const p = parseCommand(getSpec, ctx);
  if (!p) return 0;
  const format = outputFlag(p);
  maxPositionals(getSpec, p, 2, 'KIND [NAME]');
  if (p.positionals.length === 1 && p.positionals[0]?.toLowerCase() === 'all')
    return getAll(ctx, p, format);
  const { info, name } = kindAndName(p, 'get', false);
  const res = await query(ctx, p, info, name);
  if (format !== 'table') {
    ctx.io.stdout.write(renderData(format, res));
    return 0;
  }
  if (res.items.length === 0) {
    ctx.io.stderr.write(`No resources found${where(p)}.\n`);
    return 0;
  }
  ctx.io.stdout.write(renderResourceTable(info, res.items));
  return 0;
}

export async function describe(ctx: CommandContext): Promise<number> {
  const p = parseCommand(describeSpec, ctx);
  if (!p) return 0;
  const format = outputFlag(p);
  maxPositionals(describeSpec, p, 2, 'KIND NAME');
  const { info, name } = kindAndName(p, 'describe', true);
  const res = await query(ctx, p, info, name);
  if (format !== 'table') ctx.io.stdout.write(renderData(format, res));
  // Same-named resources in several namespaces or clusters: describe each, as kubectl does.
  else ctx.io.stdout.write(res.items.map((item: ResourceView) => renderDescribe(item)).join('\n'));
  return 0;
}

/** `lanes get all`: every applied resource, one table per kind, in the order of `lanes get --help`. */
async function getAll(
  ctx: CommandContext,
  p: Parsed,
  format: ReturnType<typeof outputFlag>,
): Promise<number> {
  const namespace = stringFlag(p, 'namespace');
  if (namespace === '') throw new UsageError('-n needs a namespace');
  const cluster = clusterFlag(p);
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const res = await client.resources({
    ...(namespace !== undefined ? { namespace } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
  });
  if (format !== 'table') {
    ctx.io.stdout.write(renderData(format, res));
    return 0;
  }
  if (res.items.length === 0) {
    ctx.io.stderr.write(`No resources found${where(p)}.\n`);
    return 0;
  }
  const groupOf = (item: ResourceView) =>
    item.apiVersion.includes('/') ? item.apiVersion.slice(0, item.apiVersion.indexOf('/')) : '';
  const tables: string[] = [];
  for (const info of KIND_TABLE) {
    const items = res.items.filter(
      (item) => item.kind === info.kind && groupOf(item) === info.group,
    );
    if (items.length > 0)
      tables.push(`${qualifiedPlural(info)}\n${renderResourceTable(info, items)}`);
  }
  ctx.io.stdout.write(tables.join('\n'));
  return 0;
}

async function query(
  ctx: CommandContext,
  p: Parsed,
  info: KindInfo,
  name: string | undefined,
): Promise<ResourcesResponse> {
  const namespace = stringFlag(p, 'namespace');
  if (namespace === '') throw new UsageError('-n needs a namespace');
  const cluster = clusterFlag(p);
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const res = await client.resources({
    kind: info.kind,
    ...(name !== undefined ? { name } : {}),
    // Cluster-scoped kinds have no namespace; kubectl ignores -n for them too.
    ...(namespace !== undefined && info.namespaced ? { namespace } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
  });
  if (name !== undefined && res.items.length === 0) {
    // Which ones there are, or the one meant: a typo should not need a second command to see.
    const all = await client.resources({ kind: info.kind });
    const names = all.items.map((i) => i.name);
    throw new CliError(
      `${qualifiedPlural(info)} ${JSON.stringify(name)} not found${where(p)}${suggestName(name, names, info.plural)}`,
    );
  }
  return res;
}

/** `KIND NAME`, `KIND/NAME`; NAME optional for get. */
function kindAndName(
  p: Parsed,
  command: string,
  nameRequired: boolean,
): { info: KindInfo; name: string | undefined } {
  const [first, second] = p.positionals;
  if (first === undefined) {
    throw new UsageError(
      `lanes ${command} needs a KIND${nameRequired ? ' and a NAME' : ''}; known types: ${knownKindsList()}`,
    );
  }
  const slash = first.indexOf('/');
  if (slash >= 0) {
    const name = first.slice(slash + 1);
    if (slash === 0 || name === '' || name.includes('/')) {
      throw new UsageError(`expected KIND/NAME, got ${JSON.stringify(first)}`);
    }
    if (second !== undefined) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(second)} after KIND/NAME; see \`lanes ${command} --help\``,
      );
    }
    return { info: kindArg(first.slice(0, slash)), name };
  }
  const info = kindArg(first);
  if (second === undefined && nameRequired) {
    throw new UsageError(`lanes ${command} ${first} needs a NAME`);
  }
  if (second?.includes('/')) {
    throw new UsageError(
      `expected a NAME, got ${JSON.stringify(second)}; use -n NAMESPACE for the namespace`,
    );
  }
  return { info, name: second };
}

/** Breaks a long comma-separated list into indented lines for the help text. */
function wrap(text: string, width: number, prefix: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines.join('\n');
}

function where(p: Parsed): string {
  const namespace = stringFlag(p, 'namespace');
  const cluster = stringFlag(p, 'cluster');
  const parts = [
    ...(namespace ? [`namespace ${JSON.stringify(namespace)}`] : []),
    ...(cluster ? [`cluster ${JSON.stringify(cluster)}`] : []),
  ];
  return parts.length > 0 ? ` in ${parts.join(', ')}` : '';
}
