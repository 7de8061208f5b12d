import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle } from '../../src/auth/login-throttle.js';

test('five failures within 15 minutes lock the login until the first one is 15 minutes old', () => {
  const throttle = new LoginThrottle(5, 15 * 60_000);
  const t0 = new Date('2026-11-26T10:00:00Z');
  const at = (min: number) => new Date(t0.getTime() + min * 60_000);
  for (let i = 0; i < 4; i++) throttle.recordFailure(['login:anna', 'ip:1.2.3.4'], at(i));
  assert.equal(throttle.retryAfterMs(['login:anna'], at(4)), 0);
  throttle.recordFailure(['login:anna', 'ip:1.2.3.4'], at(4));
  assert.equal(throttle.retryAfterMs(['login:anna'], at(5)), 10 * 60_000);
  assert.equal(throttle.retryAfterMs(['ip:1.2.3.4'], at(5)), 10 * 60_000);
  assert.equal(throttle.retryAfterMs(['login:boris', 'ip:5.6.7.8'], at(5)), 0);
  assert.equal(throttle.retryAfterMs(['login:anna'], at(15)), 0);
});

test('a success clears the count', () => {
  const throttle = new LoginThrottle(2, 60_000);
  const now = new Date('2026-11-26T10:00:00Z');
  throttle.recordFailure(['login:anna'], now);
  throttle.recordSuccess(['login:anna']);
  throttle.recordFailure(['login:anna'], now);
  assert.equal(throttle.retryAfterMs(['login:anna'], now), 0);
});
