/** `lanes explain`: where a request would go, hop by hop, and why. */
import type { ExplainRequest } from '../../../controlplane/local/protocol.ts';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  type CommandSpec,
  intFlag,
  listFlag,
  maxPositionals,
  namespacedName,
  OUTPUT_OPTION,
  outputFlag,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { connect } from '../client.ts';
import { type CommandContext, UsageError } from '../io.ts';
import { renderData, renderExplain } from '../render.ts';

export const explainSpec: CommandSpec = {
  name: 'explain',
  help: `Show where a request would go, hop by hop, and why: which rule matched, which lane was
chosen, which fallbacks were tried. Nothing is sent to any workload.

Where a proxy would choose at random (a weighted route, weighted entry rules), every branch is
listed with its share of the requests, and the walk follows the largest, or --branch NAME.

Usage: lanes explain --gateway NAMESPACE/NAME [--port P] [-H 'name: value']... [--branch NAME]
             [--override PAIRS] [PATH]
       lanes explain --from WORKLOAD --to SERVICE[:PORT] [-H 'name: value']... [--branch NAME]
             [--override PAIRS] [PATH]

Flags:
      --gateway NS/NAME     start at this Istio Gateway
      --port P              the gateway server's port (optional when it has one)
      --from WORKLOAD       start at this Deployment's sidecar (NAME or NAMESPACE/NAME)
      --to SERVICE[:PORT]   the service the workload calls (name, name.ns or a full host)
  -H, --header 'k: v'       a request header; repeatable
  -X, --method METHOD       the request method (default GET)
      --branch NAME         at a weighted choice, follow the lane, subset or service NAME
      --override PAIRS      the request carries this override, signed by the mesh
                            (SERVICE=LANE, comma-separated; see lanes override --help)
  -o, --output FORMAT       table (default), json or yaml
      --state DIR           state directory (default $LANES_HOME, else ./.lanes)

PATH defaults to /.

Examples:
  lanes explain --gateway istio-system/ingressgateway-dev -H 'alice-dev: true' /
  lanes explain --from mocka-v1 --to mockb:8000 -H 'baggage: version=v2'
  lanes explain --gateway istio-system/ingressgateway --branch v2
  lanes explain --gateway istio-system/ingressgateway --override default/mockb=dev-bob
`,
  options: {
    gateway: { type: 'string' },
    port: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
    method: { type: 'string', short: 'X' },
    branch: { type: 'string' },
    override: { type: 'string' },
    ...OUTPUT_OPTION,
  },
};

export async function explain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(explainSpec, ctx);
  if (!p) return 0;
  const format = outputFlag(p);
  maxPositionals(explainSpec, p, 1, 'one PATH');
  const req = explainRequest({
    gateway: stringFlag(p, 'gateway'),
    port: intFlag(p, 'port', 1, 65535),
    from: stringFlag(p, 'from'),
    to: stringFlag(p, 'to'),
    headers: listFlag(p, 'header'),
    method: stringFlag(p, 'method'),
    path: p.positionals[0],
    branch: stringFlag(p, 'branch'),
    override: stringFlag(p, 'override'),
  });
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const res = await client.explain(req);
  ctx.io.stdout.write(format === 'table' ? renderExplain(res) : renderData(format, res));
  return 0;
}

export interface ExplainFlags {
  readonly gateway?: string | undefined;
  readonly port?: number | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** `-H` arguments as typed. */
  readonly headers?: readonly string[];
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly branch?: string | undefined;
  /** `SERVICE=LANE` pairs the request carries as a signed override. */
  readonly override?: string | undefined;
}

/** The request for the flags, or a usage error saying which combination is wrong. */
export function explainRequest(flags: ExplainFlags): ExplainRequest {
  const { gateway, port, from, to, method, path, branch, override } = flags;
  const start = (() => {
    if (gateway !== undefined && from !== undefined) {
      throw new UsageError('lanes explain starts at --gateway or at --from, not both');
    }
    if (gateway !== undefined) {
      if (to !== undefined) {
        throw new UsageError('--to goes with --from; a gateway request goes where its routes say');
      }
      return {
        gateway: namespacedName(gateway, '--gateway'),
        ...(port !== undefined ? { port } : {}),
      };
    }
    if (from !== undefined) {
      if (to === undefined || to === '') {
        throw new UsageError('--from needs --to SERVICE[:PORT]: the service the workload calls');
      }
      if (port !== undefined)
        throw new UsageError('--port goes with --gateway; give --to SERVICE:PORT');
      return { from: namespacedName(from, '--from'), to };
    }
    throw new UsageError(
      'lanes explain needs --gateway NAMESPACE/NAME or --from WORKLOAD --to SERVICE; see `lanes explain --help`',
    );
  })();
  if (path !== undefined && !path.startsWith('/')) {
    throw new UsageError(`PATH must start with /, got ${JSON.stringify(path)}`);
  }
  if (method !== undefined && !/^[A-Za-z]+$/.test(method)) {
    throw new UsageError(
      `-X needs an HTTP method such as GET or POST, got ${JSON.stringify(method)}`,
    );
  }
  if (branch === '') throw new UsageError('--branch needs a lane, subset or service name');
  const headers = parseHeaders(flags.headers ?? []);
  return {
    ...start,
    ...(method !== undefined ? { method: method.toUpperCase() } : {}),
    path: path ?? '/',
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(branch !== undefined ? { branch } : {}),
    ...(override !== undefined ? { override } : {}),
  };
}

/** `-H 'name: value'` → lowercase names; repeated names joined with `, ` as HTTP folds them. */
export function parseHeaders(args: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const arg of args) {
    const colon = arg.indexOf(':');
    const name = colon < 0 ? '' : arg.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new UsageError(`-H needs 'name: value', got ${JSON.stringify(arg)}`);
    }
    const value = arg.slice(colon + 1).trim();
    const previous = Object.hasOwn(headers, name) ? headers[name] : undefined;
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return headers;
}
