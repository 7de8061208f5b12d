import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toSubmitResult } from '../../src/modems/ami/dongle-events.js';

const error = (message: string) => ({ response: 'Error', actionid: 'x', message });

test('a refusal before queueing is safe to retry, whatever the length', () => {
  assert.deepEqual(toSubmitResult(error('[dongle0] Device disconnected'), 3), { kind: 'refused', retryable: true, reason: '[dongle0] Device disconnected' });
  assert.equal(toSubmitResult(error('[dongle0] Invalid phone number'), 3).kind, 'refused');
});

test('a queueing error on a multi-part SMS may have let earlier parts go: uncertain, not retried', () => {
  assert.equal(toSubmitResult(error('[dongle0] Queue error'), 1).kind, 'refused');
  const long = toSubmitResult(error('[dongle0] Queue error'), 2);
  assert.equal(long.kind, 'uncertain');
  assert.equal(toSubmitResult(error('[dongle0] something new'), 2).kind, 'uncertain');
});

test('success is queued', () => {
  assert.deepEqual(toSubmitResult({ response: 'Success', actionid: 'x', message: '[dongle0] SMS queued for send' }, 5), { kind: 'queued' });
});
