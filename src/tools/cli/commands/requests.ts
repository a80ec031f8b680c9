/** `lanes requests [-f]`: recent requests through the mesh, hop by hop, from the access log. */
import type { RecentRequest } from '../../../controlplane/local/protocol.ts';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  boolFlag,
  type CommandSpec,
  intFlag,
  maxPositionals,
  OUTPUT_OPTION,
  outputFlag,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { connect } from '../client.ts';
import { type CommandContext, UsageError, writeAndDrain } from '../io.ts';
import { renderData, renderRequest } from '../render.ts';

export const requestsSpec: CommandSpec = {
  name: 'requests',
  help: `Show recent requests through the mesh, hop by hop: each gateway and sidecar a request
passed, the service and lane chosen there (and the fallbacks taken), the instance, the status,
how long it took, retries and mesh errors. Hops are joined by trace id (traceparent, else B3,
else x-request-id; a gateway starts a traceparent for a request that has none), so a request is
followed as far as its apps forward that header.

Usage: lanes requests [-f] [--limit N] [--trace ID] [-o table|json|yaml]

Flags:
  -f, --follow          print each new request once it is complete, until Ctrl-C
      --limit N         how many of the latest requests (default 20, at most 1000)
      --trace ID        only the request with this trace id
  -o, --output FORMAT   table (default), json or yaml (with -f: table or json, one per line)
      --state DIR       state directory (default $LANES_HOME, else ./.lanes)

The whole record is the access log, <state>/access.log: one JSON line per hop.
`,
  options: {
    follow: { type: 'boolean', short: 'f' },
    limit: { type: 'string' },
    trace: { type: 'string' },
    ...OUTPUT_OPTION,
  },
};

export async function requests(ctx: CommandContext): Promise<number> {
  const p = parseCommand(requestsSpec, ctx);
  if (!p) return 0;
  maxPositionals(requestsSpec, p, 0, 'no arguments');
  const format = outputFlag(p);
  const limit = intFlag(p, 'limit', 1, 1000);
  const trace = stringFlag(p, 'trace');
  if (trace === '') throw new UsageError('--trace needs a trace id');
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  if (!boolFlag(p, 'follow')) {
    const res = await client.requests({
      ...(limit !== undefined ? { limit } : {}),
      ...(trace !== undefined ? { trace } : {}),
    });
    if (format !== 'table') ctx.io.stdout.write(renderData(format, res));
    else if (res.requests.length === 0)
      ctx.io.stderr.write(
        trace === undefined
          ? 'No requests yet: send one through a gateway (lanes status lists them).\n'
          : `No request with trace id ${trace} among the recent ones the daemon keeps; \`lanes requests\` shows each request's trace id.\n`,
      );
    else ctx.io.stdout.write(res.requests.map(renderRequest).join('\n'));
    return 0;
  }
  if (format === 'yaml') throw new UsageError('-f prints table or json (one request per line)');
  const signal = ctx.io.signal;
  const stream = await client.followRequests(trace, signal);
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === '') continue;
        const text =
          format === 'json' ? `${line}\n` : `${renderRequest(JSON.parse(line) as RecentRequest)}\n`;

        await writeAndDrain(ctx.io.stdout, text);
      }
    }
  } catch (error) {
    // Ctrl-C ended the follow: that is how following is meant to end.
    if (signal?.aborted) return 0;
    throw error;
  }
  return 0;
}
