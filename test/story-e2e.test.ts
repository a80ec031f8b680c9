/**
 * The reference story (examples/story/README.md) end to end, the way a user runs it:
 * `lanes up -d`, then every step's `lanes apply`/`lanes delete` as a separate CLI process in the
 * story's directory (the YAML files unchanged; on our copy, and on the published walkthrough's
 * own files when they sit beside the repository), and `curl`s through the real gateways into real
 * workload processes with OpenTelemetry auto-instrumentation. Then a `kill -9` of the daemon and a
 * second `lanes up`, which must give the same answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storyCopies } from '../scripts/story.ts';
import { chainOf, check, curl, lanes, teardown } from './support/cli.ts';

const ALICE = { 'alice-dev': 'true' };
const BOB = { 'bob-dev': 'true' };
const CAROS = { 'caros-dev': 'true' };

type Gateway = 'prod' | 'dev';

/** One request a step expects an exact answer to. */
interface Probe {
  readonly gateway: Gateway;
  readonly headers?: Readonly<Record<string, string>>;
  readonly chain: string;
}

/** What `curl` through a gateway answers while a step's commands run: any of `allowed`, never an error. */
interface Loop {
  readonly name: string;
  readonly gateway: Gateway;
  readonly headers?: Readonly<Record<string, string>>;
  readonly allowed: readonly string[];
}

interface Step {
  readonly n: number;
  readonly commands: readonly (readonly string[])[];
  readonly expect: readonly Probe[];
  /** Step 4: shares of answers over many requests. */
  readonly distribution?: {
    readonly requests: number;
    readonly shares: Readonly<Record<string, readonly [number, number]>>;
  };
  readonly during?: readonly Loop[];
  /** What the commands must say on stderr (warnings). */
  readonly warns?: RegExp;
}

const chain = (a: string, b: string, c: string) => `mocka ${a} → mockb ${b} → mockc ${c}`;

const STEPS: readonly Step[] = [
  {
    n: 1,
    commands: [
      [
        'apply',
        '-f',
        'gateways.yaml',
        '-f',
        'instrumentation.yaml',
        '-f',
        'mock.yaml',
        '-f',
        'swimlane-v1.yaml',
        '-f',
        'ingress-vs.yaml',
      ],
    ],
    expect: [{ gateway: 'prod', chain: chain('v1', 'v1', 'v1') }],
  },
  {
    n: 2,
    commands: [['apply', '--cluster', 'dev', '-f', 'dev-services.yaml', '-f', 'alice-dev.yaml']],
    expect: [
      { gateway: 'dev', headers: ALICE, chain: chain('dev-alice', 'v1', 'v1') },
      { gateway: 'prod', chain: chain('v1', 'v1', 'v1') },
    ],
  },
  {
    n: 3,
    commands: [['apply', '--cluster', 'dev', '-f', 'caros-dev.yaml']],
    expect: [
      { gateway: 'dev', headers: CAROS, chain: chain('v1', 'v1', 'dev-caros') },
      { gateway: 'dev', headers: ALICE, chain: chain('dev-alice', 'v1', 'v1') },
    ],
  },
  {
    n: 4,
    commands: [
      ['apply', '-f', 'mock-v2.yaml', '-f', 'swimlane-v2.yaml', '-f', 'ingress-vs-v2-20.yaml'],
    ],
    expect: [],
    // 200 requests at 20 %: mean 40, standard deviation 5.7; the bounds are more than 3.5σ away.
    distribution: {
      requests: 200,
      shares: { [chain('v1', 'v1', 'v1')]: [130, 180], [chain('v2', 'v1', 'v2')]: [20, 70] },
    },
  },
  {
    n: 5,
    commands: [['apply', '-f', 'ingress-vs-v2-100.yaml']],
    expect: Array.from({ length: 20 }, () => ({
      gateway: 'prod' as const,
      chain: chain('v2', 'v1', 'v2'),
    })),
  },
  {
    n: 6,
    commands: [
      ['apply', '-f', 'swimlane-v1-baseline-v2.yaml'],
      ['delete', 'deployment', 'mocka-v1', 'mockc-v1'],
    ],
    expect: [
      { gateway: 'prod', chain: chain('v2', 'v1', 'v2') },
      { gateway: 'dev', headers: ALICE, chain: chain('dev-alice', 'v1', 'v2') },
    ],
    during: [
      { name: 'prod', gateway: 'prod', allowed: [chain('v2', 'v1', 'v2')] },
      // The baseline of mockc moves from v1 to v2 while this runs: either is right, nothing else.
      {
        name: 'alice',
        gateway: 'dev',
        headers: ALICE,
        allowed: [chain('dev-alice', 'v1', 'v1'), chain('dev-alice', 'v1', 'v2')],
      },
    ],
  },
  {
    n: 7,
    commands: [['apply', '--cluster', 'dev', '-f', 'bob-dev.yaml']],
    expect: [
      { gateway: 'dev', headers: BOB, chain: chain('v2', 'dev-bob', 'v2') },
      { gateway: 'dev', headers: ALICE, chain: chain('dev-alice', 'v1', 'v2') },
    ],
  },
  {
    n: 8,
    commands: [
      ['apply', '-f', 'mock-v3.yaml', '-f', 'swimlane-v3.yaml', '-f', 'ingress-vs-v3.yaml'],
    ],
    expect: [{ gateway: 'prod', chain: chain('v2', 'v3', 'v2') }],
  },
  {
    n: 9,
    commands: [
      ['apply', '-f', 'swimlane-group-baseline-v3.yaml'],
      ['delete', 'deployment', 'mockb-v1'],
      ['delete', 'asmswimlane', 'v1'],
    ],
    expect: [
      { gateway: 'prod', chain: chain('v2', 'v3', 'v2') },
      // Beyond STORY.md: the developers' lanes follow the new baseline of mockb.
      { gateway: 'dev', headers: ALICE, chain: chain('dev-alice', 'v3', 'v2') },
      { gateway: 'dev', headers: BOB, chain: chain('v2', 'dev-bob', 'v2') },
    ],
    during: [
      { name: 'prod', gateway: 'prod', allowed: [chain('v2', 'v3', 'v2')] },
      {
        name: 'alice',
        gateway: 'dev',
        headers: ALICE,
        allowed: [chain('dev-alice', 'v1', 'v2'), chain('dev-alice', 'v3', 'v2')],
      },
      { name: 'bob', gateway: 'dev', headers: BOB, allowed: [chain('v2', 'dev-bob', 'v2')] },
    ],
    // caros's VirtualService routes to subset v1 of mocka, which only lane v1 defined.
    warns:
      /warning: VirtualService istio-system\/swimlane-ingress-vs-caros is now ResolvedRefs=False \(SubsetNotFound\): .*caros-dev\.yaml:\d+:\d+ spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v1" of default\/mocka is neither a DestinationRule subset nor a lane of its lane group \(did you mean "v2"\?\); requests routed here get 503 NO_SUCH_SUBSET/,
  },
];

interface LoopReport {
  readonly requests: number;
  readonly failures: readonly string[];
}

/** Calls a gateway back to back until stopped, recording every answer that is not allowed. */
function startLoop(loop: Loop, url: string): { stop(): Promise<LoopReport> } {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const done = (async () => {
    while (running) {
      requests++;
      try {
        const answer = await curl(url, loop.headers);
        const got = chainOf(answer.body);
        if (answer.status !== 200 || !loop.allowed.includes(got)) {
          failures.push(
            `${loop.name} #${requests}: ${answer.status} ${answer.status === 200 ? got : answer.body.trim().slice(0, 300)}`,
          );
        }
      } catch (error) {
        failures.push(`${loop.name} #${requests}: ${(error as Error).message}`);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { requests, failures };
    },
  };
}

for (const copy of storyCopies()) {
  const title = `the reference story through the CLI, on ${copy.name} unchanged`;
  if ('skip' in copy) describe(title, () => test('runs', { skip: copy.skip }));
  else describe(title, { timeout: 300_000 }, () => storyThroughCli(copy.dir));
}

function storyThroughCli(storyDir: string): void {
  const state = mkdtempSync(join(tmpdir(), 'lanes-story-'));
  const cli = (...args: string[]) => lanes(args, { cwd: storyDir, state });
  const urls = new Map<Gateway, string>();
  const daemonPid = () =>
    (JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { pid: number }).pid;

  async function ask(probe: {
    gateway: Gateway;
    headers?: Readonly<Record<string, string>>;
  }): Promise<string> {
    const url = urls.get(probe.gateway);
    assert.ok(url, `the ${probe.gateway} gateway has a URL`);
    const answer = await curl(url, probe.headers);
    assert.equal(
      answer.status,
      200,
      `curl ${probe.gateway} ${JSON.stringify(probe.headers ?? {})} answered ${answer.status}: ${answer.body}`,
    );
    return chainOf(answer.body);
  }

  /** What is applied, without what changes when processes restart (pids, ports). */
  async function applied(): Promise<unknown[]> {
    const { items } = JSON.parse(
      check(await cli('get', 'all', '-o', 'json'), 'lanes get all').stdout,
    ) as { items: Record<string, unknown>[] };
    return items.map(({ instances, ...rest }) => ({
      ...rest,
      instances: (instances as { status: string }[] | undefined)?.map((i) => i.status),
    }));
  }

  async function readUrls(): Promise<void> {
    const status = JSON.parse(check(await cli('status', '-o', 'json'), 'lanes status').stdout) as {
      gateways: { name: string; namespace: string; cluster: string; url: string }[];
    };
    for (const g of status.gateways) {
      if (g.name === 'ingressgateway') urls.set('prod', g.url);
      if (g.name === 'ingressgateway-dev') urls.set('dev', g.url);
    }
  }

  before(async () => {
    check(await cli('up', '--detach'), 'lanes up --detach');
  });

  after(async () => {
    await teardown(state, storyDir);
    rmSync(state, { recursive: true, force: true });
  });

  for (const step of STEPS) {
    const expected = step.distribution
      ? Object.entries(step.distribution.shares).map(
          ([c, [lo, hi]]) => `${lo}–${hi} of ${step.distribution?.requests} × ${c}`,
        )
      : [
          ...new Set(
            step.expect.map(
              (p) => `${p.gateway}${p.headers ? ` ${Object.keys(p.headers)[0]}` : ''} → ${p.chain}`,
            ),
          ),
        ];
    test(`step ${step.n}: ${step.commands.map((c) => c.join(' ')).join('; ')} ⇒ ${expected.join('; ')}`, async (t) => {
      const loops = (step.during ?? []).map((loop) => {
        const url = urls.get(loop.gateway);
        assert.ok(url, `the ${loop.gateway} gateway has a URL before step ${step.n}`);
        return startLoop(loop, url);
      });
      // Let every loop get going before the first change.
      if (loops.length > 0) await new Promise((resolve) => setTimeout(resolve, 300));
      let stderr = '';
      for (const command of step.commands) {
        stderr += check(await cli(...command), `lanes ${command.join(' ')}`).stderr;
      }
      if (step.warns) assert.match(stderr, step.warns);
      else assert.doesNotMatch(stderr, /warning:/);
      if (loops.length > 0) await new Promise((resolve) => setTimeout(resolve, 1500));
      const reports = await Promise.all(loops.map((l) => l.stop()));
      if (urls.size < 2) await readUrls();

      for (const probe of step.expect)
        assert.equal(
          await ask(probe),
          probe.chain,
          `${probe.gateway} ${JSON.stringify(probe.headers ?? {})}`,
        );
      if (step.distribution) {
        const counts = new Map<string, number>();
        for (let i = 0; i < step.distribution.requests; i++) {
          const got = await ask({ gateway: 'prod' });
          counts.set(got, (counts.get(got) ?? 0) + 1);
        }
        t.diagnostic(`step ${step.n} answers: ${JSON.stringify(Object.fromEntries(counts))}`);
        for (const got of counts.keys())
          assert.ok(got in step.distribution.shares, `an answer outside the split: ${got}`);
        for (const [c, [lo, hi]] of Object.entries(step.distribution.shares)) {
          const n = counts.get(c) ?? 0;
          assert.ok(n >= lo && n <= hi, `${n} × ${c}, expected ${lo}–${hi}`);
        }
      }
      for (const [i, report] of reports.entries()) {
        const loop = step.during?.[i];
        t.diagnostic(
          `step ${step.n} background ${loop?.name}: ${report.requests} requests, ${report.failures.length} failed`,
        );
        assert.deepEqual(
          report.failures,
          [],
          `requests through ${loop?.name} failed during step ${step.n}`,
        );
        assert.ok(
          report.requests >= 10,
          `the ${loop?.name} loop ran (${report.requests} requests)`,
        );
      }
      if (step.n === 8) {
        const rss = readFileSync(`/proc/${daemonPid()}/status`, 'utf8').match(
          /VmRSS:\s+(\d+)/,
        )?.[1];
        const workloads = JSON.parse(
          check(await cli('status', '-o', 'json'), 'lanes status').stdout,
        ) as { workloads: { ready: number }[] };
        t.diagnostic(
          `daemon RSS with ${workloads.workloads.reduce((n, w) => n + w.ready, 0)} workload instances: ${Number(rss) / 1024} MB`,
        );
      }
    });
  }

  test('after kill -9 of the daemon, lanes up restores every resource and gives the same answers', async (t) => {
    const probes = [
      { gateway: 'prod' as const },
      { gateway: 'dev' as const, headers: ALICE },
      { gateway: 'dev' as const, headers: BOB },
    ];
    const before = await Promise.all(probes.map((p) => ask(p)));
    const resourcesBefore = await applied();
    process.kill(daemonPid(), 'SIGKILL');
    const killedAt = performance.now();
    const up = check(await cli('up', '--detach'), 'lanes up --detach after kill -9');
    assert.match(up.stdout, /the previous daemon \(pid \d+\) is gone/);
    assert.match(up.stdout, /stopped \d+ workload instance\(s\) the previous daemon left running/);
    const urlsBefore = new Map(urls);
    urls.clear();
    await readUrls();
    // The gateways come back on the ports they had (ports.json): bookmarks and scripts keep working.
    assert.deepEqual(urls, urlsBefore);
    const afterUp = await Promise.all(probes.map((p) => ask(p)));
    t.diagnostic(`kill -9 → answers again: ${(performance.now() - killedAt).toFixed(0)} ms`);
    assert.deepEqual(afterUp, before);
    assert.deepEqual(await applied(), resourcesBefore);
  });

  test('caros, whose VirtualService routes to subset v1 of mocka, is told why after lane v1 is gone', async () => {
    const answer = await curl(urls.get('dev') ?? '', CAROS);
    // Not part of STORY.md: subset v1 no longer names a lane or a DestinationRule subset.
    assert.equal(answer.status, 503, chainOf(answer.body));
    assert.match(answer.body, /^lanes: NO_SUCH_SUBSET: .*\bv1\b/);
    const explain = check(
      await cli('explain', '--gateway', 'istio-system/ingressgateway-dev', '-H', 'caros-dev: true'),
      'lanes explain',
    );
    assert.match(explain.stdout, /NO_SUCH_SUBSET/);
    assert.match(explain.stdout, /\bv1\b/);
  });
}
