/** `lanes apply -f PATH…` and `lanes delete`. */
import { parseGoDurationNs } from '../../../config/schema/duration.ts';
import type { DeleteTarget } from '../../../controlplane/local/protocol.ts';
import { notReadyLine, READY_WAIT_MS } from '../../../controlplane/local/readiness.ts';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  boolFlag,
  type CommandSpec,
  listFlag,
  maxPositionals,
  type Parsed,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { type Client, connect } from '../client.ts';
import { type CommandContext, UsageError } from '../io.ts';
import { type KindInfo, qualifiedName, resolveKind, unknownKindMessage } from '../kinds.ts';
import { renderIssueNotes, resourceRef } from '../render.ts';
import { readPaths } from './sources.ts';

export const applySpec: CommandSpec = {
  name: 'apply',
  help: `Create or update resources. All or nothing: when any document has an error, nothing is
applied and every error is printed, one per line, as file:line:col.

Once applied, it waits (--wait, default 20s) for the instances the change started to accept
connections, and says which are not ready and why: how they exited, or that they run but do not
listen on their $PORT, and the last line they wrote. They are warnings: the change is applied,
the instances keep starting, and the exit code is 0.

Usage: lanes apply -f PATH... [--cluster CLUSTER] [--wait DURATION] [-v]

Flags:
  -f, --filename PATH   a file, a directory (its .yaml, .yml and .json files, recursively) or -
                        for stdin; repeatable
      --cluster NAME    cluster for Deployments, Services and Gateways (default: default)
      --wait DURATION   how long to wait for new instances to be ready: 20s (default), 1m, 0 (not)
  -v, --verbose         every note on its own line (repeated notes are otherwise summarised)
      --state DIR       state directory (default $LANES_HOME, else ./.lanes)

Examples:
  lanes apply -f gateways.yaml -f mock.yaml
  lanes apply --cluster dev -f dev/
  cat lanes.yaml | lanes apply -f -
`,
  options: {
    filename: { type: 'string', short: 'f', multiple: true },
    cluster: { type: 'string' },
    wait: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  },
};

export const deleteSpec: CommandSpec = {
  name: 'delete',
  help: `Delete resources: those the files define, or the named ones.

A Release that promoted its lane is not deleted unless forced: deleting it would hand its
services back to the lane they left (whose workloads its cleanup may have deleted). The refusal
says what to apply first so that the lane stays their baseline without the release.

Usage: lanes delete -f PATH... [--cluster CLUSTER] [--force]
       lanes delete KIND NAME... [-n NAMESPACE] [--cluster CLUSTER] [--force]
       lanes delete KIND/NAME... [-n NAMESPACE] [--cluster CLUSTER] [--force]

Flags:
  -f, --filename PATH    a file, a directory or - for stdin; repeatable
  -n, --namespace NS     namespace of the named resources (default: default)
      --cluster NAME     cluster of Deployments, Services and Gateways (default: default)
      --force            delete a promoted Release anyway: its services go back to their old baseline
      --state DIR        state directory (default $LANES_HOME, else ./.lanes)

Examples:
  lanes delete deployment mocka-v1 mockc-v1
  lanes delete asmswimlane/v1 vs/swimlane-ingress-vs -n istio-system
  lanes delete -f swimlane-v3.yaml
`,
  options: {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    cluster: { type: 'string' },
    force: { type: 'boolean' },
  },
};

export async function apply(ctx: CommandContext): Promise<number> {
  const p = parseCommand(applySpec, ctx);
  if (!p) return 0;
  maxPositionals(applySpec, p, 0, 'its files with -f');
  const paths = listFlag(p, 'filename');
  if (paths.length === 0) {
    throw new UsageError(
      'lanes apply needs -f PATH (a file, a directory, or - for stdin); see `lanes apply --help`',
    );
  }
  checkStdinOnce(paths);
  const cluster = clusterFlag(p);
  const waitMs = waitFlag(p);
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const sources = await readPaths(paths, ctx.io);
  const res = await client.apply({ ...(cluster !== undefined ? { cluster } : {}), sources });
  for (const r of res.results) ctx.io.stdout.write(`${resourceRef(r.resource)} ${r.action}\n`);
  for (const line of renderIssueNotes(res.issues, boolFlag(p, 'verbose')))
    ctx.io.stderr.write(`${line}\n`);
  printNotes(ctx, res.notes);
  if (res.started.length > 0 && waitMs > 0) await reportReadiness(ctx, client, res.started, waitMs);
  return 0;
}

/** The first second is waited quietly: most instances are ready by then. */
const QUIET_WAIT_MS = 1000;

/**
 * Waits for the instances the apply started, saying how long before a wait anyone would
 * notice, then a `warning:` line for each that is not ready. Never fails the apply.
 */
async function reportReadiness(
  ctx: CommandContext,
  client: Client,
  started: readonly string[],
  waitMs: number,
): Promise<void> {
  let { instances } = await client.ready({
    instances: started,
    timeoutMs: Math.min(QUIET_WAIT_MS, waitMs),
  });
  const starting = instances.filter((i) => i.state === 'starting');
  if (starting.length > 0 && waitMs > QUIET_WAIT_MS) {
    ctx.io.stderr.write(
      `waiting up to ${formatSeconds(waitMs)} for ${starting.map((i) => `${i.workload} instance ${i.index}`).join(', ')} to accept connections (--wait)\n`,
    );
    const rest = await client.ready({
      instances: starting.map((i) => i.key),
      timeoutMs: waitMs - QUIET_WAIT_MS,
    });
    const later = new Map(rest.instances.map((i) => [i.key, i]));
    instances = instances.map((i) => later.get(i.key) ?? i);
  }
  for (const i of instances) {
    if (i.state === 'crashed' || i.state === 'starting')
      ctx.io.stderr.write(`warning: ${notReadyLine(i)}\n`);
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** `--wait DURATION` (Go syntax: 20s, 1m30s, 0) in ms; the default when absent. */
function waitFlag(p: Parsed): number {
  const text = stringFlag(p, 'wait');
  if (text === undefined) return READY_WAIT_MS;
  const ns = parseGoDurationNs(text);
  if (ns === undefined || ns < 0n)
    throw new UsageError(
      `--wait needs a duration such as 20s, 1m or 0, got ${JSON.stringify(text)}`,
    );
  return Number(ns / 1_000_000n);
}

/** Notes on stderr, each marked: `warning:` for something the change broke, else `note:`. */
function printNotes(ctx: CommandContext, notes: readonly string[]): void {
  for (const note of notes)
    ctx.io.stderr.write(note.startsWith('warning: ') ? `${note}\n` : `note: ${note}\n`);
}

export async function remove(ctx: CommandContext): Promise<number> {
  const p = parseCommand(deleteSpec, ctx);
  if (!p) return 0;
  const paths = listFlag(p, 'filename');
  const namespace = stringFlag(p, 'namespace');
  const cluster = clusterFlag(p);
  if (namespace === '') throw new UsageError('-n needs a namespace');
  let targets: DeleteTarget[] | undefined;
  if (paths.length > 0) {
    if (p.positionals.length > 0) {
      throw new UsageError(
        'lanes delete takes either -f PATH or KIND NAME, not both; see `lanes delete --help`',
      );
    }
    if (namespace !== undefined) {
      throw new UsageError('-n goes with KIND NAME; with -f, the documents name their namespaces');
    }
    checkStdinOnce(paths);
  } else {
    targets = deleteTargets(p, namespace);
  }
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const res = await client.delete({
    ...(cluster !== undefined ? { cluster } : {}),
    ...(boolFlag(p, 'force') ? { force: true } : {}),
    ...(targets ? { targets } : { sources: await readPaths(paths, ctx.io) }),
  });
  for (const r of res.results) ctx.io.stdout.write(`${resourceRef(r.resource)} ${r.action}\n`);
  printNotes(ctx, res.notes);
  return 0;
}

/** `KIND NAME…` or `KIND/NAME…`, grouped by kind in the order given. */
function deleteTargets(p: Parsed, namespace: string | undefined): DeleteTarget[] {
  const [first, ...rest] = p.positionals;
  if (first === undefined) {
    throw new UsageError(
      'lanes delete needs -f PATH, KIND NAME... or KIND/NAME...; see `lanes delete --help`',
    );
  }
  const byKind = new Map<KindInfo, string[]>();
  const add = (info: KindInfo, name: string): void => {
    const names = byKind.get(info) ?? [];
    if (!names.includes(name)) names.push(name);
    byKind.set(info, names);
  };
  if (first.includes('/')) {
    for (const arg of p.positionals) {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1 || arg.indexOf('/', slash + 1) >= 0) {
        throw new UsageError(
          `expected KIND/NAME, got ${JSON.stringify(arg)}; with KIND/NAME every argument has that form`,
        );
      }
      add(kindArg(arg.slice(0, slash)), arg.slice(slash + 1));
    }
  } else {
    const info = kindArg(first);
    if (rest.length === 0) {
      throw new UsageError(
        `lanes delete ${first} needs at least one NAME (deleting every ${qualifiedName(info)} is not supported)`,
      );
    }
    for (const name of rest) {
      if (name.includes('/')) {
        throw new UsageError(
          `expected a NAME, got ${JSON.stringify(name)}; use -n NAMESPACE for the namespace`,
        );
      }
      add(info, name);
    }
  }
  return [...byKind].map(([info, names]) => ({
    kind: info.kind,
    names,
    // Like kubectl: `default` unless -n says otherwise, so a same-named resource in another
    // namespace is never the one deleted. Cluster-scoped kinds have no namespace.
    ...(info.namespaced && { namespace: namespace ?? 'default' }),
  }));
}

function checkStdinOnce(paths: readonly string[]): void {
  if (paths.filter((path) => path === '-').length > 1) {
    throw new UsageError('-f - (stdin) can be given only once');
  }
}

export function kindArg(text: string): KindInfo {
  const info = resolveKind(text);
  if (!info) throw new UsageError(unknownKindMessage(text));
  return info;
}

export function clusterFlag(p: Parsed): string | undefined {
  const cluster = stringFlag(p, 'cluster');
  if (cluster === '') throw new UsageError('--cluster needs a cluster name');
  return cluster;
}
