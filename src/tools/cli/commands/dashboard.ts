/** `lanes dashboard [--open]`: a one-time URL for the live dashboard the daemon serves. */
import { spawn } from 'node:child_process';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import { boolFlag, type CommandSpec, maxPositionals, parseCommand } from '../args.ts';
import { connect } from '../client.ts';
import type { CommandContext } from '../io.ts';

export const dashboardSpec: CommandSpec = {
  name: 'dashboard',
  help: `Print the URL of the live dashboard the daemon serves: the lane map (services × lanes and
where each pair's traffic goes), workloads, gateways, and resources with their conditions.

Usage: lanes dashboard [--open]

The URL holds a one-time code: open it within a minute, in a browser on this machine. The
browser trades it for a session cookie; the API token never leaves the state directory.

Flags:
      --open         also open it in the default browser (xdg-open, open or start)
      --state DIR    state directory (default $LANES_HOME, else ./.lanes)
`,
  options: { open: { type: 'boolean' } },
};

/** The platform's "open this URL" command. */
function opener(platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', []];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""']];
  return ['xdg-open', []];
}

export async function dashboard(ctx: CommandContext): Promise<number> {
  const p = parseCommand(dashboardSpec, ctx);
  if (!p) return 0;
  maxPositionals(dashboardSpec, p, 0, 'no arguments');
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  const { url } = await client.dashboardLogin();
  ctx.io.stdout.write(`${url}\n`);
  if (boolFlag(p, 'open')) {
    const [command, args] = opener(process.platform);
    await new Promise<void>((resolve) => {
      const child = spawn(command, [...args, url], { stdio: 'ignore', detached: true });
      child.on('error', (error) => {
        ctx.io.stderr.write(
          `lanes: could not open a browser (${command}: ${error.message}); open the URL above yourself\n`,
        );
        resolve();
      });
      child.on('spawn', () => {
        child.unref();
        resolve();
      });
    });
  }
  return 0;
}
