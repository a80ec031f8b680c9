/** `lanes logs WORKLOAD [-f]`: one instance's output, streamed when following. */

import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  boolFlag,
  type CommandSpec,
  intFlag,
  maxPositionals,
  namespacedName,
  parseCommand,
} from '../args.ts';
import { connect } from '../client.ts';
import { type CommandContext, UsageError, writeAndDrain } from '../io.ts';
import { clusterFlag } from './apply.ts';

export const logsSpec: CommandSpec = {
  name: 'logs',
  help: `Print the log of one instance of a workload (a Deployment): its app's output.

Usage: lanes logs WORKLOAD [-f] [--cluster CLUSTER] [--instance N]

WORKLOAD is NAME (namespace default) or NAMESPACE/NAME. Without --instance and --cluster, the
log is that of the first instance the daemon finds in any cluster (normally instance 0).

Flags:
  -f, --follow          keep printing new output until Ctrl-C
      --cluster NAME    the workload's cluster (default: any cluster)
      --instance N      instance N (0, 1, ...; default: the first found, normally 0)
      --state DIR       state directory (default $LANES_HOME, else ./.lanes)
`,
  options: {
    follow: { type: 'boolean', short: 'f' },
    cluster: { type: 'string' },
    instance: { type: 'string' },
  },
};

export async function logs(ctx: CommandContext): Promise<number> {
  const p = parseCommand(logsSpec, ctx);
  if (!p) return 0;
  maxPositionals(logsSpec, p, 1, 'one WORKLOAD');
  const [workload] = p.positionals;
  if (workload === undefined) {
    throw new UsageError('lanes logs needs a WORKLOAD (NAME or NAMESPACE/NAME of a Deployment)');
  }
  const name = namespacedName(workload, 'WORKLOAD');
  const instance = intFlag(p, 'instance', 0, 9999);
  const cluster = clusterFlag(p);
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const signal = ctx.io.signal;
  const stream = await client.logs(
    {
      workload: name,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(instance !== undefined ? { instance } : {}),
      follow: boolFlag(p, 'follow'),
    },
    signal,
  );
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      await writeAndDrain(ctx.io.stdout, decoder.decode(chunk, { stream: true }));
    }
    await writeAndDrain(ctx.io.stdout, decoder.decode());
  } catch (error) {
    // Ctrl-C (or the caller) ended a follow: that is how following is meant to end.
    if (signal?.aborted) return 0;
    throw error;
  }
  return 0;
}
