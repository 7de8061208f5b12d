/**
 * Inbound SMS from the simulator, checked three ways: against the recorded chan_dongle wire bytes
 * (chan-dongle-incoming.txt), over raw TCP parsed with frame.ts, and through the real DongleGateway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmiFrameParser, parseAmiMessages, type AmiMessage } from '../../src/modems/ami/frame.js';
import type { GatewayEvent } from '../../src/modems/sms-gateway.js';
import { AmiSimulator } from '../../src/simulator/ami-simulator.js';
import { buildDeliverPdus, decodeDeliverPdu } from '../../src/simulator/sms-pdu.js';
import { harness, MODEMS } from '../helpers/ami-harness.js';
import { serverChunks } from '../helpers/ami-transcripts.js';
import { rawSession } from '../helpers/raw-ami.js';

const TEST_TIMEOUT = { timeout: 8000 };
const TRANSCRIPT = 'chan-dongle-incoming.txt';
const LONG = `${Array.from({ length: 8 }, () => 'Длинный входящий текст').join(' ')} Длинный входящий`;
/** The three SMS of the transcript: sender, text, and the SCTS / reference its PDUs carry. */
const RECORDED = [
  { from: '+79995550101', text: 'Hello lab, reply STOP', at: new Date('2026-11-26T04:55:36Z'), ref: 0 },
  { from: '+79995550102', text: 'Ответ: СТОП\nвторая строка', at: new Date('2026-11-26T04:55:39Z'), ref: 0 },
  { from: '+79995550103', text: LONG, at: new Date('2026-11-26T04:55:42Z'), ref: 42 },
];

const CMGR = /^\+CMGR: ([01]),,(\d+)\\r\\n([0-9A-F]+)$/;

/** `+CMGR: 0,,N\r\n<hex>` (literal backslashes) → its parts; fails the test on any other shape. */
function cmgr(message: string | undefined): { stat: number; len: number; pdu: ReturnType<typeof decodeDeliverPdu> } {
  const m = CMGR.exec(message ?? '');
  assert.ok(m, `not a +CMGR line: ${JSON.stringify(message)}`);
  return { stat: Number(m[1]), len: Number(m[2]), pdu: decodeDeliverPdu(m[3] as string) };
}

/** UCS-2 user data of every part, in sequence order, decoded as one text. */
function joinParts(pdus: Array<ReturnType<typeof decodeDeliverPdu>>): string {
  const sorted = [...pdus].sort((a, b) => (a.concat?.seq ?? 1) - (b.concat?.seq ?? 1));
  return Buffer.concat(sorted.map((p) => p.userData)).swap16().toString('utf16le');
}

const byEvent = (msgs: AmiMessage[], name: string) => msgs.filter((m) => m.event === name);

/** The bytes of one recorded SMS: from its first DongleNewCMGR to the end of its DongleNewSMSBase64. */
function recordedSmsBytes(index: number): Buffer {
  const all = Buffer.concat(serverChunks(TRANSCRIPT));
  let start = -1;
  let from = 0;
  for (let i = 0; i <= index; i++) {
    start = all.indexOf('Event: DongleNewCMGR', from);
    from = all.indexOf('Event: DongleNewSMSBase64', start);
  }
  const end = all.indexOf('\r\n\r\n', from) + 4;
  return all.subarray(start, end);
}

const countOf = (b: Buffer, s: string) => b.toString('utf8').split(s).length - 1;

describe('the PDU decoder reads the recorded DongleNewCMGR events', () => {
  const msgs = parseAmiMessages(Buffer.concat(serverChunks(TRANSCRIPT)));
  const cmgrs = byEvent(msgs, 'DongleNewCMGR').map((m) => cmgr(m.message));

  it('the first one is "Hello lab, reply STOP" from +79995550101, +CMGR length 61 = TPDU octets', () => {
    const first = cmgrs[0]!;
    assert.equal(first.len, 61);
    assert.equal(first.pdu.tpduLength, 61);
    assert.equal(first.pdu.text, 'Hello lab, reply STOP');
    assert.equal(first.pdu.from, '+79995550101');
    assert.equal(first.pdu.smsc, '+79168999100');
    assert.deepEqual([first.pdu.firstOctet, first.pdu.addressType, first.pdu.pid, first.pdu.dcs], [0x04, 0x91, 0, 8]);
    assert.equal(first.pdu.scts, '2026-11-26T04:55:36.000Z');
    assert.equal(first.pdu.concat, null);
  });

  it('every recorded length matches its TPDU; the 3 parts join to the Base64 text', () => {
    for (const c of cmgrs) assert.equal(c.len, c.pdu.tpduLength);
    assert.equal(cmgrs[1]!.pdu.text, 'Ответ: СТОП\nвторая строка');
    const parts = cmgrs.slice(2).map((c) => c.pdu);
    assert.deepEqual(parts.map((p) => p.concat), [1, 2, 3].map((seq) => ({ ref: 42, total: 3, seq })));
    assert.deepEqual(parts.map((p) => p.userData.length / 2), [67, 67, 66]);
    assert.equal(joinParts(parts), LONG);
  });

  it('the simulator builds the recorded PDUs byte for byte', () => {
    const recorded = byEvent(msgs, 'DongleNewCMGR').map((m) => CMGR.exec(m.message ?? '')?.[3]);
    const built = RECORDED.flatMap((r) => buildDeliverPdus(r.from, r.text, { ref: r.ref, at: r.at }).map((p) => p.hex));
    assert.deepEqual(built, recorded);
  });
});

describe('simulator inbound SMS over raw TCP', () => {
  it('writes the recorded bytes for each recorded SMS (CMGR per part, NewSMS + stray line, Base64)', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({ modems: MODEMS });
    t.after(() => sim.close());
    const c = await rawSession(t, sim.port);
    let offset = 0;
    for (const [i, r] of RECORDED.entries()) {
      sim.injectIncomingSms('dongle0', r.from, r.text, { ref: r.ref, at: r.at });
      await c.waitFor((b) => countOf(b, 'Event: DongleNewSMSBase64') === i + 1 && b.toString('latin1').endsWith('\r\n\r\n'));
      const got = c.bytes().subarray(offset);
      offset = c.mark();
      assert.equal(got.toString('utf8'), recordedSmsBytes(i).toString('utf8'), `SMS ${i + 1}`);
    }
  });

  it('a 3-part Cyrillic SMS and a multi-line one: CMGR per part, PDUs join to the text, one NewSMS and one Base64 each', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({ modems: MODEMS });
    t.after(() => sim.close());
    const c = await rawSession(t, sim.port);
    const long = 'Привет! Это длинное входящее сообщение для проверки склейки частей. '.repeat(3).slice(0, 180);
    const multi = 'Ответ: СТОП\r\n\nвторая строка\nthird line';
    assert.equal(long.length, 180); // 67 + 67 + 46 units
    const pdus1 = sim.injectIncomingSms('dongle0', '+79161234567', long);
    const pdus2 = sim.injectIncomingSms('dongle1', '+79161234568', multi);
    assert.deepEqual([pdus1.length, pdus2.length], [3, 1]);
    await c.waitFor((b) => countOf(b, 'Event: DongleNewSMSBase64') === 2 && b.toString('latin1').endsWith('\r\n\r\n'));
    const msgs = new AmiFrameParser().push(c.bytes());
    // Nothing but these events, and no empty message from the stray line.
    assert.deepEqual(msgs.map((m) => m.event), [
      'DongleNewCMGR', 'DongleNewCMGR', 'DongleNewCMGR', 'DongleNewSMS', 'DongleNewSMSBase64',
      'DongleNewCMGR', 'DongleNewSMS', 'DongleNewSMSBase64',
    ]);
    // The stray empty line really is on the wire after each DongleNewSMS.
    assert.equal(countOf(c.bytes(), '\r\n\r\n\r\nEvent: DongleNewSMSBase64'), 2);
    for (const [device, from, text, n] of [['dongle0', '+79161234567', long, 3], ['dongle1', '+79161234568', multi, 1]] as const) {
      const mine = msgs.filter((m) => m.device === device);
      const cmgrs = byEvent(mine, 'DongleNewCMGR');
      assert.equal(cmgrs.length, n);
      for (const m of cmgrs) assert.equal(m.privilege, 'call,all');
      const parsed = cmgrs.map((m) => cmgr(m.message));
      for (const p of parsed) {
        assert.equal(p.stat, 0);
        assert.equal(p.len, p.pdu.tpduLength);
        assert.equal(p.pdu.from, from);
        assert.equal(p.pdu.dcs, 8);
        assert.ok(p.pdu.userData.length <= 140);
      }
      assert.equal(joinParts(parsed.map((p) => p.pdu)), text);
      if (n > 1) {
        assert.deepEqual(parsed.map((p) => [p.pdu.firstOctet, p.pdu.concat?.total, p.pdu.concat?.seq]), [[0x44, 3, 1], [0x44, 3, 2], [0x44, 3, 3]]);
        assert.equal(new Set(parsed.map((p) => p.pdu.concat?.ref)).size, 1);
      }
      assert.equal(byEvent(mine, 'DongleNewSMS').length, 1);
      const b64 = byEvent(mine, 'DongleNewSMSBase64');
      assert.equal(b64.length, 1);
      assert.equal(Buffer.from(b64[0]!.message!, 'base64').toString('utf8'), text);
    }
    const lossy = byEvent(msgs, 'DongleNewSMS')[1]!;
    assert.deepEqual([lossy.linecount, lossy.messageline0, lossy.messageline1, lossy.messageline2], ['3', 'Ответ: СТОП', 'вторая строка', 'third line']);
  });

  it('references increment per SMS; odd senders (alphanumeric, short code) do not crash', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({ modems: MODEMS });
    t.after(() => sim.close());
    const long = 'Я'.repeat(100);
    const a = decodeDeliverPdu(sim.injectIncomingSms('dongle0', '+79161234567', long)[0]!);
    const b = decodeDeliverPdu(sim.injectIncomingSms('dongle0', '+79161234567', long)[0]!);
    assert.equal(b.concat!.ref, (a.concat!.ref + 1) % 256);
    const mega = decodeDeliverPdu(sim.injectIncomingSms('dongle0', 'MegaFon', 'Баланс 100 р.')[0]!);
    assert.deepEqual([mega.addressType, mega.from, mega.text], [0xd0, 'MegaFon', 'Баланс 100 р.']);
    const short = decodeDeliverPdu(sim.injectIncomingSms('dongle0', '900', 'Код: 1234')[0]!);
    assert.deepEqual([short.addressType, short.from], [0x81, '900']);
    // Not GSM-7, too long for an address: sent as '?'s, cut to 11 — but the events still go out.
    const odd = decodeDeliverPdu(sim.injectIncomingSms('dongle0', 'Очень длинный отправитель', 'x')[0]!);
    assert.deepEqual([odd.addressType, odd.from], [0xd0, '????? ?????']);
  });
});

describe('simulator inbound SMS through the DongleGateway', () => {
  const inbound = (events: GatewayEvent[]) => events.filter((e) => e.type === 'inbound-sms');

  it('exactly one inbound-sms per injected SMS, text exact (multi-line kept), odd senders passed through', TEST_TIMEOUT, async (t) => {
    const { sim, events } = await harness(t);
    const long = 'Длинный ответ абонента, который не влезает в одну часть. '.repeat(3);
    const multi = 'Ответ: СТОП\n\nвторая строка\r\nтретья';
    sim.injectIncomingSms('dongle0', '+79995550103', long);
    sim.injectIncomingSms('dongle1', '+79995550102', multi);
    sim.injectIncomingSms('dongle0', 'MegaFon', 'Баланс: 100 р.');
    sim.injectIncomingSms('dongle0', '900', 'marker');
    await events.waitFor((e) => e.type === 'inbound-sms' && e.text === 'marker');
    assert.deepEqual(inbound(events.events), [
      { type: 'inbound-sms', device: 'dongle0', from: '+79995550103', text: long },
      { type: 'inbound-sms', device: 'dongle1', from: '+79995550102', text: multi },
      { type: 'inbound-sms', device: 'dongle0', from: 'MegaFon', text: 'Баланс: 100 р.' },
      { type: 'inbound-sms', device: 'dongle0', from: '900', text: 'marker' },
    ]);
  });

  it('times: 2 re-delivers the same SMS: the gateway reports it twice (de-duplication is up to its consumer)', TEST_TIMEOUT, async (t) => {
    const { sim, events } = await harness(t);
    const pdus = sim.injectIncomingSms('dongle0', '+79995550101', 'STOP', { times: 2 });
    sim.injectIncomingSms('dongle0', '+79995550101', 'marker');
    await events.waitFor((e) => e.type === 'inbound-sms' && e.text === 'marker');
    assert.deepEqual(inbound(events.events).map((e) => e.type === 'inbound-sms' && e.text), ['STOP', 'STOP', 'marker']);
    assert.equal(pdus.length, 1);
  });

  it('times: 2 on the wire: identical PDUs, the repeat read as REC READ (+CMGR: 1)', TEST_TIMEOUT, async (t) => {
    const sim = await AmiSimulator.start({ modems: MODEMS });
    t.after(() => sim.close());
    const c = await rawSession(t, sim.port);
    sim.injectIncomingSms('dongle0', '+79995550101', 'Я'.repeat(80), { times: 2 });
    await c.waitFor((b) => countOf(b, 'Event: DongleNewSMSBase64') === 2 && b.toString('latin1').endsWith('\r\n\r\n'));
    const msgs = new AmiFrameParser().push(c.bytes());
    const cmgrs = byEvent(msgs, 'DongleNewCMGR').map((m) => cmgr(m.message));
    assert.deepEqual(cmgrs.map((x) => x.stat), [0, 0, 1, 1]);
    assert.deepEqual(cmgrs.slice(2).map((x) => x.pdu), cmgrs.slice(0, 2).map((x) => x.pdu));
    assert.equal(byEvent(msgs, 'DongleNewSMS').length, 2);
  });
});
