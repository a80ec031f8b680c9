/**
 * A lane's only instance dies under load: every request enters lane v2 (examples/story at step 5,
 * with the 100 % route), clients call the gateway in loops, and mockc-v2 — the only instance of
 * mockc in lane v2 — is killed with SIGKILL several times, each time once it is back and serving. What
 * a client may see: the chain in lane v2 (`mocka v2 → mockb v1 → mockc v2`) or, while mockc-v2
 * is down, its fallback to the baseline (`… → mockc v1`). Anything else is a failed request.
 *
 * Shared by `npm run bench:instance-death` (4 clients, 5 kills, as issue 8 measured) and
 * test/instance-death.test.ts (the same scenario, asserting zero failures).
 */
import { STORY_DIR, STORY_STEP_1 } from '../../scripts/story.ts';
import { connect } from '../../src/tools/cli/client.ts';
import { chainOf, curl, lanes } from './cli.ts';

/** Step 1, then v2 of mocka and mockc in lane v2 with every request routed into the lane. */
const STEPS = [STORY_STEP_1, ['mock-v2.yaml', 'swimlane-v2.yaml', 'ingress-vs-v2-100.yaml']];

const IN_LANE = 'mocka v2 → mockb v1 → mockc v2';
const FELL_BACK = 'mocka v2 → mockb v1 → mockc v1';

export interface DeathReport {
  readonly requests: number;
  readonly inLane: number;
  readonly fellBack: number;
  /** Failed requests by what they failed with: a mesh error code, a status, or a client error. */
  readonly failures: Readonly<Record<string, number>>;
  readonly failed: number;
  readonly kills: number;
  readonly seconds: number;
}

export interface DeathOptions {
  /** A state directory with no daemon yet; the caller tears the mesh down. */
  readonly state: string;
  readonly clients: number;
  readonly kills: number;
  /** How long mockc-v2 serves between coming back and the next kill. */
  readonly serveMs?: number;
  readonly log?: (line: string) => void;
}

async function cli(state: string, ...args: string[]): Promise<string> {
  const r = await lanes(args, { cwd: STORY_DIR, state });
  if (r.code !== 0) throw new Error(`lanes ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** What one failed answer failed with: the mesh's error code when the body names one. */
function failureOf(status: number, body: string): string {
  const code = /lanes: ([A-Z_]+):/.exec(body)?.[1];
  return code ?? `HTTP ${status}: ${chainOf(body)}`;
}

/** The pid of mockc-v2's instance once it is ready (another than `previous`), from the control API. */
async function readyPid(
  state: string,
  previous: number | undefined,
  deadline: number,
): Promise<number> {
  const client = connect(state);
  for (;;) {
    const { items } = await client.resources({ kind: 'Deployment', name: 'mockc-v2' });
    const inst = items[0]?.instances?.[0];
    if (inst?.status === 'ready' && inst.pid !== null && inst.pid !== previous) return inst.pid;
    if (Date.now() > deadline) throw new Error('mockc-v2 did not become ready again in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function instanceDeathUnderLoad(o: DeathOptions): Promise<DeathReport> {
  const log = o.log ?? (() => {});
  await cli(o.state, 'up', '--detach', '--quiet');
  for (const files of STEPS) await cli(o.state, 'apply', ...files.flatMap((f) => ['-f', f]));
  const status = JSON.parse(await cli(o.state, 'status', '-o', 'json')) as {
    gateways: { name: string; url: string }[];
  };
  const url = status.gateways.find((g) => g.name === 'ingressgateway')!.url;

  let requests = 0;
  let inLane = 0;
  let fellBack = 0;
  const failures: Record<string, number> = {};
  let stop = false;
  const client = async () => {
    while (!stop) {
      let failure: string | undefined;
      try {
        const answer = await curl(url);
        const chain = chainOf(answer.body);
        if (answer.status === 200 && chain === IN_LANE) inLane++;
        else if (answer.status === 200 && chain === FELL_BACK) fellBack++;
        else failure = failureOf(answer.status, answer.body);
      } catch (error) {
        failure = `client: ${(error as Error).message}`;
      }
      requests++;
      if (failure !== undefined) {
        failures[failure] = (failures[failure] ?? 0) + 1;
        log(`failed: ${failure}`);
      }
    }
  };

  const started = Date.now();
  const loops = Array.from({ length: o.clients }, client);
  let kills = 0;
  let pid: number | undefined;
  try {
    for (let k = 0; k < o.kills; k++) {
      pid = await readyPid(o.state, pid, Date.now() + 60_000);
      // Let it take traffic before it dies, so requests are in flight at the moment of the kill.
      await new Promise((r) => setTimeout(r, o.serveMs ?? 300));
      process.kill(pid, 'SIGKILL');
      kills++;
      log(`killed mockc-v2 (pid ${pid}) after ${requests} requests`);
    }
    await readyPid(o.state, pid, Date.now() + 60_000);
    await new Promise((r) => setTimeout(r, o.serveMs ?? 300));
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return {
    requests,
    inLane,
    fellBack,
    failures,
    failed,
    kills,
    seconds: (Date.now() - started) / 1000,
  };
}
