/** `lanes status`: gateways with their URLs, workloads, lanes. */

import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  type CommandSpec,
  maxPositionals,
  OUTPUT_OPTION,
  outputFlag,
  parseCommand,
} from '../args.ts';
import { connect } from '../client.ts';
import type { CommandContext } from '../io.ts';
import { renderData, renderStatus } from '../render.ts';

export const statusSpec: CommandSpec = {
  name: 'status',
  help: `Show the local mesh: gateways with the URLs they listen on, workloads with ready instances
and restarts, and lanes with their group, services and status.

Usage: lanes status [-o table|json|yaml]

Flags:
  -o, --output FORMAT    table (default), json or yaml
      --state DIR        state directory (default $LANES_HOME, else ./.lanes)
`,
  options: { ...OUTPUT_OPTION },
};

export async function status(ctx: CommandContext): Promise<number> {
  const p = parseCommand(statusSpec, ctx);
  if (!p) return 0;
  const format = outputFlag(p);
  maxPositionals(statusSpec, p, 0, 'no arguments');
  const stateDir = resolveStateDir(p.state, ctx.io.env, ctx.io.cwd);
  const client = connect(stateDir);
  const res = await client.status();
  ctx.io.stdout.write(
    format === 'table'
      ? renderStatus(res, { stateDir, info: client.daemon })
      : renderData(format, res),
  );
  return 0;
}
