/**
 * `npm run bench:local`: what a user waits for and what the local mesh costs.
 *
 * - `lanes up -d`, then step 1 of the story, then the first successful `curl` — with a fresh
 *   state directory (Node's compile cache cold for the workloads), and again after `lanes down`
 *   (restored from the state directory, cache warm);
 * - the daemon's RSS, and the workloads' together, with the story's nine Deployments running at
 *   once (every Deployment of steps 1–8, none deleted) after 500 requests through the gateways.
 *
 * Every command is the real CLI in its own process, as a user runs it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORY_DIR, STORY_STEP_1 } from '../scripts/story.ts';
import { chainOf, curl, lanes, teardown } from '../test/support/cli.ts';

const DEV = ['dev-services.yaml', 'alice-dev.yaml', 'caros-dev.yaml', 'bob-dev.yaml'];
const PROD = [
  'mock-v2.yaml',
  'swimlane-v2.yaml',
  'ingress-vs-v2-20.yaml',
  'mock-v3.yaml',
  'swimlane-v3.yaml',
];

const state = mkdtempSync(join(tmpdir(), 'lanes-bench-local-'));
const cli = async (...args: string[]) => {
  const r = await lanes(args, { cwd: STORY_DIR, state });
  assert.equal(r.code, 0, `lanes ${args.join(' ')}: ${r.stderr}`);
  return r;
};

async function prodUrl(): Promise<string> {
  const status = JSON.parse((await cli('status', '-o', 'json')).stdout) as {
    gateways: { name: string; url: string }[];
  };
  const url = status.gateways.find((g) => g.name === 'ingressgateway')?.url;
  assert.ok(url);
  return url;
}

async function firstSuccessfulCurl(url: string): Promise<void> {
  for (;;) {
    try {
      const answer = await curl(url);
      if (
        answer.status === 200 &&
        chainOf(answer.body).startsWith('mocka v1 → mockb v1 → mockc v1')
      )
        return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function rssMb(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
  return Number(kb) / 1024;
}

/** The processes whose environment carries LANES_INSTANCE and whose log is in our state dir. */
function workloadPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (
        environ.includes('LANES_INSTANCE=') &&
        readFileSync(join(state, 'instances.json'), 'utf8').includes(`"pid": ${pid}`)
      )
        pids.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;

try {
  let t0 = performance.now();
  await cli('up', '--detach', '--quiet');
  const upCold = ms(t0);
  await cli('apply', ...STORY_STEP_1.flatMap((f) => ['-f', f]));
  await firstSuccessfulCurl(await prodUrl());
  console.log(
    `fresh state: lanes up -d ${upCold}; up + apply step 1 + first successful curl: ${ms(t0)}`,
  );

  await cli('down');
  t0 = performance.now();
  await cli('up', '--detach', '--quiet');
  const upWarm = ms(t0);
  await firstSuccessfulCurl(await prodUrl());
  console.log(
    `restart (3 workloads restored, compile cache warm): lanes up -d ${upWarm}; first successful curl: ${ms(t0)}`,
  );

  await cli('apply', '--cluster', 'dev', ...DEV.flatMap((f) => ['-f', f]));
  await cli('apply', ...PROD.flatMap((f) => ['-f', f]));
  const url = await prodUrl();
  for (let i = 0; i < 500; i++) assert.equal((await curl(url)).status, 200);
  const status = JSON.parse((await cli('status', '-o', 'json')).stdout) as {
    workloads: { ready: number }[];
  };
  const ready = status.workloads.reduce((n, w) => n + w.ready, 0);
  const { pid } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { pid: number };
  const workloads = workloadPids();
  const workloadRss = workloads.reduce((sum, p) => sum + rssMb(p), 0);
  console.log(
    `${ready} workloads ready (${status.workloads.length} Deployments): daemon RSS ${rssMb(pid).toFixed(1)} MB (2 gateways, ${ready} sidecars); workloads ${workloadRss.toFixed(0)} MB in ${workloads.length} processes (${(workloadRss / Math.max(1, workloads.length)).toFixed(0)} MB each, OpenTelemetry SDK included)`,
  );
} finally {
  await teardown(state, STORY_DIR);
  rmSync(state, { recursive: true, force: true });
}
