import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandKubeReferences,
  type LabelSelector,
  portNameProblem,
  resolveContainerEnv,
  selectorMatches,
} from './pod.ts';

describe('expandKubeReferences', () => {
  const vars: Record<string, string> = { HOST: 'mockb', PORT: '8000' };
  const lookup = (n: string) => vars[n];
  const cases: [string, string][] = [
    ['http://$(HOST):$(PORT)/', 'http://mockb:8000/'],
    ['$(MISSING) stays', '$(MISSING) stays'],
    ['$$(HOST) is escaped', '$(HOST) is escaped'],
    ['a lone $ stays', 'a lone $ stays'],
    ['trailing $', 'trailing $'],
    ['$HOST is not a reference', '$HOST is not a reference'],
    ['unclosed $(HOST', 'unclosed $(HOST'],
    ['$$$$', '$$'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} expands to ${JSON.stringify(expected)}`, () => {
      assert.equal(expandKubeReferences(input, lookup), expected);
    });
  }
});

describe('resolveContainerEnv', () => {
  it('expands each value against the variables defined before it, and a later entry wins', () => {
    assert.deepEqual(
      resolveContainerEnv(
        [
          { name: 'URL', value: 'http://$(HOST)/' },
          { name: 'HOST', value: 'mockb' },
          { name: 'URL2', value: 'http://$(HOST)/' },
          { name: 'HOST', value: 'mockc' },
        ],
        { BASE: '1' },
      ),
      { BASE: '1', URL: 'http://$(HOST)/', HOST: 'mockc', URL2: 'http://mockb/' },
    );
  });
});

describe('selectorMatches', () => {
  const sel = (s: Partial<LabelSelector>): LabelSelector => ({
    matchLabels: s.matchLabels ?? {},
    matchExpressions: s.matchExpressions ?? [],
  });
  const cases: [string, LabelSelector, Record<string, string>, boolean][] = [
    ['matchLabels subset matches', sel({ matchLabels: { app: 'a' } }), { app: 'a', v: '1' }, true],
    [
      'a differing label value does not match',
      sel({ matchLabels: { app: 'a' } }),
      { app: 'b' },
      false,
    ],
    [
      'In matches a listed value',
      sel({ matchExpressions: [{ key: 'v', operator: 'In', values: ['1', '2'] }] }),
      { v: '2' },
      true,
    ],
    [
      'In does not match a missing label',
      sel({ matchExpressions: [{ key: 'v', operator: 'In', values: ['1'] }] }),
      {},
      false,
    ],
    [
      'NotIn matches a missing label',
      sel({ matchExpressions: [{ key: 'v', operator: 'NotIn', values: ['1'] }] }),
      {},
      true,
    ],
    [
      'NotIn does not match a listed value',
      sel({ matchExpressions: [{ key: 'v', operator: 'NotIn', values: ['1'] }] }),
      { v: '1' },
      false,
    ],
    [
      'Exists matches an empty value',
      sel({ matchExpressions: [{ key: 'v', operator: 'Exists', values: [] }] }),
      { v: '' },
      true,
    ],
    [
      'DoesNotExist does not match a present label',
      sel({ matchExpressions: [{ key: 'v', operator: 'DoesNotExist', values: [] }] }),
      { v: 'x' },
      false,
    ],
    [
      'a label named like an Object method is not inherited',
      sel({ matchLabels: { toString: 'x' } }),
      {},
      false,
    ],
  ];
  for (const [name, selector, labels, expected] of cases) {
    it(name, () => assert.equal(selectorMatches(selector, labels), expected));
  }
});

describe('portNameProblem', () => {
  const cases: [string, string | undefined][] = [
    ['http', undefined],
    ['http-metrics', undefined],
    ['8080', 'must contain at least one letter (a-z)'],
    ['Http', 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ['-http', 'must not begin or end with a hyphen'],
    ['a--b', 'must not contain consecutive hyphens'],
    ['abcdefghijklmnop', 'must be no more than 15 characters'],
  ];
  for (const [name, problem] of cases) {
    it(`${JSON.stringify(name)} ${problem ?? 'is a valid port name'}`, () => {
      assert.equal(portNameProblem(name), problem);
    });
  }
});
