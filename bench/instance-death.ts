/**
 * `npm run bench:instance-death`: a lane's only instance killed under load (issue 8 §2). Every
 * request enters lane v2; 4 clients call the gateway in loops while mockc-v2, the only instance
 * of mockc in lane v2, is killed with SIGKILL 5 times, each time once it is back and serving.
 * Prints how many requests stayed in the lane, fell back to the baseline, or failed (and with
 * what). `-- --clients N --kills N` changes the load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { teardown } from '../test/support/cli.ts';
import { instanceDeathUnderLoad } from '../test/support/instance-death.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '4' },
    kills: { type: 'string', default: '5' },
    verbose: { type: 'boolean', short: 'v', default: false },
  },
});

const state = mkdtempSync(join(tmpdir(), 'lanes-bench-death-'));
try {
  const r = await instanceDeathUnderLoad({
    state,
    clients: Number(values.clients),
    kills: Number(values.kills),
    ...(values.verbose ? { log: (line: string) => console.log(line) } : {}),
  });
  console.log(
    `${r.kills} kills of mockc-v2 under ${values.clients} clients in ${r.seconds.toFixed(1)} s: ${r.requests} requests, ${r.inLane} in lane v2, ${r.fellBack} fell back to mockc v1, ${r.failed} failed`,
  );
  for (const [what, n] of Object.entries(r.failures)) console.log(`  ${n} × ${what}`);
  process.exitCode = r.failed === 0 ? 0 : 1;
} finally {
  await teardown(state, process.cwd());
  rmSync(state, { recursive: true, force: true });
}
