import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisePhone } from '../../src/lists/phone.js';
import {
  DialplanCounters, fieldValueProblem, isRepeat, localTime, parseKeepWindow, parseNotifyEvent, phoneOutcome,
  renderNotification, templateNamePattern, windowDecision,
} from '../../src/notifications/notification-policy.js';

const MSK = 'Europe/Moscow';
const day = { from: '09:00', to: '21:00' };
// 2026-12-03 12:00 MSK and 23:30 MSK.
const noon = new Date('2026-12-03T09:00:00Z');
const night = new Date('2026-12-03T20:30:00Z');

describe('parseNotifyEvent', () => {
  it('takes Phone and Template; every other header is a field', () => {
    const parsed = parseNotifyEvent({ phone: '+79161234567', template: 'missed-call', called: '201', callername: 'Анна' });
    assert.deepEqual(parsed.ok && { ...parsed, fields: { ...parsed.fields } }, {
      ok: true, phone: '+79161234567', template: 'missed-call', fields: { called: '201', callername: 'Анна' },
    });
  });

  it('refuses an event without Phone or Template, or with a bad template name', () => {
    assert.deepEqual(parseNotifyEvent({ template: 'x' }), { ok: false, problem: 'no-phone', detail: '' });
    assert.deepEqual(parseNotifyEvent({ phone: '+79161234567', template: ' ' }), { ok: false, problem: 'no-template', detail: '' });
    const bad = parseNotifyEvent({ phone: '+79161234567', template: 'Missed_Call' });
    assert.equal(bad.ok === false && bad.problem, 'bad-template-name');
  });

  it('refuses long values and control characters instead of cutting or stripping them', () => {
    const long = parseNotifyEvent({ phone: '+79161234567', template: 'a', called: 'x'.repeat(5000) });
    assert.equal(long.ok === false && long.problem, 'too-long');
    for (const c of ['\u0007', '\u001b[2J', '\t', '\u0085', '\u007f']) {
      const r = parseNotifyEvent({ phone: '+79161234567', template: 'a', called: `2${c}01` });
      assert.equal(r.ok === false && r.problem, 'control-characters', JSON.stringify(c));
    }
    assert.equal(parseNotifyEvent({ phone: '+7916\u00071234567', template: 'a' }).ok, false);
  });

  it('refuses too many fields', () => {
    const headers: Record<string, string> = { phone: '+79161234567', template: 'a' };
    for (let i = 0; i < 51; i++) headers[`f${i}`] = 'x';
    const r = parseNotifyEvent(headers);
    assert.equal(r.ok === false && r.problem, 'too-many-fields');
  });
});

describe('fieldValueProblem', () => {
  it('allows line breaks only where asked (API fields)', () => {
    assert.equal(fieldValueProblem('a\nb'), 'control-characters');
    assert.equal(fieldValueProblem('a\nb', { newlines: true }), null);
    assert.equal(fieldValueProblem('a\rb', { newlines: true }), 'control-characters');
    assert.equal(fieldValueProblem('x'.repeat(500)), null);
    assert.equal(fieldValueProblem('x'.repeat(501)), 'too-long');
  });
});

describe('renderNotification', () => {
  it('fills fields case-insensitively and adds {{time}} in the office time zone', () => {
    const r = renderNotification('Вы звонили на {{Called}} в {{time}}, {{CallerName}}', { called: '201', callername: 'Анна' }, noon, MSK);
    assert.deepEqual(r, { ok: true, text: 'Вы звонили на 201 в 12:00, Анна' });
    assert.equal(localTime(new Date('2026-12-03T06:05:00Z'), MSK), '09:05');
  });

  it('given fields win over time', () => {
    assert.deepEqual(renderNotification('{{time}}', { time: 'завтра' }, noon, MSK), { ok: true, text: 'завтра' });
  });

  it('refuses a text with a hole and a broken template', () => {
    const r = renderNotification('Вы звонили на {{Called}}', {}, noon, MSK);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.problem : '', /\{\{Called\}\}/);
    assert.equal(renderNotification('{{Called}', { called: '1' }, noon, MSK).ok, false);
  });
});

describe('phoneOutcome', () => {
  it('a landline is its own outcome; other junk is invalid', () => {
    assert.deepEqual(phoneOutcome(normalisePhone('+74951234567')), { ok: false, outcome: 'landline' });
    assert.deepEqual(phoneOutcome(normalisePhone('84951234567')), { ok: false, outcome: 'landline' });
    assert.deepEqual(phoneOutcome(normalisePhone('201')), { ok: false, outcome: 'invalid-phone' });
    assert.deepEqual(phoneOutcome(normalisePhone('89161234567')), { ok: true, phone: '+79161234567' });
  });
});

describe('isRepeat', () => {
  it('within the guard only; 0 minutes means no guard', () => {
    const at = new Date('2026-12-03T09:00:00Z');
    assert.equal(isRepeat(null, at, 1440), false);
    assert.equal(isRepeat(new Date(at.getTime() - 1439 * 60_000), at, 1440), true);
    assert.equal(isRepeat(new Date(at.getTime() - 1440 * 60_000), at, 1440), false);
    assert.equal(isRepeat(at, at, 0), false);
  });
});

describe('windowDecision and keepWindow', () => {
  it('maps each choice to the claim flag; drop skips only outside the window', () => {
    const facts = (now: Date) => ({ now, window: day, timeZone: MSK });
    assert.deepEqual(windowDecision('setting', facts(night)), { action: 'queue', keepWindow: null });
    assert.deepEqual(windowDecision('any', facts(night)), { action: 'queue', keepWindow: false });
    assert.deepEqual(windowDecision('queue', facts(night)), { action: 'queue', keepWindow: true });
    assert.deepEqual(windowDecision('drop', facts(night)), { action: 'drop' });
    assert.deepEqual(windowDecision('drop', facts(noon)), { action: 'queue', keepWindow: true });
  });

  it('parses keepWindow, booleans included', () => {
    assert.equal(parseKeepWindow(true), 'queue');
    assert.equal(parseKeepWindow(false), 'any');
    assert.equal(parseKeepWindow('drop'), 'drop');
    assert.equal(parseKeepWindow('later'), null);
    assert.equal(parseKeepWindow(1), null);
  });
});

describe('template names and counters', () => {
  it('names', () => {
    for (const ok of ['missed-call', 'a', '0-9', 'x'.repeat(64)]) assert.ok(templateNamePattern.test(ok), ok);
    for (const bad of ['', '-a', 'A', 'a_b', 'x'.repeat(65), 'а']) assert.ok(!templateNamePattern.test(bad), bad);
  });

  it('counts by outcome', () => {
    const c = new DialplanCounters();
    c.add('queued');
    c.add('malformed');
    c.add('malformed');
    const s = c.snapshot();
    assert.equal(s.queued, 1);
    assert.equal(s.malformed, 2);
    assert.equal(s.repeat, 0);
    assert.equal(s.total, 3);
  });
});
