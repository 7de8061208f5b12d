import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeForecast, forecastFinish, type ForecastInput, type ForecastSim } from '../../src/scheduling/forecast.js';
import { pluralRu } from '../../src/i18n/scheduling-words.js';
import { dayKey } from '../../src/scheduling/zoned-time.js';

const MSK = 'Europe/Moscow';
const BER = 'Europe/Berlin';
const window = { from: '09:00', to: '21:00' };
const sim = (over: Partial<ForecastSim> = {}): ForecastSim => ({
  dailyLimit: 100, monthlyLimit: 3000, usedToday: 0, usedThisMonth: 0,
  minPauseSeconds: 20, maxPauseSeconds: 40, sendSeconds: 5, enabled: true, ...over,
});
const ones = (n: number): number[] => Array.from({ length: n }, () => 1);
/** One SIM's k-th message (0-based) of a day starts k cycles (30 s mean pause + 5 s send) after the window opens and ends 5 s later. */
const endOfNth = (opensAtIso: string, k: number, cycleSeconds = 35, sendSeconds = 5): string =>
  new Date(new Date(opensAtIso).getTime() + (k * cycleSeconds + sendSeconds) * 1000).toISOString();

describe('forecastFinish', () => {
  // Monday 2026-11-23 09:00 Moscow = 06:00 UTC.
  const monday9 = new Date('2026-11-23T06:00:00Z');
  const base = (over: Partial<ForecastInput>): ForecastInput => ({
    now: monday9, timeZone: MSK, window, sims: [sim(), sim(), sim()], remainingParts: ones(1000), ...over,
  });

  const cases: Array<[string, ForecastInput, string | null, string | null]> = [
    // 3 SIMs × 100 a day = 300 a day: Mon, Tue, Wed 300 each, Thu the last 100 — 34 on the first
    // SIM (33 on the others), its 34th ending 33 cycles + 5 s after 09:00: Thu 09:19:20 Moscow.
    ['1000 messages, 3 SIMs, 100/day, window 09–21: Thursday morning', base({}), endOfNth('2026-11-26T06:00:00Z', 33), null],
    // Started at 15:00 with 40 parts of each SIM's day gone: Mon 60×3 = 180, Tue–Wed 600, Thu the
    // last 220 (74 + 73 + 73).
    ['started mid-day with part of the day used', base({ now: new Date('2026-11-23T12:00:00Z'), sims: [sim({ usedToday: 40 }), sim({ usedToday: 40 }), sim({ usedToday: 40 })] }), endOfNth('2026-11-26T06:00:00Z', 73), null],
    // 2 usable SIMs: 200 a day, five days, 100 each on Friday.
    ['one SIM disabled: Friday', base({ sims: [sim(), sim({ enabled: false }), sim()] }), endOfNth('2026-11-27T06:00:00Z', 99), null],
    // Friday Nov 27 with 100 parts left of each SIM's month: 300 on Friday, nothing Sat–Mon
    // (the month is used up), then Dec 1–2 300 each and the last 100 on Thursday Dec 3.
    ['monthly limit binding: waits for December', base({ now: new Date('2026-11-27T06:00:00Z'), sims: [sim({ usedThisMonth: 2900 }), sim({ usedThisMonth: 2900 }), sim({ usedThisMonth: 2900 })] }), endOfNth('2026-12-03T06:00:00Z', 33), null],
    // Without the window a day's 100 go right away from local midnight: Mon from 22:00, then
    // Tue, Wed, and Thu the last 100 from 00:00 Moscow (Wed 21:00 UTC).
    ['ignoring the window, started at 22:00', base({ now: new Date('2026-11-23T19:00:00Z'), window: null }), endOfNth('2026-11-25T21:00:00Z', 33), null],
    // The same start with the window: nothing until Tue 09:00, finishing on Friday.
    ['with the window, started at 22:00', base({ now: new Date('2026-11-23T19:00:00Z') }), endOfNth('2026-11-27T06:00:00Z', 33), null],
    // The rest of today: at 20:30 each SIM can start 52 messages before 21:00 (0…51 × 35 s < 30 min).
    ['100 messages at 20:30 fit in the rest of today', base({ now: new Date('2026-11-23T17:30:00Z'), remainingParts: ones(100) }), endOfNth('2026-11-23T17:30:00Z', 33), null],
    // 157 > 3 × 52: one message spills into tomorrow morning.
    ['157 messages at 20:30: the last one tomorrow at 09:00', base({ now: new Date('2026-11-23T17:30:00Z'), remainingParts: ones(157) }), endOfNth('2026-11-24T06:00:00Z', 0), null],
    // A message starts before 21:00 and may end after it: 20:59:58 + 5 s.
    ['a message starting at 20:59:58 ends after the window closed', base({ now: new Date('2026-11-23T17:59:58Z'), remainingParts: [1] }), '2026-11-23T18:00:03.000Z', null],
    // Two-part messages: 50 a day per SIM, 150 a day.
    ['two-part messages count double against the limits', base({ remainingParts: Array.from({ length: 400 }, () => 2) }), endOfNth('2026-11-25T06:00:00Z', 33), null],
    // A SIM in its pause (or resting) starts later.
    ['a SIM that may send only from 09:10', base({ sims: [sim({ nextSendAt: new Date('2026-11-23T06:10:00Z') })], remainingParts: ones(2) }), endOfNth('2026-11-23T06:10:00Z', 1), null],
    ['nothing left: finished now', base({ remainingParts: [] }), '2026-11-23T06:00:00.000Z', null],
    ['no SIMs at all', base({ sims: [] }), null, 'no-sims'],
    ['every SIM disabled', base({ sims: [sim({ enabled: false }), sim({ enabled: false })] }), null, 'no-sims'],
    ['a message longer than any daily limit', base({ sims: [sim({ dailyLimit: 5 })], remainingParts: [1, 7, 1] }), null, 'message-too-long'],
    ['a monthly limit of 0', base({ sims: [sim({ monthlyLimit: 0 })] }), null, 'message-too-long'],
    ['beyond three years', base({ sims: [sim({ dailyLimit: 1 })], remainingParts: ones(2000) }), null, 'too-far'],
  ];
  for (const [name, input, finishAt, problem] of cases) {
    it(name, () => {
      const f = forecastFinish(input);
      assert.equal(f.finishAt?.toISOString() ?? null, finishAt);
      assert.equal(f.problem, problem);
    });
  }

  it('finishes on the forecast DAY of the 1000/3/100 scenario (Thursday in Moscow)', () => {
    const f = forecastFinish(base({}));
    assert.equal(f.finishAt && dayKey(f.finishAt, MSK), '2026-11-26');
    assert.equal(f.startAt?.toISOString(), monday9.toISOString());
  });

  it('starts at the next window opening, not now, when the window is closed', () => {
    const f = forecastFinish(base({ now: new Date('2026-11-23T03:00:00Z'), remainingParts: ones(1) }));
    assert.equal(f.startAt?.toISOString(), '2026-11-23T06:00:00.000Z');
  });

  it('resets the daily budget at LOCAL midnight, across the Berlin spring-forward day', () => {
    // Sat 2026-03-28 09:00 CET, 1 SIM 100/day, 250 messages: Sat 100, Sun 100 (09:00 CEST = 07:00 UTC), Mon 50.
    const f = forecastFinish({
      now: new Date('2026-03-28T08:00:00Z'), timeZone: BER, window, sims: [sim()], remainingParts: ones(250),
    });
    assert.equal(f.finishAt?.toISOString(), endOfNth('2026-03-30T07:00:00Z', 49));
    // Without the window: Sat from 09:00 CET, Sun from 00:00 CET (Sat 23:00 UTC), Mon from 00:00 CEST (Sun 22:00 UTC).
    const g = forecastFinish({
      now: new Date('2026-03-28T08:00:00Z'), timeZone: BER, window: null, sims: [sim()], remainingParts: ones(250),
    });
    assert.equal(g.finishAt?.toISOString(), endOfNth('2026-03-29T22:00:00Z', 49));
  });

  it('a night window crossing midnight is one window split by the daily reset', () => {
    // Mon 12:00 Moscow, window 22:00–06:00, 1 SIM 100/day, 150 messages: 100 from Mon 22:00
    // (done 22:58), the day's budget resets at 00:00, the other 50 from 00:00 Tuesday.
    const f = forecastFinish({
      now: new Date('2026-11-23T09:00:00Z'), timeZone: MSK, window: { from: '22:00', to: '06:00' }, sims: [sim()], remainingParts: ones(150),
    });
    assert.equal(f.finishAt?.toISOString(), endOfNth('2026-11-23T21:00:00Z', 49));
  });

  it('reaches an answer for 100 000 messages over 16 SIMs', () => {
    const f = forecastFinish(base({ sims: Array.from({ length: 16 }, () => sim({ monthlyLimit: 1e9 })), remainingParts: ones(100_000) }));
    assert.ok(f.finishAt);
  });
});

describe('describeForecast', () => {
  // Tuesday 2026-11-24 12:00 Moscow.
  const now = new Date('2026-11-24T09:00:00Z');
  const msk = (local: string): Date => new Date(`${local}+03:00`);
  const cases: Array<[string, Date | null, string]> = [
    ['two days', msk('2026-11-26T14:20:00'), '≈ 2 дня, окончание чт 14:20'],
    ['forty minutes', msk('2026-11-24T12:40:00'), '≈ 40 мин, окончание сегодня 12:40'],
    ['later today', msk('2026-11-24T15:10:00'), 'сегодня до 15:10'],
    ['under a minute', msk('2026-11-24T12:00:20'), 'меньше минуты, окончание сегодня 12:01'],
    ['tomorrow, under a day', msk('2026-11-25T10:00:00'), '≈ 22 ч, окончание завтра 10:00'],
    ['tomorrow, over a day', msk('2026-11-25T13:00:00'), '≈ 1 день, окончание завтра 13:00'],
    ['five days', msk('2026-11-29T14:20:00'), '≈ 5 дней, окончание вс 14:20'],
    ['over a week: with the date', msk('2026-12-15T12:00:00'), '≈ 21 день, окончание вт 15.12 12:00'],
    ['eleven days', msk('2026-12-05T12:00:00'), '≈ 11 дней, окончание сб 05.12 12:00'],
    ['next year', msk('2027-01-26T09:30:00'), '≈ 63 дня, окончание вт 26.01.2027 09:30'],
    ['cannot finish', null, 'не закончится: нет доступных SIM-карт'],
    ['nothing left', now, 'всё отправлено'],
  ];
  for (const [name, finishAt, expected] of cases) it(name, () => assert.equal(describeForecast(finishAt, now, MSK), expected));

  it('minutes across local midnight say tomorrow', () => {
    assert.equal(describeForecast(msk('2026-11-25T00:30:00'), msk('2026-11-24T23:50:00'), MSK), '≈ 40 мин, окончание завтра 00:30');
  });

  it('names the problem when given', () => {
    assert.match(describeForecast(null, now, MSK, 'message-too-long'), /длиннее дневного или месячного лимита/);
    assert.match(describeForecast(null, now, MSK, 'too-far'), /3 года/);
  });

  it('uses the local weekday and time of the zone', () => {
    // Thu 2026-11-26 23:30 UTC is Friday 02:30 in Moscow and Friday 00:30 in Berlin.
    const finish = new Date('2026-11-26T23:30:00Z');
    assert.equal(describeForecast(finish, now, MSK), '≈ 3 дня, окончание пт 02:30');
    assert.equal(describeForecast(finish, now, BER), '≈ 3 дня, окончание пт 00:30');
  });

  it('Russian plural forms', () => {
    const forms = [0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112].map((n) => `${n} ${pluralRu(n, 'день', 'дня', 'дней')}`);
    assert.deepEqual(forms, [
      '0 дней', '1 день', '2 дня', '4 дня', '5 дней', '11 дней', '12 дней', '14 дней', '21 день', '22 дня', '25 дней', '101 день', '111 дней', '112 дней',
    ]);
  });
});
