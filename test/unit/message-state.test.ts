import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterReport, afterSubmit, type MessageState, type ReportOutcome } from '../../src/dispatcher/message-state.js';

const now = new Date('2026-11-26T10:00:00Z');

test('a queued submit leaves the message sending until its report', () => {
  assert.equal(afterSubmit({ kind: 'queued' }, 1, now), null);
});

test('a refusal by chan_dongle (nothing queued) is retried with backoff, then fails', () => {
  const t1 = afterSubmit({ kind: 'refused', retryable: true, reason: '[dongle0] Device disconnected' }, 1, now);
  assert.equal(t1?.state, 'waiting');
  assert.equal(t1?.state === 'waiting' && t1.notBefore.getTime() - now.getTime(), 30_000);
  const t2 = afterSubmit({ kind: 'refused', retryable: true, reason: 'x' }, 2, now);
  assert.equal(t2?.state === 'waiting' && t2.notBefore.getTime() - now.getTime(), 60_000);
  assert.deepEqual(afterSubmit({ kind: 'refused', retryable: true, reason: 'x' }, 3, now), { state: 'failed', error: 'x' });
});

test('a refusal caused by the message itself fails at once', () => {
  assert.deepEqual(afterSubmit({ kind: 'refused', retryable: false, reason: 'Invalid phone number' }, 1, now), {
    state: 'failed',
    error: 'Invalid phone number',
  });
});

test('an uncertain submit is unknown, never retried', () => {
  assert.deepEqual(afterSubmit({ kind: 'uncertain', reason: 'ack lost' }, 1, now), { state: 'unknown', error: 'ack lost' });
});

test('reports: sent, failed (never retried), delivered, expired; late reports tell the truth', () => {
  const sent = { success: true, reportType: 0 as const, detail: '' };
  const refused = { success: false, reportType: 0 as const, detail: '' };
  const delivered = { success: true, reportType: 1 as const, detail: '000,' };
  const expired = { success: false, reportType: 2 as const, detail: '' };
  const table: Array<[MessageState, ReportOutcome, MessageState | null]> = [
    ['sending', sent, 'sent'],
    ['sending', refused, 'failed'],
    ['sending', delivered, 'delivered'],
    ['sent', delivered, 'delivered'],
    ['sending', expired, 'unknown'],
    ['unknown', sent, 'sent'],
    ['unknown', refused, 'failed'],
    ['sent', sent, null],
    ['failed', sent, null],
    ['waiting', sent, null],
    ['skipped', sent, null],
    ['delivered', delivered, null],
  ];
  for (const [from, report, to] of table) {
    assert.equal(afterReport(from, report)?.state ?? null, to, `${from} + ${JSON.stringify(report)}`);
  }
});

test('payloads carry the database tag; a foreign or malformed payload is not ours', async () => {
  const { Payloads } = await import('../../src/dispatcher/dispatcher.js');
  const p = new Payloads('k3x9');
  assert.equal(p.of(42), 'simcast-k3x9-42');
  assert.equal(p.idOf('simcast-k3x9-42'), 42);
  assert.equal(p.idOf('simcast-other-42'), null, 'another database (a reinstall) on the same Asterisk');
  assert.equal(p.idOf('UNKNOWN'), null, 'the CLI');
  assert.equal(p.idOf('simcast-k3x9-42x'), null);
  assert.throws(() => new Payloads('Bad Tag'));
});
