/**
 * `lanes up -d` interrupted while the daemon is still starting (Ctrl-C, a dropped SSH session):
 * the daemon was started detached, so it must come up anyway, and stay up.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { lanes, scrubbedEnv, teardown } from './support/cli.ts';

const CLI = fileURLToPath(new URL('../src/tools/cli/main.ts', import.meta.url));
const state = mkdtempSync(join(tmpdir(), 'lanes-launch-'));
after(async () => {
  await teardown(state, tmpdir());
  rmSync(state, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
  }
}

test('a detached daemon whose launcher is killed before it is ready comes up and stays up', async () => {
  const launcher = spawn(process.execPath, [CLI, '--state', state, 'up', '-d'], {
    env: scrubbedEnv({}),
    stdio: 'ignore',
  });
  // The lock appears as the daemon starts; the launcher dies before the daemon can report ready.
  await until('the daemon taking its lock', () => existsSync(join(state, 'daemon.lock')), 30_000);
  launcher.kill('SIGKILL');
  await until('daemon.json', () => existsSync(join(state, 'daemon.json')), 30_000);
  const { pid } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { pid: number };
  await sleep(500);
  assert.doesNotThrow(() => process.kill(pid, 0), 'the daemon is still running');
  const status = await lanes(['status', '-o', 'json'], { cwd: tmpdir(), state });
  assert.equal(status.code, 0, status.stderr);
  // Prometheus scrapes without the API token, on the loopback port status names.
  const metricsUrl = (JSON.parse(status.stdout) as { metrics?: { url: string } }).metrics?.url;
  assert.match(metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const scrape = await fetch(metricsUrl!);
  assert.equal(scrape.status, 200);
  assert.match(await scrape.text(), /^lanes_config_version \d+$/m);
  const down = await lanes(['down'], { cwd: tmpdir(), state });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /lanes is down/);
});
