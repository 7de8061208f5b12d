/**
 * classic.ts (ack ID ↔ DongleSMSStatus correlation, text rules) and the DongleReport details
 * of dongle-events.ts. Pure: a fake clock, no sockets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClassicCorrelator, classicAckId, classicTextProblem, describeClassicTextProblem, type ClassicStatusResult,
} from '../../src/modems/ami/classic.js';
import { describeDongleReport, detectGeneration, isRetryableSendError, toGatewayEvent, toSubmitResult } from '../../src/modems/ami/dongle-events.js';
import { parseAmiMessages } from '../../src/modems/ami/frame.js';

const status = (device: string, id: string, st: string, foreignId?: string) => ({
  event: 'DongleSMSStatus', privilege: 'call,all', device, id, status: st, ...(foreignId === undefined ? {} : { foreignid: foreignId }),
});

function correlator(start = 0) {
  let now = start;
  const c = new ClassicCorrelator({ now: () => now });
  return { c, tick: (ms: number) => { now += ms; } };
}

const reportOf = (r: ClassicStatusResult) => (r.kind === 'report' ? r.event : null);

describe('classic ack parsing', () => {
  it('reads the ID line bg111 puts into the ack (and the generation from it)', () => {
    const [ack] = parseAmiMessages('Response: Success\r\nActionID: a1\r\nMessage: [dongle0] SMS queued for send\r\nID: 0x55D1C0A8E060\r\n\r\n');
    assert.ok(ack);
    assert.equal(classicAckId(ack), '0x55d1c0a8e060');
    assert.equal(detectGeneration(ack), 'classic');
    assert.deepEqual(toSubmitResult(ack), { kind: 'queued' });
  });
  it('no usable ID: current ack, (nil), 0x0, junk', () => {
    assert.equal(classicAckId({ response: 'Success', message: '[d] SMS queued for send' }), null);
    assert.equal(classicAckId({ response: 'Error', id: '(nil)' }), null);
    assert.equal(classicAckId({ response: 'Success', id: '0x0' }), null);
    assert.equal(classicAckId({ response: 'Success', id: '0x12; rm' }), null);
  });
  it('classic error texts: the number and "Error adding SMS commands to queue" blame the message', () => {
    assert.equal(isRetryableSendError('[d0] Invalid destination number'), false);
    assert.equal(isRetryableSendError('[d0] Error adding SMS commands to queue'), false);
    assert.equal(isRetryableSendError('[d0] Device not connected / initialized / registered'), true);
    assert.equal(isRetryableSendError('[d0] no such device'), true);
  });
});

describe('classic text rules', () => {
  it('one part only: 140 GSM-7 / 70 UCS-2', () => {
    assert.equal(classicTextProblem('a'.repeat(140)), null);
    assert.deepEqual(classicTextProblem('a'.repeat(141)), { kind: 'multipart', encoding: 'gsm7', length: 141, limit: 140 });
    assert.equal(classicTextProblem('Я'.repeat(70)), null);
    assert.deepEqual(classicTextProblem('Я'.repeat(71)), { kind: 'multipart', encoding: 'ucs2', length: 71, limit: 70 });
    assert.deepEqual(classicTextProblem('{'.repeat(71)), { kind: 'multipart', encoding: 'gsm7', length: 142, limit: 140 });
  });
  it('line breaks and a leading blank are refused, backslashes go as they are', () => {
    assert.deepEqual(classicTextProblem('a\nb'), { kind: 'line-break' });
    assert.deepEqual(classicTextProblem('a\r\nb'), { kind: 'line-break' });
    assert.deepEqual(classicTextProblem(' a'), { kind: 'leading-space' });
    assert.equal(classicTextProblem('C:\\path\\n'), null);
    assert.match(describeClassicTextProblem({ kind: 'line-break' }), /перевод/);
    assert.match(describeClassicTextProblem({ kind: 'multipart', encoding: 'ucs2', length: 71, limit: 70 }), /70.*71/);
  });
});

describe('ClassicCorrelator', () => {
  it('Sent → success Type 0, NotSent → failure Type 0, with our messageId; mappings end there', () => {
    const { c } = correlator();
    c.acked('d0', '0x55d1c0a8e000', 'm-1');
    c.acked('d1', '0x55d1c0a8e060', 'm-2');
    assert.equal(c.size, 2);
    assert.deepEqual(reportOf(c.status(status('d0', '0x55D1C0A8E000', 'Sent'))),
      { type: 'report', messageId: 'm-1', device: 'd0', success: true, reportType: 0, detail: '' });
    const failed = reportOf(c.status(status('d1', '0x55d1c0a8e060', 'NotSent')));
    assert.equal(failed?.messageId, 'm-2');
    assert.equal(failed?.success, false);
    assert.equal(failed?.reportType, 0);
    assert.match(failed?.detail ?? '', /NotSent/);
    assert.equal(c.size, 0);
    // A second final status for the same ID is not ours any more.
    assert.equal(c.status(status('d0', '0x55d1c0a8e000', 'Sent')).kind, 'unmatched');
  });

  it('the same ID reused by the next task maps to the NEXT message; devices never mix', () => {
    const { c } = correlator();
    c.acked('d0', '0xabc0', 'first');
    assert.equal(reportOf(c.status(status('d0', '0xabc0', 'Sent')))?.messageId, 'first');
    c.acked('d0', '0xabc0', 'second');
    c.acked('d1', '0xabc0', 'other-device');
    assert.equal(reportOf(c.status(status('d0', '0xabc0', 'Sent')))?.messageId, 'second');
    assert.equal(reportOf(c.status(status('d1', '0xabc0', 'NotSent')))?.messageId, 'other-device');
  });

  it('an ID whose final status was lost is replaced (and reported) when reused', () => {
    const { c } = correlator();
    c.acked('d0', '0x10', 'lost');
    assert.deepEqual(c.acked('d0', '0x10', 'new').replaced, 'lost');
    assert.equal(reportOf(c.status(status('d0', '0x10', 'Sent')))?.messageId, 'new');
  });

  it('Sending is progress, not final', () => {
    const { c } = correlator();
    c.acked('d0', '0x10', 'm');
    assert.deepEqual(c.status(status('d0', '0x10', 'Sending')), { kind: 'progress', messageId: 'm', status: 'Sending' });
    assert.equal(reportOf(c.status(status('d0', '0x10', 'Sent')))?.messageId, 'm');
  });

  it('a status with no mapping is never kept for a later send that reuses the ID', () => {
    const { c } = correlator();
    // A's ack timed out (no mapping); its task finishes while B, which will reuse A's freed ID,
    // still waits for its ack. The status is A's, never B's.
    assert.equal(c.status(status('d0', '0x30', 'NotSent')).kind, 'unmatched');
    c.acked('d0', '0x30', 'B');
    assert.equal(c.size, 1, 'B is still waiting for its own status');
    assert.equal(reportOf(c.status(status('d0', '0x30', 'Sent')))?.messageId, 'B');
  });

  it('Delivered never falls back to the task ID (it may belong to the next message by then)', () => {
    const { c } = correlator();
    c.acked('d0', '0x90', 'C');
    assert.equal(c.status(status('d0', '0x90', 'Delivered', '33')).kind, 'unmatched');
    assert.equal(c.status(status('d0', '0x90', 'Delivered')).kind, 'unmatched');
    assert.equal(reportOf(c.status(status('d0', '0x90', 'Sent', '34')))?.messageId, 'C');
  });

  it('Delivered matches by ForeignID learnt from Sent, even after the ID went to another message', () => {
    const { c } = correlator();
    c.acked('d0', '0x70', 'dr-1');
    assert.equal(reportOf(c.status(status('d0', '0x70', 'Sent', '17')))?.reportType, 0);
    c.acked('d0', '0x70', 'dr-2'); // the pointer is reused at once
    const delivered = reportOf(c.status(status('d0', '0x70', 'Delivered', '17')));
    assert.deepEqual(delivered, { type: 'report', messageId: 'dr-1', device: 'd0', success: true, reportType: 1, detail: 'DongleSMSStatus Delivered (TP-MR 17)' });
    assert.equal(c.size, 1, 'dr-2 is still waiting for its own status');
    assert.equal(reportOf(c.status(status('d0', '0x70', 'Sent', '18')))?.messageId, 'dr-2');
    assert.equal(c.status(status('d0', '0x70', 'Delivered', '17')).kind, 'unmatched', 'once only');
  });

  it('forgetDevice drops the device’s mappings (chan_dongle flushed its queue)', () => {
    const { c } = correlator();
    c.acked('d0', '0x1', 'a');
    c.acked('d1', '0x1', 'b');
    assert.deepEqual(c.forgetDevice('d0'), ['a']);
    assert.equal(c.status(status('d0', '0x1', 'Sent')).kind, 'unmatched');
    assert.equal(reportOf(c.status(status('d1', '0x1', 'Sent')))?.messageId, 'b');
  });
});

describe('DongleReport details', () => {
  const ev = (fields: Record<string, string>) => toGatewayEvent({ event: 'DongleReport', device: 'd0', payload: 'p', ...fields });
  it('Type 1 with a permanent-error part names the part and the TP-Status', () => {
    const e = ev({ success: '0', type: '1', report: '000,064,', scts: 'x', dt: 'y' });
    assert.equal(e?.type === 'report' && e.success, false);
    assert.equal(e?.type === 'report' && e.reportType, 1);
    assert.equal(e?.type === 'report' && e.detail,
      'часть 2 из 2: TP-Status 64 (0x40), постоянная ошибка: remote procedure error; report=000,064, scts=x dt=y');
  });
  it('Type 1 delivered, Type 2 expired, Type 0 refused', () => {
    assert.equal(describeDongleReport(1, true, { report: '000,000,000,' }), 'доставлено (частей: 3); report=000,000,000,');
    assert.match(describeDongleReport(2, false, { device: 'd1' }), /Validity.*d1/);
    assert.match(describeDongleReport(0, false, {}), /CMS ERROR/);
    assert.equal(describeDongleReport(0, true, {}), '');
  });
});
