/**
 * `lanes override sign PAIRS… [--ttl D]`: a per-request override signed by the mesh, printed as
 * the header line for `curl -H`; `lanes override rotate-key`: a new key, so every override
 * signed so far stops working.
 */
import { resolveStateDir } from '../../../controlplane/local/state/state-dir.ts';
import {
  type CommandSpec,
  maxPositionals,
  OUTPUT_OPTION,
  outputFlag,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { connect } from '../client.ts';
import { type CommandContext, UsageError } from '../io.ts';
import { renderData } from '../render.ts';

export const overrideSpec: CommandSpec = {
  name: 'override',
  help: `Per-request overrides: "for service S use lane L", for one request and everything it causes.

Usage: lanes override sign SERVICE=LANE... [--ttl DURATION] [-o table|json|yaml]
       lanes override rotate-key

sign prints the header line to send, signed by the mesh: only signed, unexpired overrides are
followed (a gateway annotated lanes.dev/trust-client-lane: "true" also takes unsigned ones). SERVICE
is NAMESPACE/NAME or NAME (namespace default); LANE a lane of the service's group. Several pairs go
in one override: as several arguments, or comma-separated.

rotate-key replaces the mesh's override key: every override signed so far stops being followed.

Flags:
      --ttl DURATION     how long the override is followed (default 1h, at most 24h)
  -o, --output FORMAT    table (default: the header line alone), json or yaml
      --state DIR        state directory (default $LANES_HOME, else ./.lanes)

Examples:
  curl -H "$(lanes override sign default/mockb=dev-bob --ttl 1h)" http://127.0.0.1:8080/
  lanes override sign mockb=dev-bob mockc=v2 -o json
  lanes explain --gateway istio-system/ingressgateway --override default/mockb=dev-bob
`,
  options: { ttl: { type: 'string' }, ...OUTPUT_OPTION },
};

export async function override(ctx: CommandContext): Promise<number> {
  const p = parseCommand(overrideSpec, ctx);
  if (!p) return 0;
  const [action, ...rest] = p.positionals;
  const format = outputFlag(p);
  switch (action) {
    case 'sign': {
      if (rest.length === 0)
        throw new UsageError(
          'lanes override sign needs SERVICE=LANE pairs, e.g. default/mockb=dev-bob',
        );
      const ttl = stringFlag(p, 'ttl');
      const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
      const res = await client.signOverride({
        pairs: rest.join(','),
        ...(ttl !== undefined ? { ttl } : {}),
      });
      if (format !== 'table') {
        ctx.io.stdout.write(renderData(format, res));
        return 0;
      }
      for (const w of res.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
      // Only the header on stdout, so `curl -H "$(lanes override sign …)"` works.
      ctx.io.stdout.write(`${res.header}: ${res.value}\n`);
      return 0;
    }
    case 'rotate-key': {
      maxPositionals(overrideSpec, p, 1, 'no arguments after rotate-key');
      if (stringFlag(p, 'ttl') !== undefined) throw new UsageError('--ttl goes with sign');
      const client = connect(resolveStateDir(p.state, ctx.io.env, ctx.io.cwd));
      const res = await client.rotateOverrideKey();
      ctx.io.stdout.write(
        format === 'table'
          ? `override key rotated: new key ${res.kid}; overrides signed before are no longer followed\n`
          : renderData(format, res),
      );
      return 0;
    }
    case undefined:
      throw new UsageError('lanes override needs sign or rotate-key; see `lanes override --help`');
    default:
      throw new UsageError(
        `unknown action ${JSON.stringify(action)} for lanes override; use sign or rotate-key`,
      );
  }
}
