/**
 * npm run bench [-- --json]
 *
 * The data plane side by side in one run, on loopback: a fixed 1 KiB response reached
 * (a) directly, (b) through HAProxy, (c) through the lanes gateway, as the daemon runs it (access
 * log and metrics), (c') the same gateway without metrics, (d) through the lanes chain gateway →
 * sidecar outbound → sidecar inbound. Proxies run on core 0; the load generator (wrk,
 * and this process's latency probes) and the upstream (HAProxy answering by itself) on core 1. Saturation runs alternate between the
 * scenarios and keep each one's median, because these shared machines drift.
 *
 * Per scenario: requests/s at saturation (wrk, 64 connections), p50/p99 at a fixed moderate
 * rate, latency added per proxy hop on one connection, proxy CPU seconds per 1,000 requests, and
 * the proxy's peak RSS.
 *
 * HTTP/2 (h2c with prior knowledge) the same way with h2load (16 connections × 10 streams): the
 * upstream is HAProxy answering h2c by itself; (e) directly, (f) HAProxy h2c front and back,
 * (g) the lanes gateway to an h2c upstream port. p50/p99 come from h2load's per-request log of
 * the saturation runs. Installs haproxy, wrk and h2load from Debian's packages when missing.
 */
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DAEMON_NODE_FLAGS } from '../src/tools/cli/launch.ts';
import { fixedRate, oneConnection } from './latency.ts';

const json = process.argv.includes('--json');
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const SATURATION_SECONDS = 4;
const ROUNDS = 3;
const RATE = 2000;
const RATE_SECONDS = 4;
const ONE_CONN_REQUESTS = 3000;
/** Proxies run on one core; the load generator, the latency probes and the upstream on the other. */
const PROXY_CORE = 0;
const LOAD_CORE = 1;

function have(cmd: string): boolean {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTools(): void {
  const missing = ['haproxy', 'wrk', 'taskset', 'h2load'].filter((c) => !have(c));
  if (missing.length === 0) return;
  say(`installing ${missing.join(', ')} from Debian's packages…`);
  const debian: Record<string, string> = { taskset: 'util-linux', h2load: 'nghttp2-client' };
  const packages = missing.map((m) => debian[m] ?? m);
  execSync(`apt-get update -qq && apt-get install -y -qq ${packages.join(' ')}`, {
    stdio: 'ignore',
  });
}

const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-'));
const BODY = join(dir, 'body.txt');
writeFileSync(BODY, `${'x'.repeat(1023)}\n`);

function haproxyConfig(name: string, body: string): string {
  const path = join(dir, `${name}.cfg`);
  writeFileSync(
    path,
    `global\n  maxconn 4000\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  option http-keep-alive\n${body}`,
  );
  return path;
}

const children: ChildProcess[] = [];
function start(
  core: number,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const child = spawn('taskset', ['-c', String(core), cmd, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  children.push(child);
  return child;
}
/** Moves every thread of a running process to one core. */
function pin(pid: number, core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}
function stopAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);

async function waitForPort(port: number): Promise<void> {
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}

function freePort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function wrk(port: number, path: string, seconds: number): number {
  const out = execFileSync(
    'taskset',
    [
      '-c',
      String(LOAD_CORE),
      'wrk',
      '-t1',
      '-c64',
      `-d${seconds}s`,
      `http://127.0.0.1:${port}${path}`,
    ],
    {
      encoding: 'utf8',
    },
  );
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`wrk saw ${errors[1]} non-2xx answers on port ${port}${path}`);
  return m ? Number(m[1]) : Number.NaN;
}

/** h2load at saturation: req/s, and p50/p99 from its per-request log. */
function h2load(
  port: number,
  path: string,
  seconds: number,
): { rps: number; p50Ms: number; p99Ms: number } {
  const log = join(dir, `h2load-${port}.log`);
  const out = execFileSync(
    'taskset',
    [
      '-c',
      String(LOAD_CORE),
      'h2load',
      '-c16',
      '-m10',
      `-D${seconds}`,
      '--warm-up-time=1',
      `--log-file=${log}`,
      `http://127.0.0.1:${port}${path}`,
    ],
    { encoding: 'utf8' },
  );
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!codes || Number(codes[3]) + Number(codes[4]) > 0)
    throw new Error(
      `h2load saw errors on port ${port}${path}: ${out.split('\n').slice(-12).join(' ')}`,
    );
  const durations = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split('\t')[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
  return { rps: rps ? Number(rps[1]) : Number.NaN, p50Ms: at(0.5), p99Ms: at(0.99) };
}

interface Scenario {
  readonly name: 'direct' | 'haproxy' | 'gateway' | 'gateway-no-metrics' | 'chain';
  readonly port: number;
  readonly path: string;
  readonly pid: number | undefined;
  readonly hops: number;
}

interface Result {
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  addedP50MsOneConn: number | null;
  cpuSecondsPer1kRequests: number | null;
  rssMb: number | null;
}

/** Starts bench/lanes-server.ts on the proxy core and resolves once it has printed its ports. */
async function startLanes(
  upstreamPort: number,
  h2UpstreamPort: number,
  compileCache: string,
): Promise<{ child: ChildProcess; gateway: number; bareGateway: number; pid: number }> {
  const child = start(
    PROXY_CORE,
    process.execPath,
    [
      ...DAEMON_NODE_FLAGS,
      new URL('./lanes-server.ts', import.meta.url).pathname,
      String(upstreamPort),
      String(h2UpstreamPort),
      join(dir, 'access.log'),
    ],
    { ...process.env, NODE_COMPILE_CACHE: compileCache },
  );
  const ports = await new Promise<{ gateway: number; bareGateway: number; pid: number }>(
    (resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        const line = text.split('\n')[0];
        if (text.includes('\n') && line)
          resolve(JSON.parse(line) as { gateway: number; bareGateway: number; pid: number });
      });
      child.once('exit', (code) => reject(new Error(`lanes benchmark server exited with ${code}`)));
    },
  );
  return { child, ...ports };
}

async function main(): Promise<void> {
  ensureTools();
  // The latency probes run in this process: they are load, so they share the load generator's core.
  pin(process.pid, LOAD_CORE);
  const upstreamPort = freePort();
  const haproxyPort = upstreamPort + 1;
  const h2UpstreamPort = upstreamPort + 2;
  const haproxyH2Port = upstreamPort + 3;
  start(LOAD_CORE, 'haproxy', [
    '-f',
    haproxyConfig(
      'upstream',
      `frontend up\n  bind 127.0.0.1:${upstreamPort}\n  http-request return status 200 content-type text/plain file ${BODY}\n` +
        `frontend up2\n  bind 127.0.0.1:${h2UpstreamPort} proto h2\n  http-request return status 200 content-type text/plain file ${BODY}\n`,
    ),
  ]);
  const hap = start(PROXY_CORE, 'haproxy', [
    '-f',
    haproxyConfig(
      'proxy',
      `frontend px\n  bind 127.0.0.1:${haproxyPort}\n  default_backend b\nbackend b\n  http-reuse always\n  server s1 127.0.0.1:${upstreamPort}\n` +
        `frontend px2\n  bind 127.0.0.1:${haproxyH2Port} proto h2\n  default_backend b2\nbackend b2\n  server s2 127.0.0.1:${h2UpstreamPort} proto h2\n`,
    ),
  ]);
  // The lanes process runs as the daemon does: its Node flags, and a compile cache that a first,
  // throw-away start warms, so the measured process never loads Node's TypeScript stripper.
  const compileCache = join(dir, 'compile-cache');
  const warmUp = await startLanes(upstreamPort, h2UpstreamPort, compileCache);
  warmUp.child.kill('SIGTERM');
  await once(warmUp.child, 'exit');
  const ready = await startLanes(upstreamPort, h2UpstreamPort, compileCache);
  await Promise.all([
    waitForPort(upstreamPort),
    waitForPort(haproxyPort),
    waitForPort(h2UpstreamPort),
    waitForPort(haproxyH2Port),
    waitForPort(ready.gateway),
    waitForPort(ready.bareGateway),
  ]);

  const scenarios: Scenario[] = [
    { name: 'direct', port: upstreamPort, path: '/', pid: undefined, hops: 0 },
    { name: 'haproxy', port: haproxyPort, path: '/', pid: hap.pid, hops: 1 },
    { name: 'gateway', port: ready.gateway, path: '/', pid: ready.pid, hops: 1 },
    { name: 'gateway-no-metrics', port: ready.bareGateway, path: '/', pid: ready.pid, hops: 1 },
    { name: 'chain', port: ready.gateway, path: '/chain', pid: ready.pid, hops: 3 },
  ];
  const results = new Map<string, Result>(
    scenarios.map((s) => [
      s.name,
      {
        rps: null,
        p50Ms: null,
        p99Ms: null,
        addedP50MsOneConn: null,
        cpuSecondsPer1kRequests: null,
        rssMb: null,
      },
    ]),
  );

  say('warming up…');
  for (const s of scenarios) wrk(s.port, s.path, 2);

  say(`saturation: ${ROUNDS} alternating rounds of ${SATURATION_SECONDS} s each`);
  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) {
      const before = s.pid ? cpuSeconds(s.pid) : 0;
      const rps = wrk(s.port, s.path, SATURATION_SECONDS);
      const used = s.pid ? cpuSeconds(s.pid) - before : 0;
      rates.set(s.name, [...(rates.get(s.name) ?? []), rps]);
      if (s.pid)
        cpu.set(s.name, [...(cpu.get(s.name) ?? []), (used * 1000) / (rps * SATURATION_SECONDS)]);
      say(`  ${s.name.padEnd(18)} ${Math.round(rps)} req/s`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const s of scenarios) {
    const r = results.get(s.name)!;
    r.rps = Math.round(median(rates.get(s.name)!));
    if (s.pid) r.cpuSecondsPer1kRequests = Number(median(cpu.get(s.name)!).toFixed(4));
  }

  // HTTP/2: the same alternating rounds with h2load; RSS is read at the end, after both protocols.
  const h2Scenarios = [
    { name: 'h2 direct', port: h2UpstreamPort, path: '/', pid: undefined },
    { name: 'h2 haproxy', port: haproxyH2Port, path: '/', pid: hap.pid },
    { name: 'h2 gateway', port: ready.gateway, path: '/h2', pid: ready.pid },
  ];
  say(`HTTP/2 saturation: ${ROUNDS} alternating rounds of ${SATURATION_SECONDS} s each (h2load)`);
  for (const s of h2Scenarios) h2load(s.port, s.path, 2);
  const h2Runs = new Map<string, { rps: number; p50Ms: number; p99Ms: number; cpu: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of h2Scenarios) {
      const before = s.pid ? cpuSeconds(s.pid) : 0;
      const run = h2load(s.port, s.path, SATURATION_SECONDS);
      // h2load's warm-up second is load too: CPU counts over the whole run.
      const used = s.pid ? cpuSeconds(s.pid) - before : 0;
      h2Runs.set(s.name, [
        ...(h2Runs.get(s.name) ?? []),
        { ...run, cpu: (used * 1000) / (run.rps * (SATURATION_SECONDS + 1)) },
      ]);
      say(`  ${s.name.padEnd(10)} ${Math.round(run.rps)} req/s`);
    }
  }
  const h2Results = new Map(
    h2Scenarios.map((s) => {
      const runs = h2Runs.get(s.name)!;
      const mid = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
      return [
        s.name,
        {
          rps: Math.round(mid.rps),
          p50Ms: Number(mid.p50Ms.toFixed(3)),
          p99Ms: Number(mid.p99Ms.toFixed(3)),
          cpuSecondsPer1kRequests: s.pid ? Number(median(runs.map((r) => r.cpu)).toFixed(4)) : null,
        },
      ] as const;
    }),
  );

  say(`latency at ${RATE} req/s for ${RATE_SECONDS} s, and on one connection`);
  for (const s of scenarios) {
    const fixed = await fixedRate(s.port, 'bench.local', s.path, RATE, RATE_SECONDS);
    const r = results.get(s.name)!;
    r.p50Ms = Number(fixed.p50Ms.toFixed(3));
    r.p99Ms = Number(fixed.p99Ms.toFixed(3));
  }
  // On one connection every request wakes the proxy from sleep. Across cores that wake-up costs
  // this VM some 0.2 ms, for HAProxy as much as for lanes, so the added latency is measured twice:
  // as configured (proxy on its own core) and with the proxies moved onto the client's core, which
  // leaves the proxy's own work.
  const proxyPids = [...new Set(scenarios.flatMap((s) => (s.pid ? [s.pid] : [])))];
  const addedPerHop = async (core: number): Promise<Map<string, number>> => {
    for (const pid of proxyPids) pin(pid, core);
    const best = new Map<string, number>();
    for (let round = 0; round < 2; round++) {
      for (const s of scenarios) {
        const one = await oneConnection(s.port, 'bench.local', s.path, ONE_CONN_REQUESTS);
        best.set(s.name, Math.min(best.get(s.name) ?? Number.POSITIVE_INFINITY, one.p50Ms));
      }
    }
    const direct = best.get('direct')!;
    return new Map(
      scenarios
        .filter((s) => s.hops > 0)
        .map((s) => [s.name, Number(((best.get(s.name)! - direct) / s.hops).toFixed(3))]),
    );
  };
  const apart = await addedPerHop(PROXY_CORE);
  const together = await addedPerHop(LOAD_CORE);
  for (const s of scenarios) {
    const r = results.get(s.name)!;
    r.addedP50MsOneConn = apart.get(s.name) ?? null;
    if (s.pid) r.rssMb = Number(peakRssMb(s.pid).toFixed(1));
  }
  stopAll();

  const out = {
    scenarios: Object.fromEntries(results),
    http2: Object.fromEntries(
      [...h2Results].map(([name, r]) => [
        name,
        {
          ...r,
          rssMb:
            name === 'h2 direct'
              ? null
              : results.get(name === 'h2 haproxy' ? 'haproxy' : 'gateway')!.rssMb,
        },
      ]),
    ),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const d = results.get('direct')!.rps!;
  const h = results.get('haproxy')!.rps!;
  const fmt = (v: number | null, digits = 3) => (v === null ? '—' : v.toFixed(digits));
  const lines = [
    "| scenario | req/s | ×direct | ×haproxy | p50 ms @2k/s | p99 ms @2k/s | added p50 ms per hop (1 conn) | same, proxy on the client's core | CPU s per 1k req | peak RSS MB |",
    '|---|---|---|---|---|---|---|---|---|---|',
    ...scenarios.map((s) => {
      const r = results.get(s.name)!;
      return `| ${s.name} | ${r.rps} | ${fmt(r.rps! / d, 2)} | ${fmt(r.rps! / h, 2)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.addedP50MsOneConn)} | ${fmt(together.get(s.name) ?? null)} | ${fmt(r.cpuSecondsPer1kRequests, 4)} | ${fmt(r.rssMb, 1)} |`;
    }),
  ];
  console.log(lines.join('\n'));
  const d2 = h2Results.get('h2 direct')!.rps;
  const h2 = h2Results.get('h2 haproxy')!.rps;
  console.log(
    [
      '',
      '| HTTP/2 (h2load, 16 conn × 10 streams) | req/s | ×direct | ×haproxy | p50 ms | p99 ms | CPU s per 1k req | peak RSS MB |',
      '|---|---|---|---|---|---|---|---|',
      ...[...h2Results].map(([name, r]) => {
        const rss = out.http2[name]?.rssMb ?? null;
        return `| ${name} | ${r.rps} | ${fmt(r.rps / d2, 2)} | ${fmt(r.rps / h2, 2)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuSecondsPer1kRequests, 4)} | ${fmt(rss, 1)} |`;
      }),
    ].join('\n'),
  );
  console.log(
    '\nCPU s per 1k requests equals vCPU per 1,000 req/s (Istio publishes 0.20 for its Envoy sidecar).',
  );
  console.log(
    'The chain is three proxy hops in one lanes process: its CPU and RSS cover all three.',
  );
  const bare = results.get('gateway-no-metrics')!.rps!;
  const counted = results.get('gateway')!.rps!;
  const cpuWith = results.get('gateway')!.cpuSecondsPer1kRequests;
  const cpuWithout = results.get('gateway-no-metrics')!.cpuSecondsPer1kRequests;
  console.log(
    `Metrics on the request path: the gateway served ${counted} req/s counting every hop and ${bare} without (${fmt((100 * (bare - counted)) / bare, 1)} % of its throughput), at ${fmt(cpuWith, 4)} and ${fmt(cpuWithout, 4)} CPU s per 1k requests; a difference inside the run-to-run drift (±30 % on these machines) is noise.`,
  );
}

main().catch((error: unknown) => {
  stopAll();
  console.error(`bench: ${(error as Error).message}`);
  process.exit(1);
});
