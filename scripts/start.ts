/**
 * `npm start`: the local mesh in the foreground with step 1 of the reference story applied
 * (examples/story), then the gateway URLs and three `curl` lines to try. Ctrl-C
 * stops it. The state goes where `lanes` puts it (`$LANES_HOME`, else ./.lanes), so the
 * quickstart's `npx lanes …` commands talk to this mesh.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { resolveStateDir } from '../src/controlplane/local/state/state-dir.ts';
import { connect } from '../src/tools/cli/client.ts';
import { apply } from '../src/tools/cli/commands/apply.ts';
import { up } from '../src/tools/cli/launch.ts';
import { report } from '../src/tools/cli/report.ts';
import { STORY_DIR, STORY_STEP_1 } from './story.ts';

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
// `npm start | tee log`: Ctrl-C ends tee too, and a write to the closed pipe fails with EPIPE.
// The daemon stops the mesh on the same Ctrl-C; this launcher just has nothing more to say.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

if (!existsSync(STORY_DIR)) {
  process.stderr.write(
    `lanes: npm start applies the reference story from ${STORY_DIR}, which is not there; start an empty mesh with \`npx lanes up\` instead\n`,
  );
  process.exit(1);
}

const stateDir = resolveStateDir(undefined, process.env, process.cwd());
const files = STORY_STEP_1.map((f) => relative(process.cwd(), join(STORY_DIR, f)));

async function afterReady(): Promise<number> {
  let code: number;
  try {
    code = await apply({
      io,
      args: ['--state', stateDir, ...files.flatMap((f) => ['-f', f])],
      globalState: undefined,
    });
  } catch (error) {
    return report(error, io);
  }
  const { gateways } = await connect(stateDir).status();
  const prod = gateways.find((g) => g.name === 'ingressgateway')?.url;
  const dev = gateways.find((g) => g.name === 'ingressgateway-dev')?.url;
  if (!prod || !dev) return code;
  const alice = files.map((f) => f.replace(/[^/]+$/, '')).at(0) ?? '';
  process.stdout.write(`
Step 1 of the story is applied. Try:
  curl ${prod}/                          # mocka v1 → mockb v1 → mockc v1, tagged by the gateway
  curl -H 'baggage: version=v2' ${prod}/ # the same: the gateway stamps the lane, a client cannot pick one
  curl -i -H 'alice-dev: true' ${dev}/   # 404 NO_ROUTE until step 2:
      npx lanes apply --cluster dev -f ${alice}dev-services.yaml -f ${alice}alice-dev.yaml
Then: npx lanes status · npx lanes explain --gateway istio-system/ingressgateway · README.md, Quickstart

`);
  return code;
}

process.exitCode = await up({ stateDir, detach: false, afterReady });
