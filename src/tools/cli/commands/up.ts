/** `lanes up` and `lanes down`: thin wrappers over `src/tools/cli/launch.ts`. */
import { resolve } from 'node:path';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import { boolFlag, type CommandSpec, listFlag, maxPositionals, parseCommand } from '../args.ts';
import { type CommandContext, UsageError } from '../io.ts';
import type { LaunchModule } from '../launch-types.ts';
import { report } from '../report.ts';
import { apply as applyCommand } from './apply.ts';

export const upSpec: CommandSpec = {
  name: 'up',
  help: `Start the local mesh daemon: control plane, gateways, sidecars and workloads.

Usage: lanes up [--detach] [--apply FILE]... [--quiet]

Flags:
  -d, --detach       run in the background; return once the daemon is ready
      --apply FILE   apply FILE (a file or a directory) once the daemon is ready; repeatable
  -q, --quiet        print only errors
      --state DIR    state directory (default $LANES_HOME, else ./.lanes)
`,
  options: {
    detach: { type: 'boolean', short: 'd' },
    apply: { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
  },
};

export const downSpec: CommandSpec = {
  name: 'down',
  help: `Stop the local mesh daemon and every workload it runs.

Usage: lanes down

Flags:
      --state DIR    state directory (default $LANES_HOME, else ./.lanes)
`,
  options: {},
};

export async function up(ctx: CommandContext): Promise<number> {
  const p = parseCommand(upSpec, ctx);
  if (!p) return 0;
  maxPositionals(upSpec, p, 0, 'no arguments; files to apply go with --apply');
  const stateDir = resolveStateDir(p.state, ctx.io.env, ctx.io.cwd);
  const files = listFlag(p, 'apply');
  if (files.includes('-')) {
    throw new UsageError(
      'lanes up cannot apply stdin (a detached daemon does not read it); run `lanes apply -f -` once it is up',
    );
  }
  // Absolute, because a detached daemon does not share our working directory.
  const apply = files.map((f) => resolve(ctx.io.cwd, f));
  const quiet = boolFlag(p, 'quiet');
  const launch = await loadLaunch(ctx);
  return launch.up({
    stateDir,
    detach: boolFlag(p, 'detach'),
    quiet,
    ...(apply.length > 0 ? { afterReady: () => applyFiles(ctx, stateDir, apply, quiet) } : {}),
  });
}

export async function down(ctx: CommandContext): Promise<number> {
  const p = parseCommand(downSpec, ctx);
  if (!p) return 0;
  maxPositionals(downSpec, p, 0, 'no arguments');
  const stateDir = resolveStateDir(p.state, ctx.io.env, ctx.io.cwd);
  const launch = await loadLaunch(ctx);
  return launch.down({ stateDir });
}

async function loadLaunch(ctx: CommandContext): Promise<LaunchModule> {
  if (ctx.io.loadLaunch) return ctx.io.loadLaunch();
  return import('../launch.ts');
}

/** `--apply` files go through `lanes apply` itself: same output, same errors. */
async function applyFiles(
  ctx: CommandContext,
  stateDir: string,
  files: readonly string[],
  quiet: boolean,
): Promise<number> {
  const io = quiet ? { ...ctx.io, stdout: { write: () => true } } : ctx.io;
  try {
    return await applyCommand({
      io,
      args: ['--state', stateDir, ...files.flatMap((f) => ['-f', f])],
      globalState: undefined,
    });
  } catch (error) {
    return report(error, io);
  }
}
