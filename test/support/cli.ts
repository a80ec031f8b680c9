/**
 * The `lanes` CLI as a user runs it: a separate Node process per command, in a working directory
 * of the test's choosing, against a state directory of its own. And `curl`: one HTTP/1.1 request
 * on a fresh connection, the way a user's shell would send it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupOrphans } from '../../src/controlplane/local/workloads/supervisor.ts';

const CLI = fileURLToPath(new URL('../../src/tools/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Inherited variables that would change how the CLI or the daemon it starts behaves. */
const SCRUBBED =
  /^(NODE_TEST_CONTEXT|NODE_OPTIONS|NODE_USE_ENV_PROXY|(HTTPS?|NO|ALL)_PROXY|OTEL_\w+|LANES_\w+)$/i;

export function scrubbedEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SCRUBBED.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function lanes(
  args: readonly string[],
  opts: { cwd: string; state?: string; env?: Readonly<Record<string, string>>; timeoutMs?: number },
): Promise<CliResult> {
  const argv = opts.state === undefined ? [CLI, ...args] : [CLI, '--state', opts.state, ...args];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      {
        cwd: opts.cwd,
        env: scrubbedEnv(opts.env ?? {}),
        timeout: opts.timeoutMs ?? 90_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The result, after asserting that the command succeeded (its output in the message if not). */
export function check(result: CliResult, what: string): CliResult {
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

export function curl(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 10_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * The chain an asm-mock answer describes, without addresses:
 * `-> mocka(version: v1, ip: …)-> mockb(version: v1, ip: …)` → `mocka v1 → mockb v1`.
 */
export function chainOf(body: string): string {
  const hops = [...body.matchAll(/-> (\S+?)\(version: ([^,]+), ip: [^)]*\)/g)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  return hops.length > 0
    ? hops.join(' → ')
    : `not an asm-mock answer: ${JSON.stringify(body.slice(0, 200))}`;
}

/**
 * Stops a test's mesh for sure: `lanes down`, and when that fails (the test killed the daemon,
 * or the daemon is broken — which is what a failing test may be about), the daemon by its pid and
 * its workloads through the pid file, the way the next daemon would clean up after a crash.
 */
export async function teardown(state: string, cwd: string): Promise<void> {
  const down = await lanes(['down'], { cwd, state });
  if (down.code !== 0) {
    try {
      const { pid } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as {
        pid: number;
      };
      process.kill(pid, 'SIGKILL');
    } catch {
      // No daemon.json, or its process is gone already.
    }
  }
  await cleanupOrphans(join(state, 'instances.json'), { graceMs: 1000 });
}
