import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isAllDay, isInsideWindow, nextWindowOpen, parseWindow, windowClosesAt, type SendingWindow,
} from '../../src/scheduling/sending-window.js';

const MSK = 'Europe/Moscow';
const BER = 'Europe/Berlin';
const day: SendingWindow = { from: '09:00', to: '21:00' };
const night: SendingWindow = { from: '22:00', to: '06:00' };
const allDay: SendingWindow = { from: '00:00', to: '00:00' };
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

describe('parseWindow', () => {
  const good: Array<[unknown, SendingWindow]> = [
    [{ from: '09:00', to: '21:00' }, { from: '09:00', to: '21:00' }],
    [{ from: '9:00', to: '21:30' }, { from: '09:00', to: '21:30' }],
    [{ from: ' 22:00 ', to: '06:00' }, { from: '22:00', to: '06:00' }],
    [{ from: '00:00', to: '00:00' }, { from: '00:00', to: '00:00' }],
    [{ from: '09:00', to: '00:00', extra: 1 }, { from: '09:00', to: '00:00' }],
  ];
  for (const [input, expected] of good) it(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(parseWindow(input), expected));

  const bad: Array<[unknown, RegExp]> = [
    [null, /Окно отправки задаётся/],
    ['09:00-21:00', /Окно отправки задаётся/],
    [[], /Окно отправки задаётся/],
    [{ to: '21:00' }, /с какого времени/],
    [{ from: '09:00' }, /до какого времени/],
    [{ from: '09:00', to: 21 }, /до какого времени/],
    [{ from: '9', to: '21:00' }, /Начало окна отправки «9» — не время/],
    [{ from: '09:00', to: '21:60' }, /Конец окна отправки «21:60» — не время/],
    [{ from: '25:00', to: '21:00' }, /Начало окна отправки «25:00»/],
    [{ from: '09:00', to: '24:00' }, /Полночь пишется как 00:00/],
    [{ from: '09.00', to: '21:00' }, /не время/],
  ];
  for (const [input, problem] of bad) {
    it(`rejects ${JSON.stringify(input)} in Russian`, () => {
      const r = parseWindow(input);
      assert.equal(typeof r, 'string');
      assert.match(r as string, problem);
    });
  }
});

describe('isInsideWindow (from inclusive, to exclusive, local time)', () => {
  const cases: Array<[string, SendingWindow, string, boolean]> = [
    // Moscow is UTC+3: 09:00 local = 06:00 UTC, 21:00 local = 18:00 UTC.
    ['2026-11-26T05:59:59Z', day, MSK, false],
    ['2026-11-26T06:00:00Z', day, MSK, true],
    ['2026-11-26T17:59:59Z', day, MSK, true],
    ['2026-11-26T18:00:00Z', day, MSK, false],
    ['2026-11-26T20:59:00Z', day, MSK, false],
    // Crossing midnight: 22:00–06:00 local.
    ['2026-11-26T18:59:59Z', night, MSK, false],
    ['2026-11-26T19:00:00Z', night, MSK, true],
    ['2026-11-26T21:00:00Z', night, MSK, true],
    ['2026-11-27T02:59:59Z', night, MSK, true],
    ['2026-11-27T03:00:00Z', night, MSK, false],
    ['2026-11-27T12:00:00Z', night, MSK, false],
    // All day.
    ['2026-11-26T21:00:00Z', allDay, MSK, true],
    ['2026-11-26T12:34:56Z', { from: '13:00', to: '13:00' }, MSK, true],
    // Berlin follows its wall clock in summer (UTC+2) and winter (UTC+1).
    ['2026-07-01T07:00:00Z', day, BER, true],
    ['2026-07-01T06:59:00Z', day, BER, false],
    ['2026-01-15T07:30:00Z', day, BER, false],
    ['2026-01-15T08:00:00Z', day, BER, true],
    ['2026-01-15T19:59:00Z', day, BER, true],
    ['2026-01-15T20:00:00Z', day, BER, false],
  ];
  for (const [instant, w, tz, expected] of cases) {
    it(`${instant} ${w.from}–${w.to} ${tz} → ${expected}`, () => assert.equal(isInsideWindow(new Date(instant), w, tz), expected));
  }
});

describe('nextWindowOpen and windowClosesAt', () => {
  const cases: Array<[string, string, SendingWindow, string, string, string | null]> = [
    // name, now, window, tz, next open, closes at
    ['inside: now, closes tonight', '2026-11-26T10:00:00Z', day, MSK, '2026-11-26T10:00:00.000Z', '2026-11-26T18:00:00.000Z'],
    ['early morning: opens today', '2026-11-26T03:00:00Z', day, MSK, '2026-11-26T06:00:00.000Z', '2026-11-26T18:00:00.000Z'],
    ['evening: opens tomorrow', '2026-11-26T18:00:00Z', day, MSK, '2026-11-27T06:00:00.000Z', '2026-11-27T18:00:00.000Z'],
    ['just after local midnight: opens the same local day', '2026-11-26T21:00:00Z', day, MSK, '2026-11-27T06:00:00.000Z', '2026-11-27T18:00:00.000Z'],
    ['month boundary: Nov 30 evening → Dec 1', '2026-11-30T19:00:00Z', day, MSK, '2026-12-01T06:00:00.000Z', '2026-12-01T18:00:00.000Z'],
    ['year boundary', '2026-12-31T20:00:00Z', day, MSK, '2027-01-01T06:00:00.000Z', '2027-01-01T18:00:00.000Z'],
    ['night window, daytime: opens at 22:00 today', '2026-11-26T12:00:00Z', night, MSK, '2026-11-26T19:00:00.000Z', '2026-11-27T03:00:00.000Z'],
    ['night window, before midnight: closes tomorrow 06:00', '2026-11-26T20:00:00Z', night, MSK, '2026-11-26T20:00:00.000Z', '2026-11-27T03:00:00.000Z'],
    ['night window, after midnight: closes today 06:00', '2026-11-26T23:00:00Z', night, MSK, '2026-11-26T23:00:00.000Z', '2026-11-27T03:00:00.000Z'],
    ['all day: now, never closes', '2026-11-26T23:00:00Z', allDay, MSK, '2026-11-26T23:00:00.000Z', null],
    // Berlin, spring forward 2026-03-29 (02:00 CET → 03:00 CEST).
    ['Berlin: Saturday evening → Sunday 09:00 CEST', '2026-03-28T21:00:00Z', day, BER, '2026-03-29T07:00:00.000Z', '2026-03-29T19:00:00.000Z'],
    ['Berlin: window opening in the gap opens at the jump', '2026-03-29T00:00:00Z', { from: '02:30', to: '06:00' }, BER, '2026-03-29T01:00:00.000Z', '2026-03-29T04:00:00.000Z'],
    ['Berlin: a window swallowed by the gap opens the next day', '2026-03-28T23:30:00Z', { from: '02:00', to: '02:30' }, BER, '2026-03-30T00:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    ['Berlin: night window across the spring jump', '2026-03-28T12:00:00Z', night, BER, '2026-03-28T21:00:00.000Z', '2026-03-29T04:00:00.000Z'],
    // Berlin, fall back 2026-10-25 (03:00 CEST → 02:00 CET).
    ['Berlin: Saturday evening → Sunday 09:00 CET', '2026-10-24T20:00:00Z', day, BER, '2026-10-25T08:00:00.000Z', '2026-10-25T20:00:00.000Z'],
    ['Berlin: night window across the autumn jump', '2026-10-24T12:00:00Z', night, BER, '2026-10-24T20:00:00.000Z', '2026-10-25T05:00:00.000Z'],
  ];
  for (const [name, now, w, tz, open, close] of cases) {
    it(name, () => {
      const n = new Date(now);
      const o = nextWindowOpen(n, w, tz);
      assert.equal(iso(o), open);
      assert.ok(isInsideWindow(o, w, tz), 'the window is open at the instant it opens');
      assert.equal(iso(windowClosesAt(n, w, tz)), close);
    });
  }

  it('returns the very same instant when inside', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    assert.equal(nextWindowOpen(now, day, MSK), now);
  });

  it('isAllDay', () => {
    assert.equal(isAllDay(allDay), true);
    assert.equal(isAllDay({ from: '09:00', to: '09:00' }), true);
    assert.equal(isAllDay(day), false);
  });
});
