import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlanCache } from '../../src/campaigns/plan-cache.js';

describe('PlanCache (the preview kept a minute)', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 9) + ms);

  test('returns an entry within its age, never after it, nor for a clock that went back', () => {
    const cache = new PlanCache<string>(2, 60_000);
    cache.set('a', 'plan a', at(0));
    assert.equal(cache.get('a', at(60_000)), 'plan a');
    assert.equal(cache.get('a', at(60_001)), undefined);
    cache.set('b', 'plan b', at(0));
    assert.equal(cache.get('b', at(-1)), undefined);
    cache.clear();
  });

  test('keeps at most `capacity` entries, dropping the least recently used', () => {
    const cache = new PlanCache<string>(2, 60_000);
    cache.set('a', 'A', at(0));
    cache.set('b', 'B', at(1));
    assert.equal(cache.get('a', at(2)), 'A'); // a is now the most recent
    cache.set('c', 'C', at(3));
    assert.equal(cache.get('b', at(4)), undefined);
    assert.equal(cache.get('a', at(4)), 'A');
    assert.ok(cache.holds('C'));
    assert.ok(!cache.holds('B'));
    cache.clear();
    assert.ok(!cache.holds('A'));
  });
});
