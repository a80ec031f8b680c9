/**
 * `lanes release`: watch and steer gray releases (the `Release` kind).
 *
 *   lanes release status [NAME] [-w] [-o json|yaml]   where each release is, each metric against its threshold
 *   lanes release approve|pause|resume|promote|abort NAME
 */
import type { ReleaseCommandName } from '../../../controlplane/local/protocol.ts';
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import { ACTIVE_PHASES } from '../../../controlplane/release/machine.ts';
import {
  boolFlag,
  type CommandSpec,
  maxPositionals,
  OUTPUT_OPTION,
  outputFlag,
  parseCommand,
} from '../args.ts';
import { connect } from '../client.ts';
import { type CommandContext, UsageError, writeAndDrain } from '../io.ts';
import { renderData, renderRelease, renderReleaseTable } from '../render.ts';

const COMMANDS: Readonly<Record<ReleaseCommandName, string>> = {
  approve: 'open the verification gate, or promote after the last step when promote is manual',
  pause: 'stop the step clock (analysis goes on and can still roll back)',
  resume: 'go on after a pause',
  promote: 'skip the steps left: make the lane the baseline of its services now',
  abort: 'roll back now: weight 0, requests in flight finish',
};

export const releaseSpec: CommandSpec = {
  name: 'release',
  help: `Watch and steer gray releases (kind Release).

Usage: lanes release status [NAME] [-w] [-o table|json|yaml]
       lanes release COMMAND NAME [-o table|json|yaml]

status shows the phase, the step and weight, the last analysis with each metric against its
threshold, and the history; -w redraws it every second until the release is over (or Ctrl-C).

Commands:
${Object.entries(COMMANDS)
  .map(([c, what]) => `  ${c.padEnd(9)} ${what}`)
  .join('\n')}

Flags:
  -w, --watch            keep watching (status only)
  -o, --output FORMAT    table (default), json or yaml
      --state DIR        state directory (default $LANES_HOME, else ./.lanes)
`,
  options: { watch: { type: 'boolean', short: 'w' }, ...OUTPUT_OPTION },
};

const WATCH_MS = 1000;

export async function release(ctx: CommandContext): Promise<number> {
  const p = parseCommand(releaseSpec, ctx);
  if (!p) return 0;
  const format = outputFlag(p);
  const [sub, name] = p.positionals;
  if (sub === undefined)
    throw new UsageError(
      `lanes release needs a command: status, ${Object.keys(COMMANDS).join(', ')}`,
    );
  const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
  if (sub === 'status') {
    maxPositionals(releaseSpec, p, 2, 'status [NAME]');
    const watch = boolFlag(p, 'watch');
    if (watch && name === undefined) throw new UsageError('lanes release status -w needs a NAME');
    for (;;) {
      const res = await client.releases(name);
      if (format !== 'table') {
        await writeAndDrain(
          ctx.io.stdout,
          renderData(format, name === undefined ? res : res.items[0]),
        );
      } else if (name === undefined) {
        if (res.items.length === 0) ctx.io.stderr.write('No releases found.\n');
        else await writeAndDrain(ctx.io.stdout, renderReleaseTable(res.items));
      } else {
        await writeAndDrain(ctx.io.stdout, renderRelease(res.items[0]!, Date.now()));
      }
      const phase = res.items[0]?.phase;
      if (!watch || phase === undefined || !ACTIVE_PHASES.has(phase) || ctx.io.signal?.aborted)
        return 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, WATCH_MS);
        ctx.io.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (ctx.io.signal?.aborted) return 0;
      if (format === 'table') ctx.io.stdout.write('\n');
    }
  }
  if (!Object.hasOwn(COMMANDS, sub))
    throw new UsageError(
      `unknown release command ${JSON.stringify(sub)}; commands: status, ${Object.keys(COMMANDS).join(', ')}`,
    );
  if (name === undefined) throw new UsageError(`lanes release ${sub} needs a release NAME`);
  maxPositionals(releaseSpec, p, 2, `${sub} NAME`);
  if (boolFlag(p, 'watch')) throw new UsageError('-w goes with lanes release status');
  const view = await client.releaseCommand(name, sub as ReleaseCommandName);
  ctx.io.stdout.write(
    format === 'table'
      ? `release ${name}: ${view.history.at(-1)?.message ?? view.phase}\n`
      : renderData(format, view),
  );
  return 0;
}
