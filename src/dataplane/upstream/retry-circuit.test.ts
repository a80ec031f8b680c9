import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryCircuit } from './retry-circuit.ts';

describe('RetryCircuit', () => {
  it('lets `max` retries be outstanding per destination and refuses the next, counting it', () => {
    const c = new RetryCircuit();
    assert.equal(c.tryBegin('default/a', 2), true);
    assert.equal(c.tryBegin('default/a', 2), true);
    assert.equal(c.tryBegin('default/a', 2), false);
    assert.equal(c.tryBegin('default/b', 2), true, 'destinations are counted apart');
    assert.equal(c.overflows, 1);
    c.end('default/a');
    assert.equal(c.tryBegin('default/a', 2), true, 'an ended retry frees its slot');
    assert.equal(c.active('default/a'), 2);
  });

  it('has no bound without a max, and never counts below zero', () => {
    const c = new RetryCircuit();
    for (let i = 0; i < 100; i++) assert.equal(c.tryBegin('x', undefined), true);
    for (let i = 0; i < 101; i++) c.end('x');
    assert.equal(c.active('x'), 0);
  });
});
