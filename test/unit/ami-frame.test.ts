/**
 * frame.ts + dongle-events.ts against the RECORDED Asterisk 18 + chan_dongle transcripts
 * (test/fixtures/ami/*.txt), fed with the recorded TCP segmentation, then split at every byte.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePyBytes, readTranscriptText, transcriptFiles } from '../helpers/ami-transcripts.js';
import { AmiFrameParser, parseAmiMessages, type AmiMessage } from '../../src/modems/ami/frame.js';
import {
  detectGeneration, eventName, isRetryableSendError, toGatewayEvent, toModemInfo, toSubmitResult,
} from '../../src/modems/ami/dongle-events.js';

interface Connection { chunks: Buffer[]; sent: Buffer[] }

/** Splits a transcript into connections, each with its server→client chunks as recorded. */
function readTranscript(name: string): Connection[] {
  const text = readTranscriptText(name);
  const connections: Connection[] = [];
  for (const line of text.split('\n')) {
    const m = /^\[\s*[\d.]+\] (\S+) ?(.*)$/.exec(line);
    if (!m) continue;
    const [, dir, rest] = m as unknown as [string, string, string];
    // Some recordings start without a CONNECT line: the first bytes open a connection too.
    if (dir === 'CONNECT' || (connections.length === 0 && (dir === '<<<' || dir === '>>>'))) {
      connections.push({ chunks: [], sent: [] });
    }
    const current = connections.at(-1);
    if (dir === '<<<') current?.chunks.push(decodePyBytes(rest));
    else if (dir === '>>>') current?.sent.push(decodePyBytes(rest));
    // EOF, MODEM-CTL, KILL-MODEM, TIMING…: recorder annotations, not wire bytes.
  }
  return connections;
}

function parseRecorded(conn: Connection): { messages: AmiMessage[]; parser: AmiFrameParser } {
  const parser = new AmiFrameParser();
  const messages = conn.chunks.flatMap((c) => parser.push(c));
  return { messages, parser };
}

function all(name: string): AmiMessage[] {
  return readTranscript(name).flatMap((c) => parseRecorded(c).messages);
}

const byEvent = (msgs: AmiMessage[], name: string) => msgs.filter((m) => eventName(m) === name.toLowerCase());
const responses = (msgs: AmiMessage[]) => msgs.filter((m) => m.response !== undefined);
const plain = (m: AmiMessage | undefined) => ({ ...m });

describe('transcripts: every file parses cleanly', () => {
  const files = transcriptFiles();
  it('finds all seven transcripts', () => {
    assert.deepEqual(files, [
      'chan-dongle-basic.txt', 'chan-dongle-burst.txt', 'chan-dongle-disconnected.txt', 'chan-dongle-hang.txt',
      'chan-dongle-incoming.txt', 'chan-dongle-send.txt', 'chan-dongle-slow.txt',
    ]);
  });
  for (const file of files) {
    it(`${file}: banner, no empty or partial messages, same result as one big chunk`, () => {
      const connections = readTranscript(file);
      assert.equal(connections.length, file === 'chan-dongle-basic.txt' ? 2 : 1);
      for (const conn of connections) {
        const { messages, parser } = parseRecorded(conn);
        assert.equal(parser.banner, 'Asterisk Call Manager/7.0.3');
        assert.ok(messages.length > 0);
        for (const m of messages) {
          assert.ok(m.response !== undefined || m.event !== undefined, `message without Response/Event: ${JSON.stringify(m)}`);
        }
        // Nothing left over: the transcript ends on a message boundary.
        assert.deepEqual(parser.push(''), []);
        assert.deepEqual(parseAmiMessages(Buffer.concat(conn.chunks)).map(plain), messages.map(plain));
      }
    });
  }
});

describe('transcripts: split at every byte boundary (small files)', () => {
  for (const file of ['chan-dongle-basic.txt', 'chan-dongle-disconnected.txt', 'chan-dongle-hang.txt']) {
    it(file, () => {
      for (const conn of readTranscript(file)) {
        const bytes = Buffer.concat(conn.chunks);
        const expected = JSON.stringify(parseAmiMessages(bytes).map(plain));
        for (let k = 0; k <= bytes.length; k++) {
          const p = new AmiFrameParser();
          const got = [...p.push(bytes.subarray(0, k)), ...p.push(bytes.subarray(k))];
          if (JSON.stringify(got.map(plain)) !== expected) assert.fail(`${file}: split at byte ${k} differs`);
        }
        const p = new AmiFrameParser();
        const oneByOne: AmiMessage[] = [];
        for (let k = 0; k < bytes.length; k++) oneByOne.push(...p.push(bytes.subarray(k, k + 1)));
        assert.equal(JSON.stringify(oneByOne.map(plain)), expected);
      }
    });
  }
  it('chan-dongle-incoming.txt: Cyrillic split inside UTF-8 sequences, every 7 bytes', () => {
    const bytes = Buffer.concat(readTranscript('chan-dongle-incoming.txt').flatMap((c) => c.chunks));
    const expected = JSON.stringify(parseAmiMessages(bytes).map(plain));
    const p = new AmiFrameParser();
    const got: AmiMessage[] = [];
    for (let k = 0; k < bytes.length; k += 7) got.push(...p.push(bytes.subarray(k, k + 7)));
    assert.equal(JSON.stringify(got.map(plain)), expected);
  });
});

describe('chan-dongle-basic.txt', () => {
  const [first, second] = readTranscript('chan-dongle-basic.txt').map((c) => parseRecorded(c).messages);
  it('has two connections: a good session and a wrong secret', () => {
    assert.ok(first && second);
  });
  it('login, FullyBooted, Ping/Pong', () => {
    const msgs = first ?? [];
    assert.deepEqual(plain(msgs[0]), { response: 'Success', actionid: 'login-1', message: 'Authentication accepted' });
    assert.equal(byEvent(msgs, 'FullyBooted')[0]?.status, 'Fully Booted');
    const pong = msgs.find((m) => m.actionid === 'ping-1');
    assert.equal(pong?.ping, 'Pong');
    assert.equal(pong?.timestamp, '1795668867.988386');
  });
  it('DongleShowDevices: ack, one DongleDeviceEntry (split across two reads), Complete', () => {
    const msgs = first ?? [];
    const ack = msgs.find((m) => m.actionid === 'sd-1' && m.response);
    assert.equal(ack?.eventlist, 'start');
    const [entry] = byEvent(msgs, 'DongleDeviceEntry');
    assert.ok(entry);
    assert.equal(entry.actionid, 'sd-1');
    assert.equal(entry.device, 'dongle0');
    assert.equal(entry.imeisetting, ''); // "IMEISetting: " → empty
    assert.equal(entry.state, 'Free');
    assert.equal(entry.gsmregistrationstatus, 'Registered, home network');
    assert.equal(entry.rssi, '20, -73 dBm');
    assert.equal(entry.imsistate, '250990000000001'); // the first key of the second TCP read
    assert.equal(entry.defaultcallingpres, 'Presentation Allowed, Passed Screen');
    assert.equal(entry.cellid, '"00C0FF');
    assert.equal(entry.initializing, '0');
    assert.deepEqual(toModemInfo(entry), {
      device: 'dongle0', imsi: '250990000000001', imei: '359999000000001', state: 'Free',
      registration: 'Registered, home network', signal: '20, -73 dBm', operator: 'SimNet', queue: 0, ready: true,
    });
    assert.equal(detectGeneration(entry), 'current');
    const completes = byEvent(msgs, 'DongleShowDevicesComplete');
    assert.deepEqual(completes.map((c) => [c.actionid, c.eventlist, c.listitems]), [['sd-1', 'Complete', '1'], ['sd-2', 'Complete', '0']]);
  });
  it('Logoff → Goodbye; wrong secret → Authentication failed', () => {
    assert.equal(first?.at(-1)?.response, 'Goodbye');
    assert.deepEqual((second ?? []).map(plain), [{ response: 'Error', actionid: 'login-1', message: 'Authentication failed' }]);
  });
});

describe('chan-dongle-send.txt', () => {
  const msgs = all('chan-dongle-send.txt');
  const reports = byEvent(msgs, 'DongleReport');
  it('9 DongleReports with the recorded payloads and outcomes', () => {
    assert.deepEqual(reports.map((r) => [r.payload, r.success, r.type]), [
      ['', '1', '0'], ['camp-1/msg-2', '1', '0'], ['camp-1/msg-3', '1', '0'], ['camp-1/msg-4', '1', '0'],
      ['camp-1/msg-5', '1', '0'], ['', '1', '0'], ['camp-1/msg-6', '1', '1'], ['camp-1/msg-7', '0', '0'], ['', '1', '0'],
    ]);
  });
  it('maps reports to domain events; reports without Payload are not ours', () => {
    const events = reports.map(toGatewayEvent).filter((e) => e !== null);
    assert.equal(events.length, 6);
    assert.deepEqual(events.find((e) => e.type === 'report' && e.messageId === 'camp-1/msg-6'), {
      type: 'report', messageId: 'camp-1/msg-6', device: 'dongle0', success: true, reportType: 1,
      detail: 'доставлено; report=000, scts=2026-11-26 04:55:02 +00:00 dt=2026-11-26 04:55:02 +00:00',
    });
    assert.deepEqual(events.find((e) => e.type === 'report' && e.messageId === 'camp-1/msg-7'), {
      type: 'report', messageId: 'camp-1/msg-7', device: 'dongle0', success: false, reportType: 0,
      detail: 'модем отклонил SMS (+CMS ERROR); остальные части могли уйти',
    });
  });
  it('acks are "queued", current generation; errors are refusals with the right retryability', () => {
    const rs = responses(msgs);
    const acks = rs.filter((r) => /SMS queued for send/.test(r.message ?? ''));
    assert.equal(acks.length, 9);
    for (const a of acks) {
      assert.deepEqual(toSubmitResult(a), { kind: 'queued' });
      assert.equal(detectGeneration(a), 'current');
    }
    const errors = rs.filter((r) => r.response === 'Error');
    assert.deepEqual(errors.map((e) => [e.actionid, e.message]), [
      ['sms-nodev', '[nosuch] Device disconnected'], ['sms-nonum', 'Number not specified'], ['sms-nomsg', 'Message not specified'],
    ]);
    assert.deepEqual(errors.map(toSubmitResult), [
      { kind: 'refused', retryable: true, reason: '[nosuch] Device disconnected' },
      { kind: 'refused', retryable: false, reason: 'Number not specified' },
      { kind: 'refused', retryable: false, reason: 'Message not specified' },
    ]);
    // The last ack had no ActionID in the request, so none in the answer.
    assert.equal(acks.at(-1)?.actionid, undefined);
  });
  it('keeps unrelated traffic intact (UserEvent AppData with ": " inside a value)', () => {
    const ue = byEvent(msgs, 'UserEvent')[0];
    assert.equal(ue?.userevent, 'LabSMSReport');
    const ext = msgs.find((m) => m.application === 'UserEvent');
    assert.equal(ext?.appdata, 'LabSMSReport,Device: dongle0,To: +79991234567,Payload: ,Success: 1,Type: i,Report: ');
  });
  it('DongleNewCMGR carries the escaped raw line, not a line break', () => {
    assert.match(byEvent(msgs, 'DongleNewCMGR')[0]?.message ?? '', /^\+CMGR: 0,,25\\r\\n0791/);
  });
});

describe('chan-dongle-incoming.txt', () => {
  const msgs = all('chan-dongle-incoming.txt');
  it('3 DongleNewSMS + 3 DongleNewSMSBase64, and the extra blank line yields no message', () => {
    assert.equal(byEvent(msgs, 'DongleNewSMS').length, 3);
    assert.equal(byEvent(msgs, 'DongleNewSMSBase64').length, 3);
    assert.equal(byEvent(msgs, 'DongleNewCMGR').length, 5);
  });
  it('only DongleNewSMSBase64 becomes inbound-sms: ASCII, Cyrillic multi-line, 3-part', () => {
    const inbound = msgs.map(toGatewayEvent).filter((e) => e?.type === 'inbound-sms');
    const long = Array.from({ length: 8 }, () => 'Длинный входящий текст').join(' ');
    assert.deepEqual(inbound, [
      { type: 'inbound-sms', device: 'dongle0', from: '+79995550101', text: 'Hello lab, reply STOP' },
      { type: 'inbound-sms', device: 'dongle0', from: '+79995550102', text: 'Ответ: СТОП\nвторая строка' },
      { type: 'inbound-sms', device: 'dongle0', from: '+79995550103', text: `${long} Длинный входящий` },
    ]);
    assert.equal((inbound[2] as { text: string }).text.length, 200);
  });
  it('the lossy DongleNewSMS lines are parsed but ignored', () => {
    const lossy = byEvent(msgs, 'DongleNewSMS')[1];
    assert.equal(lossy?.linecount, '2');
    assert.equal(lossy?.messageline0, 'Ответ: СТОП');
    assert.equal(lossy?.messageline1, 'вторая строка');
    assert.equal(toGatewayEvent(lossy ?? {}), null);
  });
});

describe('chan-dongle-slow.txt, -hang.txt, -disconnected.txt, -burst.txt', () => {
  it('slow: 3 reports in FIFO order; TasksInQueue 3 while busy', () => {
    const msgs = all('chan-dongle-slow.txt');
    assert.deepEqual(byEvent(msgs, 'DongleReport').map((r) => r.payload), ['slow-0', 'slow-1', 'slow-2']);
    assert.equal(toModemInfo(byEvent(msgs, 'DongleDeviceEntry')[0] ?? {})?.queue, 3);
  });
  it('hang: two acks, no report for them, DongleStatus Disconnect → back; only hang-3 reported', () => {
    const msgs = all('chan-dongle-hang.txt');
    const acked = responses(msgs).filter((r) => r.actionid?.startsWith('h-')).map((r) => [r.actionid, toSubmitResult(r).kind]);
    assert.deepEqual(acked, [['h-1', 'queued'], ['h-2', 'queued'], ['h-3', 'queued']]);
    assert.deepEqual(byEvent(msgs, 'DongleReport').map((r) => r.payload), ['hang-3']);
    assert.deepEqual(byEvent(msgs, 'DongleStatus').map(toGatewayEvent), ['Free', 'Disconnect', 'Connect', 'Register', 'Initialize']
      .map((status) => ({ type: 'modem-status', device: 'dongle0', status })));
  });
  it('disconnected: refused retryable, device entry not ready, then back', () => {
    const msgs = all('chan-dongle-disconnected.txt');
    const refusal = responses(msgs).find((r) => r.actionid === 'g-1');
    assert.deepEqual(toSubmitResult(refusal ?? {}), { kind: 'refused', retryable: true, reason: '[dongle0] Device disconnected' });
    assert.deepEqual(toModemInfo(byEvent(msgs, 'DongleDeviceEntry')[0] ?? {}), {
      device: 'dongle0', imsi: null, imei: null, state: 'Not connected', registration: 'Unknown',
      signal: '0, <= -113 dBm', operator: null, queue: 0, ready: false,
    });
    assert.deepEqual(byEvent(msgs, 'DongleReport').map((r) => r.payload), ['gone-2']);
    // The login here had no ActionID: the response has none either.
    assert.deepEqual(plain(responses(msgs)[0]), { response: 'Success', message: 'Authentication accepted' });
  });
  it('burst: 51 responses, 50 reports burst-0…burst-49 in order', () => {
    const msgs = all('chan-dongle-burst.txt');
    assert.equal(responses(msgs).length, 51);
    assert.deepEqual(byEvent(msgs, 'DongleReport').map((r) => r.payload), Array.from({ length: 50 }, (_, i) => `burst-${i}`));
  });
});

describe('AmiFrameParser edge cases', () => {
  it('bare LF, a lone CR stays in the value, keys case-insensitive, first duplicate wins, Key: empty', () => {
    const msgs = parseAmiMessages('Asterisk Call Manager/9.0.0\nEvent: X\nFOO:   a\rb\nfoo: second\nEmpty:\nNoColonHere\n\n');
    assert.deepEqual(msgs.map(plain), [{ event: 'X', foo: 'a\rb', empty: '' }]);
  });
  it('stray blank lines between messages produce nothing', () => {
    assert.deepEqual(parseAmiMessages('\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n').map((m) => m.event), ['A', 'B']);
  });
  it('a banner-like line later in the stream is not a banner', () => {
    const p = new AmiFrameParser();
    p.push('Asterisk Call Manager/7.0.3\r\n');
    assert.deepEqual(p.push('Event: A\r\n\r\n').map(plain), [{ event: 'A' }]);
    assert.equal(p.banner, 'Asterisk Call Manager/7.0.3');
  });
  it('__proto__ and constructor keys are plain data', () => {
    const [m] = parseAmiMessages('Event: X\r\n__proto__: evil\r\nConstructor: c\r\n\r\n');
    assert.equal(m?.__proto__, 'evil');
    assert.equal(m?.constructor, 'c');
    assert.equal(({} as Record<string, unknown>).evil, undefined);
  });
  it('legacy Response: Follows collects output until --END COMMAND--, blank lines included', () => {
    const msgs = parseAmiMessages('Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nline: one\r\n\r\nline two--END COMMAND--\r\n\r\nEvent: After\r\n\r\n');
    assert.deepEqual(msgs.map(plain), [
      { response: 'Follows', privilege: 'Command', actionid: 'c1', content: 'line: one\n\nline two' },
      { event: 'After' },
    ]);
  });
  it('drops an over-long line but keeps the message and the stream in sync', () => {
    const p = new AmiFrameParser({ maxLineBytes: 16 });
    const got = [...p.push('Event: A\r\nBig: 0123456789'), ...p.push('0123456789\r\nAfter: ok\r\n\r\n')];
    assert.deepEqual(got.map(plain), [{ event: 'A', after: 'ok' }]);
    assert.equal(p.discardedLines, 1);
  });
});

describe('dongle-events classification', () => {
  it('device-side causes are retryable, message-side causes are not', () => {
    for (const r of ['[d0] Device disconnected', '[d0] Device not found', '[d0] Queue error', '[d0] SMSDB error',
      '[d0] Device disbaled', 'Permission denied', 'Invalid/unknown command: DongleSendSMS. Use Action: ListCommands']) {
      assert.equal(isRetryableSendError(r), true, r);
    }
    for (const r of ['[d0] Invalid phone number', '[d0] Cannot parse UTF-8', '[d0] Input too large', 'Message not specified']) {
      assert.equal(isRetryableSendError(r), false, r);
    }
  });
  it('detects the classic generation by ID: in the ack or SMSPDU: in the device entry', () => {
    assert.equal(detectGeneration({ response: 'Success', message: '[d0] SMS queued for send', id: '0x7f00' }), 'classic');
    assert.equal(detectGeneration({ event: 'DongleDeviceEntry', device: 'd0', smspdu: 'Yes' }), 'classic');
    assert.equal(detectGeneration({ response: 'Success', message: 'Authentication accepted' }), null);
  });
  it('sendable only when the state is alive and the SIM registered', () => {
    const entry = (state: string, reg: string) => toModemInfo({ event: 'DongleDeviceEntry', device: 'd', state, gsmregistrationstatus: reg })?.ready;
    assert.equal(entry('Free', 'Registered, roaming'), true);
    assert.equal(entry('SMS', 'Registered, home network'), true);
    assert.equal(entry('GSM not registered', 'Registered, home network'), false);
    assert.equal(entry('Free', 'Not registered, but searching'), false);
    assert.equal(entry('Stopped', 'Registered, home network'), false);
  });
  it('rejects a non-base64 inbound message instead of decoding junk', () => {
    assert.equal(toGatewayEvent({ event: 'DongleNewSMSBase64', device: 'd', from: 'x', message: 'not base64!' }), null);
  });
});
