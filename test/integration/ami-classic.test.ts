/**
 * DongleGateway over real TCP against the simulator playing a CLASSIC chan_dongle (ack `ID:`,
 * DongleSMSStatus, no unescaping, one part only), and a CURRENT one with delivery reports
 * (Type 1 delivered / permanent error, Type 2 expiry). Short delays; every socket closed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { DongleGatewayOptions } from '../../src/modems/ami/dongle-gateway.js';
import type { SmsGateway } from '../../src/modems/sms-gateway.js';
import { AmiSimulator, type AmiSimulatorOptions } from '../../src/simulator/ami-simulator.js';
import { harness as amiHarness, MODEMS, type EventLog, type Report } from '../helpers/ami-harness.js';

const TEST_TIMEOUT = { timeout: 8000 };
/** The shared harness at this file's pace: 15 ms per part and per delivery report. */
const harness = (t: TestContext, simOpts: Partial<AmiSimulatorOptions> = {}, gwOpts: Partial<DongleGatewayOptions> = {}) =>
  amiHarness(t, { delayPerPartMs: 15, deliveryReportDelayMs: 15, ...simOpts }, gwOpts);

const report = (events: EventLog, id: string) => events.waitFor((e) => e.type === 'report' && e.messageId === id) as Promise<Report>;
const sendsOf = (sim: AmiSimulator) => sim.received.filter((r) => r.action === 'DongleSendSMS');

describe('classic chan_dongle (simulator generation: classic)', () => {
  it('generation is known right after connecting (DongleShowDevices shows SMSPDU:)', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { generation: 'classic' });
    assert.equal(gw.generation(), 'classic');
    const port: SmsGateway = gw;
    assert.equal(port.generation?.(), 'classic');
    assert.deepEqual(sim.received.map((r) => r.action), ['login', 'DongleShowDevices']);
    // `connected` is emitted after the probe, so its listeners already see the generation.
    await events.waitFor((e) => e.type === 'connected');
  });

  it('send → ack with ID → DongleSMSStatus Sent → report with OUR messageId; text sent verbatim', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { generation: 'classic' });
    const text = 'Promo: C:\\Users 50% off';
    assert.deepEqual(await gw.submit({ messageId: 'c-1', device: 'dongle0', to: '+79161234567', text }), { kind: 'queued' });
    assert.deepEqual(await report(events, 'c-1'), { type: 'report', messageId: 'c-1', device: 'dongle0', success: true, reportType: 0, detail: '' });
    const [action] = sendsOf(sim);
    assert.equal(action?.headers.message, text, 'no C escaping for classic builds');
    assert.deepEqual(sim.sent.map((s) => [s.text, s.outcome]), [[text, 'sent']]);
    assert.equal(events.reports('c-1').length, 1);
  });

  it('NotSent → report success false, Type 0', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { generation: 'classic' });
    sim.failNumbers.add('+79990000666');
    assert.deepEqual(await gw.submit({ messageId: 'c-f', device: 'dongle1', to: '+79990000666', text: 'x' }), { kind: 'queued' });
    const r = await report(events, 'c-f');
    assert.equal(r.success, false);
    assert.equal(r.reportType, 0);
    assert.match(r.detail, /NotSent/);
  });

  it('the task ID is reused by the next SMS on the device; each status reaches the right message', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { generation: 'classic' });
    for (const [i, mode] of [[1, 'ok'], [2, 'fail'], [3, 'ok']] as const) {
      sim.setMode('dongle0', mode);
      assert.deepEqual(await gw.submit({ messageId: `reuse-${i}`, device: 'dongle0', to: '+79161234567', text: `n${i}` }), { kind: 'queued' });
      const r = await report(events, `reuse-${i}`);
      assert.equal(r.success, mode === 'ok');
    }
    assert.deepEqual(events.events.filter((e) => e.type === 'report').map((e) => e.type === 'report' && [e.messageId, e.success]),
      [['reuse-1', true], ['reuse-2', false], ['reuse-3', true]]);
  });

  it('two SMS queued back to back on one device: the freed ID comes back, statuses stay apart', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { generation: 'classic', delayPerPartMs: 30 });
    // Raw client watching the wire, to see the ack IDs the gateway got.
    const watch = net.createConnection(sim.port, '127.0.0.1');
    t.after(() => { watch.destroy(); });
    watch.setEncoding('utf8');
    let wire = '';
    watch.on('data', (d: string) => { wire += d; });
    watch.write('Action: Login\r\nUsername: simcast\r\nSecret: simcast\r\n\r\n');
    while (sim.sessionCount < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));

    assert.deepEqual(await gw.submit({ messageId: 'a', device: 'dongle0', to: '+79161234567', text: 'first' }), { kind: 'queued' });
    await report(events, 'a');
    assert.deepEqual(await gw.submit({ messageId: 'b', device: 'dongle0', to: '+79161234567', text: 'second' }), { kind: 'queued' });
    await report(events, 'b');
    while ((wire.match(/DongleSMSStatus/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 5));
    const acks = [...wire.matchAll(/Event: DongleSMSStatus\r\nPrivilege: call,all\r\nDevice: dongle0\r\nID: (0x[0-9a-f]+)/g)].map((m) => m[1]);
    assert.equal(acks.length, 2);
    assert.equal(acks[0], acks[1], 'the simulator reused the task pointer');
    assert.match(acks[0] ?? '', /^0x55d1c0a8[0-9a-f]+$/);
    assert.deepEqual([events.reports('a').length, events.reports('b').length], [1, 1]);
  });

  it('multi-part, multi-line and leading-blank texts are refused locally, nothing is written', TEST_TIMEOUT, async (t) => {
    const { gw, sim } = await harness(t, { generation: 'classic' });
    const long = await gw.submit({ messageId: 'm-1', device: 'dongle0', to: '+79161234567', text: 'Я'.repeat(71) });
    assert.equal(long.kind === 'refused' && long.retryable, false);
    assert.match(long.kind === 'refused' ? long.reason : '', /одну SMS/);
    const lines = await gw.submit({ messageId: 'm-2', device: 'dongle0', to: '+79161234567', text: 'a\nb' });
    assert.equal(lines.kind === 'refused' && lines.retryable, false);
    const blank = await gw.submit({ messageId: 'm-3', device: 'dongle0', to: '+79161234567', text: ' a' });
    assert.equal(blank.kind, 'refused');
    assert.equal(sendsOf(sim).length, 0);
    // 70 UCS-2 characters is one part: fine.
    assert.deepEqual(await gw.submit({ messageId: 'm-4', device: 'dongle0', to: '+79161234567', text: 'Я'.repeat(70) }), { kind: 'queued' });
  });

  it('the simulator itself refuses over one part with bg111’s text (ID: (nil)); not retryable', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({ modems: MODEMS, generation: 'classic' });
    t.after(() => sim.close());
    const c = net.createConnection(sim.port, '127.0.0.1');
    t.after(() => { c.destroy(); });
    c.setEncoding('utf8');
    let got = '';
    c.on('data', (d: string) => { got += d; });
    c.write('Action: Login\r\nUsername: simcast\r\nSecret: simcast\r\n\r\n');
    c.write(`Action: DongleSendSMS\r\nActionID: big\r\nDevice: dongle0\r\nNumber: +79161234567\r\nMessage: ${'Я'.repeat(71)}\r\n\r\n`);
    c.write('Action: DongleSendSMS\r\nActionID: nl\r\nDevice: dongle0\r\nNumber: +79161234567\r\nMessage: a\\nb\r\n\r\n');
    while (!/ActionID: nl\r\n[^]*?\r\n\r\n/.test(got)) await new Promise((r) => setTimeout(r, 5));
    assert.match(got, /Response: Error\r\nActionID: big\r\nMessage: \[dongle0\] Error adding SMS commands to queue\r\nID: \(nil\)\r\n/);
    assert.match(got, /Response: Success\r\nActionID: nl\r\nMessage: \[dongle0\] SMS queued for send\r\nID: 0x[0-9a-f]+\r\n/);
    while (sim.sent.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(sim.sent[0]?.text, 'a\\nb', 'classic builds do not unescape');
  });

  it('delivery reports on a classic build: Sent (ForeignID) then Delivered → Type 0 then Type 1', TEST_TIMEOUT, async (t) => {
    const { gw, events } = await harness(t, { generation: 'classic' }, { deliveryReports: true });
    await gw.submit({ messageId: 'cd-1', device: 'dongle0', to: '+79161234567', text: 'x' });
    await events.waitFor((e) => e.type === 'report' && e.messageId === 'cd-1' && e.reportType === 1);
    assert.deepEqual(events.reports('cd-1').map((r) => [r.reportType, r.success]), [[0, true], [1, true]]);
  });
});

describe('current chan_dongle with delivery reports (Report: yes)', () => {
  const opts = { deliveryReports: true, validityMinutes: 1 };

  it('delivered: only Type 1, success, with a meaningful detail; no Type 0', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, {}, opts);
    assert.equal(gw.generation(), 'current');
    const text = `${'Длинное сообщение. '.repeat(5)}`; // 2 UCS-2 parts
    assert.deepEqual(await gw.submit({ messageId: 'dr-ok', device: 'dongle0', to: '+79161234567', text }), { kind: 'queued' });
    const r = await report(events, 'dr-ok');
    assert.deepEqual([r.reportType, r.success], [1, true]);
    assert.match(r.detail, /^доставлено \(частей: 2\); report=000,000, scts=/);
    await new Promise((res) => setTimeout(res, 40));
    assert.equal(events.reports('dr-ok').length, 1, 'no Type 0 with Report: yes');
    assert.equal(sendsOf(sim)[0]?.headers.report, 'yes');
    assert.equal(sendsOf(sim)[0]?.headers.validity, '1');
    assert.deepEqual(sim.awaitingReports, []);
  });

  it('a part with a permanent error (Report: 000,064,) → Type 1 failure naming the part', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, {}, opts);
    sim.deliveryStatuses.set('+79990000064', [0, 64]);
    await gw.submit({ messageId: 'dr-bad', device: 'dongle1', to: '+79990000064', text: 'x'.repeat(200) });
    const r = await report(events, 'dr-bad');
    assert.deepEqual([r.reportType, r.success], [1, false]);
    assert.match(r.detail, /^часть 2 из 2: TP-Status 64 \(0x40\), постоянная ошибка: remote procedure error; report=000,064,/);
    assert.equal(events.reports('dr-bad').length, 1);
  });

  it('no final status within Validity → Type 2 (expiry by time, and by the control method)', TEST_TIMEOUT, async (t) => {
    const { gw, sim, events } = await harness(t, { msPerValidityMinute: 60 }, opts);
    sim.deliveryStatuses.set('+79990000032', [32]); // temporary error: chan_dongle keeps waiting
    await gw.submit({ messageId: 'dr-exp', device: 'dongle0', to: '+79990000032', text: 'x' });
    const r = await report(events, 'dr-exp');
    assert.deepEqual([r.reportType, r.success], [2, false]);
    assert.match(r.detail, /Validity/);

    // Explicit: expire whatever waits, e.g. an SMS flushed with a hung modem's queue.
    const { gw: gw2, sim: sim2, events: events2 } = await harness(t, {}, opts);
    sim2.deliveryStatuses.set('+79990000033', [33]);
    await gw2.submit({ messageId: 'dr-exp2', device: 'dongle0', to: '+79990000033', text: 'x' });
    while (!sim2.sent.some((s) => s.payload === 'dr-exp2')) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual(sim2.awaitingReports, ['dr-exp2']);
    assert.equal(sim2.expireNow(), 1);
    const r2 = await report(events2, 'dr-exp2');
    assert.deepEqual([r2.reportType, r2.success], [2, false]);
    assert.equal(events2.reports('dr-exp2').length, 1);
  });
});
