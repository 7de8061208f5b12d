/**
 * No phone number or SMS text in the log at info and above (152-FZ): the logger masks them under any
 * key and inside strings; the DongleGateway on the simulator logs none while SMS come and go.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, maskLogLine } from '../../src/logger.js';
import type { GatewayEvent } from '../../src/modems/sms-gateway.js';
import { harness } from '../helpers/ami-harness.js';

const DIGITS = '9161234567';

function capture(level = 'info') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

function assertClean(lines: string[], secrets: string[]): void {
  assert.ok(lines.length > 0, 'nothing was logged');
  for (const line of lines) {
    JSON.parse(line); // still valid JSON
    for (const s of secrets) assert.ok(!line.includes(s), `${JSON.stringify(s)} leaked: ${line}`);
  }
}

describe('logger: nothing personal at info and above', () => {
  it('masks numbers and hides texts under any key, nested, in the message and in errors', () => {
    const { log, lines } = capture();
    log.info({ from: '+79161234567', text: 'СТОП', number: '89161234567', nested: { phone: '+79161234567' } }, 'sent to +79161234567');
    log.info({ deep: { deeper: { to: '+79161234567', note: 'call 8 (916) 123-45-67', body: 'СТОП' } } }, 'x');
    log.warn({ event: 'x', url: '/api/contacts?phone=%2B79161234567&q=9161234567' }, 'page failed');
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint'), { detail: 'Key (phone)=(+79161234567) already exists.' });
    log.error({ err: pgError }, 'insert failed');
    log.error({ error: pgError }, 'insert failed');
    log.error(new Error('no route to 79161234567'));
    log.info({ count: 79161234567, time2: 1795668936123 }, 'numbers as numbers');
    log.info('formatted %s and %j', '+79161234567', { a: '+7 916 123 45 67' });
    // An AMI message logged as is: only its technical fields survive.
    log.warn({ event: 'ami.unexpected', frame: { event: 'DongleNewSMS', device: 'dongle0', from: '+79161234567', messageline0: 'СТОП', linecount: '1' } }, 'odd');
    log.warn({ event: 'ami.unexpected', frame: { Event: 'DongleNewSMSBase64', Device: 'dongle0', Message: Buffer.from('СТОП').toString('base64') } }, 'odd');
    log.warn({ action: { Action: 'DongleSendSMS', Device: 'dongle0', Number: '+79161234567', Message: 'СТОП', Payload: 'msg-1' } }, 'odd');
    log.child({ component: 'c', to: '+79161234567', who: 'абонент 89161234567' }).info('child bindings');
    assertClean(lines, [DIGITS, 'СТОП', '0KHQotCe0J8=', '123-45-67', '916 123 45 67']);
    if (process.env.SHOW_LOG) console.log(lines.join(''));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Masked, not gone: support can still tell numbers apart; technical fields stay.
    assert.equal(parsed[0]?.from, '+7916***67');
    assert.equal(parsed[0]?.number, '8916***67');
    assert.equal(parsed[0]?.msg, 'sent to +7916***67');
    assert.equal(parsed[0]?.text, '[4 симв.]');
    assert.deepEqual(parsed[8]?.frame, { event: 'DongleNewSMS', device: 'dongle0', from: '+7916***67', messageline0: '[4 симв.]', linecount: '1' });
    assert.deepEqual((parsed[10]?.action as Record<string, unknown>).Payload, 'msg-1');
    assert.equal(parsed[2]?.url, '/api/contacts?phone=+7916***67&q=9161***67');
    assert.equal(parsed[6]?.time2, 1795668936123);
    assert.equal((parsed[3]?.err as { message?: string }).message, 'duplicate key value violates unique constraint');
  });

  it('an alphanumeric sender stays readable; short codes and ids are not mistaken for numbers', () => {
    const { log, lines } = capture();
    log.info({ from: 'MegaFon', device: 'dongle0', messageId: '0b8d6f2c-1c7e-4a53-9d0e-781234567890', port: 5038 }, 'inbound from 900');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.deepEqual([line.from, line.messageId, line.port, line.msg], ['MegaFon', '0b8d6f2c-1c7e-4a53-9d0e-781234567890', 5038, 'inbound from 900']);
  });

  it('debug keeps free-text detail (admins turn it on knowingly); keys are still redacted', () => {
    const { log, lines } = capture('debug');
    log.debug({ to: '+79161234567', text: 'СТОП', note: 'to +79161234567' }, 'debug +79161234567');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.deepEqual([line.to, line.text, line.note, line.msg], ['+7916***67', '[4 симв.]', 'to +79161234567', 'debug +79161234567']);
  });

  it('maskLogLine leaves valid JSON and non-pino text safe', () => {
    assert.equal(maskLogLine('plain +79161234567\n'), 'plain +7916***67\n');
    assert.equal(maskLogLine('{"level":20,"msg":"+79161234567"}\n'), '{"level":20,"msg":"+79161234567"}\n');
    assert.equal(maskLogLine('{"level":30,"msg":"+79161234567"}\n'), '{"level":30,"msg":"+7916***67"}\n');
  });
});

describe('DongleGateway + simulator at info: no numbers or texts in the log', () => {
  it('an inbound SMS arrives and SMS are sent (one refused, one failing) without a number or text logged', { timeout: 8000 }, async (t) => {
    const { log, lines } = capture('info');
    const { gw, sim, events } = await harness(t, {}, {}, { log });
    const isReport = (id: string) => (e: GatewayEvent) => e.type === 'report' && e.messageId === id;
    sim.injectIncomingSms('dongle0', '+79161234567', 'Ответ: СТОП\nвторая строка');
    sim.injectIncomingSms('dongle1', '89161234568', 'Длинный ответ абонента. '.repeat(5));
    await events.waitFor((e) => e.type === 'inbound-sms' && e.device === 'dongle1');
    assert.deepEqual(await gw.submit({ messageId: 'm-1', device: 'dongle0', to: '+79161234567', text: 'Привет, Анна! Скидка' }), { kind: 'queued' });
    sim.failNumbers.add('+79161234569');
    await gw.submit({ messageId: 'm-2', device: 'dongle1', to: '+79161234569', text: 'Привет, Анна! Скидка' });
    await gw.submit({ messageId: 'm-3', device: 'dongle0', to: '+7916123456x', text: 'Привет, Анна! Скидка' });
    await gw.submit({ messageId: 'm-4', device: 'dongle0', to: '+79161234567', text: 'Я'.repeat(600) });
    await events.waitFor(isReport('m-1'));
    await events.waitFor(isReport('m-2'));
    assertClean(lines, [DIGITS, '916123456', 'СТОП', 'вторая строка', 'Длинный ответ', 'Анна', 'ЯЯЯ']);
    assert.ok(lines.some((l) => l.includes('send.refused')), 'the refused sends are still logged');
  });
});
