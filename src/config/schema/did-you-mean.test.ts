import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suggestName } from './did-you-mean.ts';

describe('suggestName', () => {
  const cases: { title: string; word: string; known: string[]; expected: string }[] = [
    {
      title: 'a typo: the closest name',
      word: 'stabel',
      known: ['canary', 'stable', 'dev-erin'],
      expected: ' (did you mean "stable"?)',
    },
    {
      title: 'nothing close among a few: all of them, sorted and once each',
      word: 'production',
      known: ['v2', 'dev-alice', 'v2'],
      expected: ' (lanes: dev-alice, v2)',
    },
    {
      title: 'nothing close among many: nothing',
      word: 'zzzzzz',
      known: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'],
      expected: '',
    },
    { title: 'nothing known: nothing', word: 'x', known: [], expected: '' },
  ];
  for (const c of cases) {
    test(c.title, () => {
      assert.equal(suggestName(c.word, c.known, 'lanes'), c.expected);
    });
  }
});
