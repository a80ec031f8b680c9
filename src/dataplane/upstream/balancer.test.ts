import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_POLICY } from '../../core/compiler/policy.ts';
import type { LoadBalancer, TableEndpoint, UpstreamPolicy } from '../../core/compiler/table.ts';
import { tableEndpoint } from '../../core/engine/test-fixtures.ts';
import { seededRandom } from '../../util/seeded-random.ts';
import { EndpointStates, pick, slowStartFactor, type Warmup } from './balancer.ts';

/** A frozen list, like the routing table's. */
function table(n: number): readonly TableEndpoint[] {
  return Object.freeze(Array.from({ length: n }, (_, i) => tableEndpoint(i)));
}

function policy(loadBalancer: LoadBalancer, warmup?: Warmup): UpstreamPolicy {
  return { ...DEFAULT_POLICY, loadBalancer, warmup };
}

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** How many of `rounds` picks went to each endpoint, by index. */
function shares(
  list: readonly TableEndpoint[],
  rounds: number,
  next: () => TableEndpoint | undefined,
): number[] {
  const counts = list.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    const ep = next();
    assert.ok(ep);
    counts[list.indexOf(ep)]!++;
  }
  return counts;
}

const ALL: readonly LoadBalancer[] = ['LEAST_REQUEST', 'ROUND_ROBIN', 'RANDOM'];

describe('pick', () => {
  for (const lb of ALL) {
    test(`${lb}: no candidates gives undefined`, () => {
      assert.equal(pick([], policy(lb), new EndpointStates(), Math.random, 0), undefined);
    });

    test(`${lb}: a single candidate is picked even when excluded`, () => {
      const list = table(1);
      const states = new EndpointStates();
      assert.equal(pick(list, policy(lb), states, Math.random, 0), list[0]);
      assert.equal(pick(list, policy(lb), states, Math.random, 0, new Set([list[0]!.id])), list[0]);
    });
  }

  describe('ROUND_ROBIN', () => {
    test('cycles through a table list in order, from a random start', () => {
      const list = table(4);
      const states = new EndpointStates();
      const picked = Array.from({ length: 12 }, () =>
        list.indexOf(pick(list, policy('ROUND_ROBIN'), states, sequence(0.6), 0)!),
      );
      assert.deepEqual(picked, [2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    });

    test('keeps one cursor per list and per EndpointStates', () => {
      const a = table(3);
      const b = table(3);
      const s1 = new EndpointStates();
      const s2 = new EndpointStates();
      const next = (list: readonly TableEndpoint[], s: EndpointStates) =>
        list.indexOf(pick(list, policy('ROUND_ROBIN'), s, sequence(0), 0)!);
      assert.deepEqual(
        [next(a, s1), next(a, s1), next(b, s1), next(a, s2), next(a, s1)],
        [0, 1, 0, 0, 2],
      );
    });

    test('rotates across lists built per request (not frozen) with a shared cursor', () => {
      const list = table(3);
      const states = new EndpointStates();
      const counts = shares(list, 300, () =>
        pick([...list], policy('ROUND_ROBIN'), states, sequence(0), 0),
      );
      assert.deepEqual(counts, [100, 100, 100]);
    });

    test('skips excluded endpoints and continues after the one it chose', () => {
      const list = table(4);
      const states = new EndpointStates();
      const rr = policy('ROUND_ROBIN');
      const exclude = new Set([list[1]!.id]);
      const picked = [
        pick(list, rr, states, sequence(0), 0, exclude), // 0
        pick(list, rr, states, sequence(0), 0, exclude), // 1 is excluded → 2
        pick(list, rr, states, sequence(0), 0), // 3
        pick(list, rr, states, sequence(0), 0), // 0
      ].map((e) => list.indexOf(e!));
      assert.deepEqual(picked, [0, 2, 3, 0]);
    });
  });

  describe('RANDOM', () => {
    test('spreads picks about evenly (within 5% of uniform over 40,000 picks)', () => {
      const list = table(4);
      const states = new EndpointStates();
      const random = seededRandom(7);
      const counts = shares(list, 40_000, () => pick(list, policy('RANDOM'), states, random, 0));
      for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
    });

    test('a random source that returns 1 still picks the last endpoint', () => {
      const list = table(3);
      assert.equal(
        pick(list, policy('RANDOM'), new EndpointStates(), () => 1, 0),
        list[2],
      );
    });
  });

  describe('LEAST_REQUEST (power of two choices)', () => {
    test('the endpoint with fewer active requests of the two draws wins', () => {
      const list = table(3);
      const states = new EndpointStates();
      states.begin(list[0]!, 0);
      // Draws 0 and 0 → candidates 0 and 1 (distinct); 1 is idle.
      assert.equal(pick(list, policy('LEAST_REQUEST'), states, sequence(0, 0), 0), list[1]);
    });

    const ties = [
      { title: 'a tie goes to the first draw (0 then 1)', draws: [0, 0], expect: 0 },
      { title: 'a tie goes to the first draw (2 then 0)', draws: [0.9, 0], expect: 2 },
      { title: 'a tie goes to the first draw (1 then 2)', draws: [0.5, 0.9], expect: 1 },
    ];
    for (const c of ties) {
      test(c.title, () => {
        const list = table(3);
        const ep = pick(
          list,
          policy('LEAST_REQUEST'),
          new EndpointStates(),
          sequence(...c.draws),
          0,
        );
        assert.equal(ep, list[c.expect]);
      });
    }

    test('the two draws are distinct: with two endpoints the busy one is never picked', () => {
      const list = table(2);
      const states = new EndpointStates();
      states.begin(list[1]!, 0);
      const counts = shares(list, 1000, () =>
        pick(list, policy('LEAST_REQUEST'), states, seededRandom(3), 0),
      );
      assert.deepEqual(counts, [1000, 0]);
    });

    test('prefers idle endpoints strongly: the busiest of four gets nothing', () => {
      const list = table(4);
      const states = new EndpointStates();
      const busy = [0, 1, 5, 20];
      list.forEach((ep, i) => {
        for (let k = 0; k < busy[i]!; k++) states.begin(ep, 0);
      });
      const random = seededRandom(11);
      const counts = shares(list, 12_000, () =>
        pick(list, policy('LEAST_REQUEST'), states, random, 0),
      );
      // Pairs are uniform over the 6 unordered pairs: the idlest wins 3 of 6, the next 2, then 1.
      assert.equal(counts[3], 0);
      for (const [i, expected] of [
        [0, 6000],
        [1, 4000],
        [2, 2000],
      ] as const) {
        assert.ok(Math.abs(counts[i]! - expected) < 300, `counts ${counts}`);
      }
    });

    test('equal load spreads about evenly', () => {
      const list = table(5);
      const states = new EndpointStates();
      const random = seededRandom(5);
      const counts = shares(list, 50_000, () =>
        pick(list, policy('LEAST_REQUEST'), states, random, 0),
      );
      for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
    });
  });

  describe('exclude (previous hosts of the same request)', () => {
    for (const lb of ALL) {
      test(`${lb}: excluded endpoints are never picked while another exists`, () => {
        const list = table(4);
        const states = new EndpointStates();
        const random = seededRandom(9);
        const exclude = new Set([list[0]!.id, list[2]!.id]);
        const counts = shares(list, 400, () => pick(list, policy(lb), states, random, 0, exclude));
        assert.equal(counts[0]! + counts[2]!, 0);
        assert.ok(counts[1]! > 0 && counts[3]! > 0, `counts ${counts}`);
      });

      test(`${lb}: when every candidate is excluded, any may be picked`, () => {
        const list = table(3);
        const exclude = new Set(list.map((e) => e.id));
        const ep = pick(list, policy(lb), new EndpointStates(), seededRandom(1), 0, exclude);
        assert.ok(ep && list.includes(ep));
      });
    }

    test('ids that are not candidates change nothing', () => {
      const list = table(3);
      const exclude = new Set(['192.168.1.1:80']);
      const a = pick(list, policy('RANDOM'), new EndpointStates(), sequence(0.5), 0, exclude);
      assert.equal(a, list[1]);
    });
  });

  describe('warmup (slow start)', () => {
    const warmup: Warmup = { durationMs: 10_000, minimumPercent: 10, aggression: 1 };

    const factors = [
      { title: 'at first sight: 1 s / duration', age: 0, w: warmup, expect: 0.1 },
      { title: 'half way: 0.5', age: 5000, w: warmup, expect: 0.5 },
      { title: 'at the end of the window: 1', age: 10_000, w: warmup, expect: 1 },
      { title: 'after the window: 1', age: 60_000, w: warmup, expect: 1 },
      {
        title: 'aggression 2 takes the square root',
        age: 2500,
        w: { ...warmup, aggression: 2 },
        expect: 0.5,
      },
      {
        title: 'minimumPercent is the floor',
        age: 2000,
        w: { ...warmup, minimumPercent: 50 },
        expect: 0.5,
      },
      {
        title: 'a window shorter than 1 s never scales above 1',
        age: 0,
        w: { ...warmup, durationMs: 500 },
        expect: 1,
      },
    ];
    for (const c of factors) {
      test(`slowStartFactor: ${c.title}`, () => {
        assert.ok(Math.abs(slowStartFactor(c.age, c.w) - c.expect) < 1e-9);
      });
    }

    /** Three endpoints seen long ago and one new one; the new one's share at a given age. */
    function newcomerShare(lb: LoadBalancer, age: number): number {
      const list = table(4);
      const states = new EndpointStates();
      for (let i = 0; i < 3; i++) states.ensure(list[i]!, -1_000_000);
      states.ensure(list[3]!, 0);
      const random = seededRandom(21);
      const rounds = 31_000;
      const counts = shares(list, rounds, () =>
        pick(list, policy(lb, warmup), states, random, age),
      );
      return counts[3]! / rounds;
    }

    for (const lb of ['LEAST_REQUEST', 'ROUND_ROBIN'] as const) {
      const ramp = [
        { age: 0, expect: 0.1 / 3.1 },
        { age: 5000, expect: 0.5 / 3.5 },
        { age: 9000, expect: 0.9 / 3.9 },
        { age: 10_000, expect: 0.25 },
      ];
      for (const r of ramp) {
        test(`${lb}: a new endpoint gets ${(r.expect * 100).toFixed(1)}% of picks at ${r.age} ms`, () => {
          const share = newcomerShare(lb, r.age);
          assert.ok(Math.abs(share - r.expect) < 0.01, `share ${share}`);
        });
      }
    }

    test('ROUND_ROBIN during warmup is an exact weighted cycle', () => {
      const list = table(2);
      const states = new EndpointStates();
      states.ensure(list[0]!, -1_000_000);
      states.ensure(list[1]!, 0);
      // The newcomer at 5 s weighs 0.5: one pick in three.
      const counts = shares(list, 300, () =>
        pick(list, policy('ROUND_ROBIN', warmup), states, Math.random, 5000),
      );
      assert.deepEqual(counts, [200, 100]);
    });

    test('LEAST_REQUEST during warmup divides the weight by active requests + 1', () => {
      const list = table(2);
      const states = new EndpointStates();
      states.ensure(list[0]!, -1_000_000);
      states.ensure(list[1]!, 0);
      // Old endpoint: 1 / (3 + 1) = 0.25; newcomer at 5 s: 0.5 / 1. The newcomer gets 2/3.
      for (let k = 0; k < 3; k++) states.begin(list[0]!, 0);
      const random = seededRandom(4);
      const counts = shares(list, 30_000, () =>
        pick(list, policy('LEAST_REQUEST', warmup), states, random, 5000),
      );
      assert.ok(Math.abs(counts[1]! / 30_000 - 2 / 3) < 0.01, `counts ${counts}`);
    });

    test('RANDOM ignores warmup (Envoy slow start covers round robin and least request)', () => {
      const list = table(2);
      const states = new EndpointStates();
      states.ensure(list[0]!, -1_000_000);
      const random = seededRandom(8);
      const counts = shares(list, 20_000, () =>
        pick(list, policy('RANDOM', warmup), states, random, 0),
      );
      assert.ok(Math.abs(counts[1]! - 10_000) < 400, `counts ${counts}`);
    });

    test('an endpoint is first seen when a pick first meets it', () => {
      const list = table(2);
      const states = new EndpointStates();
      pick(list, policy('LEAST_REQUEST', warmup), states, Math.random, 1234);
      assert.deepEqual(
        list.map((e) => states.get(e.id)?.firstSeen),
        [1234, 1234],
      );
    });
  });

  test('allocates no arrays without exclude hits and with nobody warming up', () => {
    const list = table(5);
    // A candidate list whose iteration throws: spreading or for-of over it would fail the test.
    const trap = Object.freeze(
      Object.defineProperty([...list], Symbol.iterator, {
        value: () => {
          throw new Error('iterated');
        },
      }),
    );
    const states = new EndpointStates();
    const warmup: Warmup = { durationMs: 1000, minimumPercent: 10, aggression: 1 };
    // Warm up once, long ago, so later picks take the cached "nobody is warming" path.
    pick(trap, policy('LEAST_REQUEST', warmup), states, Math.random, 0);
    const methods = ['filter', 'slice', 'map', 'concat', 'flat', 'flatMap', 'toSorted'] as const;
    const proto = Array.prototype as unknown as Record<string, unknown>;
    const saved = methods.map((m) => proto[m]);
    let copies = 0;
    for (const m of methods) {
      proto[m] = function (this: unknown[], ...args: unknown[]) {
        copies++;
        return (saved[methods.indexOf(m)] as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
    try {
      const missing = new Set(['192.168.0.1:80']);
      for (const lb of ALL) {
        for (let k = 0; k < 100; k++) {
          pick(trap, policy(lb), states, Math.random, 5000);
          pick(trap, policy(lb, warmup), states, Math.random, 5000);
          pick(trap, policy(lb), states, Math.random, 5000, missing);
        }
      }
    } finally {
      methods.forEach((m, i) => {
        proto[m] = saved[i];
      });
    }
    assert.equal(copies, 0);
  });
});

describe('EndpointStates', () => {
  test('begin and end count active requests and never go below zero', () => {
    const [a] = table(1);
    const states = new EndpointStates();
    states.begin(a!, 10);
    states.begin(a!, 20);
    states.end(a!);
    assert.deepEqual(states.get(a!.id), { active: 1, firstSeen: 10, lastUsed: 20 });
    states.end(a!);
    states.end(a!);
    assert.equal(states.active(a!.id), 0);
  });

  test('begin without a time reads the injected clock', () => {
    const [a] = table(1);
    const states = new EndpointStates(() => 42);
    states.begin(a!);
    assert.deepEqual(states.get(a!.id), { active: 1, firstSeen: 42, lastUsed: 42 });
  });

  test('end for an endpoint never begun does nothing', () => {
    const states = new EndpointStates();
    states.end(tableEndpoint(9));
    assert.equal(states.size, 0);
  });

  test('forget drops endpoints not in the current table, except those with requests in flight', () => {
    const list = table(3);
    const states = new EndpointStates();
    for (const ep of list) states.ensure(ep, 0);
    states.begin(list[2]!, 0);
    assert.equal(states.forget(new Set([list[0]!.id])), 1);
    assert.deepEqual(
      list.map((e) => states.get(e.id) !== undefined),
      [true, false, true],
    );
  });

  test('an endpoint forgotten and seen again starts its warmup again', () => {
    const list = table(2);
    const states = new EndpointStates();
    assert.equal(states.newestFirstSeen(list, 0), 0);
    states.forget(new Set([list[0]!.id]));
    assert.equal(states.newestFirstSeen(list, 500), 500);
    assert.equal(states.get(list[0]!.id)?.firstSeen, 0);
  });
});
