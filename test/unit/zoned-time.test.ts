import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dayKey, isValidTimeZone, localDaysBetween, localParts, monthKey, startOfDay, startOfNextDay, startOfNextMonth, zonedInstant,
} from '../../src/scheduling/zoned-time.js';

const MSK = 'Europe/Moscow';
const BER = 'Europe/Berlin';
const iso = (d: Date): string => d.toISOString();

describe('isValidTimeZone', () => {
  const cases: Array<[unknown, boolean]> = [
    ['Europe/Moscow', true], ['Europe/Berlin', true], ['UTC', true], ['Asia/Vladivostok', true],
    ['Europe/Mordor', false], ['', false], ['  ', false], [null, false], [3, false], ['+03:00 garbage', false],
  ];
  for (const [tz, expected] of cases) it(`${JSON.stringify(tz)} → ${expected}`, () => assert.equal(isValidTimeZone(tz), expected));
});

describe('localParts', () => {
  const cases: Array<[string, string, { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number }]> = [
    // 21:00 UTC is local midnight in Moscow (UTC+3 all year).
    ['2026-11-30T20:59:59Z', MSK, { year: 2026, month: 11, day: 30, hour: 23, minute: 59, second: 59, weekday: 1 }],
    ['2026-11-30T21:00:00Z', MSK, { year: 2026, month: 12, day: 1, hour: 0, minute: 0, second: 0, weekday: 2 }],
    ['2026-12-31T21:00:00Z', MSK, { year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0, weekday: 5 }],
    // Berlin: CET (+1) before 2026-03-29 01:00 UTC, CEST (+2) after, CET again from 2026-10-25 01:00 UTC.
    ['2026-03-29T00:59:59Z', BER, { year: 2026, month: 3, day: 29, hour: 1, minute: 59, second: 59, weekday: 0 }],
    ['2026-03-29T01:00:00Z', BER, { year: 2026, month: 3, day: 29, hour: 3, minute: 0, second: 0, weekday: 0 }],
    ['2026-10-25T00:30:00Z', BER, { year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0, weekday: 0 }],
    ['2026-10-25T01:30:00Z', BER, { year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0, weekday: 0 }],
    ['2026-07-01T22:00:00Z', BER, { year: 2026, month: 7, day: 2, hour: 0, minute: 0, second: 0, weekday: 4 }],
  ];
  for (const [instant, tz, expected] of cases) {
    it(`${instant} in ${tz}`, () => assert.deepEqual(localParts(new Date(instant), tz), expected));
  }

  it('ignores milliseconds and does not round them up', () => {
    assert.equal(localParts(new Date('2026-11-30T20:59:59.999Z'), MSK).second, 59);
  });

  it('asked twice within a minute (the offset remembered), the fields equal Intl\'s: every 7.3 s across DST changes and midnights', () => {
    const intl = (d: Date, tz: string) => {
      const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
      const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
      const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!);
      return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour), minute: Number(p.minute), second: Number(p.second), weekday };
    };
    const spans: Array<[string, string]> = [
      ['2026-03-29T00:55:00Z', BER], ['2026-10-25T00:55:00Z', BER], ['2026-11-30T20:55:00Z', MSK],
      ['2026-03-08T09:55:00Z', 'America/New_York'], ['2026-04-05T15:25:00Z', 'Australia/Adelaide'], ['2026-12-31T18:25:00Z', 'Asia/Kathmandu'],
    ];
    for (const [from, tz] of spans) {
      for (let ms = Date.parse(from); ms < Date.parse(from) + 12 * 60_000; ms += 7_321) {
        const d = new Date(ms);
        assert.deepEqual(localParts(d, tz), intl(d, tz), `${d.toISOString()} in ${tz}`);
        assert.deepEqual(localParts(d, tz), intl(d, tz), `${d.toISOString()} in ${tz}, asked again`);
      }
    }
  });
});

describe('dayKey / monthKey: the ledger changes day at LOCAL midnight', () => {
  const cases: Array<[string, string, string, string]> = [
    ['2026-11-30T20:59:59.999Z', MSK, '2026-11-30', '2026-11'],
    ['2026-11-30T21:00:00Z', MSK, '2026-12-01', '2026-12'],
    ['2026-12-31T20:59:59Z', MSK, '2026-12-31', '2026-12'],
    ['2026-12-31T21:00:00Z', MSK, '2027-01-01', '2027-01'],
    ['2026-03-28T22:59:59Z', BER, '2026-03-28', '2026-03'],
    ['2026-03-28T23:00:00Z', BER, '2026-03-29', '2026-03'],
    ['2026-10-24T21:59:59Z', BER, '2026-10-24', '2026-10'],
    ['2026-10-24T22:00:00Z', BER, '2026-10-25', '2026-10'],
    ['2026-10-31T22:59:59Z', BER, '2026-10-31', '2026-10'],
    ['2026-10-31T23:00:00Z', BER, '2026-11-01', '2026-11'],
    ['2026-02-28T23:00:00Z', 'UTC', '2026-02-28', '2026-02'],
  ];
  for (const [instant, tz, day, month] of cases) {
    it(`${instant} in ${tz} → ${day}`, () => {
      assert.equal(dayKey(new Date(instant), tz), day);
      assert.equal(monthKey(new Date(instant), tz), month);
    });
  }
});

describe('zonedInstant', () => {
  const cases: Array<[string, { year: number; month: number; day: number; hour: number; minute: number; second?: number }, string, string]> = [
    ['ordinary Moscow time', { year: 2026, month: 11, day: 26, hour: 9, minute: 0 }, MSK, '2026-11-26T06:00:00.000Z'],
    ['local midnight of Dec 1 is 21:00 UTC of Nov 30', { year: 2026, month: 12, day: 1, hour: 0, minute: 0 }, MSK, '2026-11-30T21:00:00.000Z'],
    ['day 31 of November rolls over to Dec 1', { year: 2026, month: 11, day: 31, hour: 0, minute: 0 }, MSK, '2026-11-30T21:00:00.000Z'],
    ['month 13 rolls over to January', { year: 2026, month: 13, day: 1, hour: 0, minute: 0 }, MSK, '2026-12-31T21:00:00.000Z'],
    ['Berlin winter', { year: 2026, month: 1, day: 15, hour: 9, minute: 0 }, BER, '2026-01-15T08:00:00.000Z'],
    ['Berlin summer', { year: 2026, month: 7, day: 15, hour: 9, minute: 0 }, BER, '2026-07-15T07:00:00.000Z'],
    ['with seconds', { year: 2026, month: 7, day: 15, hour: 9, minute: 0, second: 30 }, BER, '2026-07-15T07:00:30.000Z'],
    // 2026-03-29 in Berlin the clock jumps 02:00 CET → 03:00 CEST: 02:00–02:59 never happen;
    // they map to the jump itself, the first instant the clock shows that time or later.
    ['spring gap 02:30 → the jump (03:00 CEST)', { year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, BER, '2026-03-29T01:00:00.000Z'],
    ['spring gap 02:00 → the jump', { year: 2026, month: 3, day: 29, hour: 2, minute: 0 }, BER, '2026-03-29T01:00:00.000Z'],
    ['01:59 before the gap is ordinary', { year: 2026, month: 3, day: 29, hour: 1, minute: 59 }, BER, '2026-03-29T00:59:00.000Z'],
    ['03:00 after the gap is ordinary', { year: 2026, month: 3, day: 29, hour: 3, minute: 0 }, BER, '2026-03-29T01:00:00.000Z'],
    // 2026-10-25 the clock goes 03:00 CEST → 02:00 CET: 02:00–02:59 happen twice; the first wins.
    ['autumn overlap 02:30 → the first (CEST)', { year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, BER, '2026-10-25T00:30:00.000Z'],
    ['autumn overlap 02:00 → the first (CEST)', { year: 2026, month: 10, day: 25, hour: 2, minute: 0 }, BER, '2026-10-25T00:00:00.000Z'],
    ['03:00 after the overlap is CET', { year: 2026, month: 10, day: 25, hour: 3, minute: 0 }, BER, '2026-10-25T02:00:00.000Z'],
    // Chile starts DST at midnight: 2026-09-06 00:00 does not exist, the day starts at 01:00 (-03).
    ['a day that starts at 01:00 (Santiago)', { year: 2026, month: 9, day: 6, hour: 0, minute: 0 }, 'America/Santiago', '2026-09-06T04:00:00.000Z'],
  ];
  for (const [name, wall, tz, expected] of cases) it(name, () => assert.equal(iso(zonedInstant(wall, tz)), expected));

  it('round-trips every hour of a DST year in Berlin except the skipped ones', () => {
    for (let h = 0; h < 366 * 24; h++) {
      const instant = new Date(Date.UTC(2026, 0, 1) + h * 3_600_000);
      const p = localParts(instant, BER);
      const back = zonedInstant(p, BER);
      // In the autumn overlap the second 02:xx maps back to the first one, an hour earlier.
      const diff = instant.getTime() - back.getTime();
      assert.ok(diff === 0 || (diff === 3_600_000 && p.month === 10 && p.hour === 2), `${instant.toISOString()} → ${back.toISOString()}`);
    }
  });
});

describe('startOfNextDay / startOfNextMonth / startOfDay', () => {
  const cases: Array<[string, string, string, string, string]> = [
    // instant, tz, start of its day, start of next day, start of next month
    ['2026-11-30T20:59:59Z', MSK, '2026-11-29T21:00:00.000Z', '2026-11-30T21:00:00.000Z', '2026-11-30T21:00:00.000Z'],
    ['2026-11-30T21:00:00Z', MSK, '2026-11-30T21:00:00.000Z', '2026-12-01T21:00:00.000Z', '2026-12-31T21:00:00.000Z'],
    ['2026-12-31T12:00:00Z', MSK, '2026-12-30T21:00:00.000Z', '2026-12-31T21:00:00.000Z', '2026-12-31T21:00:00.000Z'],
    // The spring-forward day in Berlin is 23 hours long, the autumn one 25.
    ['2026-03-28T23:30:00Z', BER, '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-31T22:00:00.000Z'],
    ['2026-10-25T12:00:00Z', BER, '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', '2026-10-31T23:00:00.000Z'],
    ['2026-03-15T12:00:00Z', BER, '2026-03-14T23:00:00.000Z', '2026-03-15T23:00:00.000Z', '2026-03-31T22:00:00.000Z'],
  ];
  for (const [instant, tz, dayStart, nextDay, nextMonth] of cases) {
    it(`${instant} in ${tz}`, () => {
      const d = new Date(instant);
      assert.equal(iso(startOfDay(d, tz)), dayStart);
      assert.equal(iso(startOfNextDay(d, tz)), nextDay);
      assert.equal(iso(startOfNextMonth(d, tz)), nextMonth);
    });
  }
});

describe('localDaysBetween', () => {
  const cases: Array<[string, string, string, number]> = [
    ['2026-11-30T06:00:00Z', '2026-11-30T20:59:59Z', MSK, 0],
    ['2026-11-30T06:00:00Z', '2026-11-30T21:00:00Z', MSK, 1],
    ['2026-11-30T20:59:00Z', '2026-11-30T21:01:00Z', MSK, 1],
    ['2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z', BER, 2],
    ['2026-03-30T12:00:00Z', '2026-03-28T12:00:00Z', BER, -2],
  ];
  for (const [a, b, tz, expected] of cases) it(`${a} → ${b}: ${expected}`, () => assert.equal(localDaysBetween(new Date(a), new Date(b), tz), expected));
});
