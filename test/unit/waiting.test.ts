import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { whyWaiting, type WaitingInput, type WaitingSim } from '../../src/scheduling/waiting.js';

const MSK = 'Europe/Moscow';
const BER = 'Europe/Berlin';
const window = { from: '09:00', to: '21:00' };
const sim = (over: Partial<WaitingSim> = {}): WaitingSim => ({
  enabled: true, ready: true, dailyLimit: 100, monthlyLimit: 3000, usedToday: 0, usedThisMonth: 0, nextSendAt: null, outOfRotationUntil: null, ...over,
});
// Thursday 2026-11-26, Moscow (UTC+3).
const msk = (local: string): Date => new Date(`${local}+03:00`);
const input = (over: Partial<WaitingInput>): WaitingInput => ({
  now: msk('2026-11-26T13:00:00'), timeZone: MSK, window, campaignStatus: 'running', sims: [sim(), sim()], hasWaitingMessages: true, ...over,
});
const used = { usedToday: 100 };

describe('whyWaiting', () => {
  const cases: Array<[string, WaitingInput, null | { reason: string; until: Date | null; text: string }]> = [
    ['sending: a SIM has budget inside the window', input({}), null],
    ['sending: the SIMs are only in their pause between sends', input({ sims: [sim({ nextSendAt: msk('2026-11-26T13:00:30') }), sim({ ...used })] }), null],
    ['nothing waiting', input({ hasWaitingMessages: false }), null],
    ['a draft does not wait', input({ campaignStatus: 'draft' }), null],
    ['a finished campaign does not wait', input({ campaignStatus: 'finished' }), null],
    ['paused by staff', input({ campaignStatus: 'paused' }),
      { reason: 'paused', until: null, text: 'Рассылка на паузе: продолжит после нажатия «Продолжить».' }],
    ['before the window today', input({ now: msk('2026-11-26T07:30:00') }),
      { reason: 'window', until: msk('2026-11-26T09:00:00'), text: 'Ждёт начала окна отправки: продолжит сегодня в 09:00.' }],
    ['after the window: tomorrow', input({ now: msk('2026-11-26T21:00:00') }),
      { reason: 'window', until: msk('2026-11-27T09:00:00'), text: 'Ждёт начала окна отправки: продолжит завтра в 09:00.' }],
    ['a window crossing midnight', input({ now: msk('2026-11-26T13:00:00'), window: { from: '22:00', to: '06:00' } }),
      { reason: 'window', until: msk('2026-11-26T22:00:00'), text: 'Ждёт начала окна отправки: продолжит сегодня в 22:00.' }],
    ['ignoring the window at night: sends', input({ now: msk('2026-11-26T23:00:00'), window: null }), null],
    ['every SIM used its day, in the window: tomorrow at the window opening', input({ sims: [sim(used), sim(used)] }),
      { reason: 'limits', until: msk('2026-11-27T09:00:00'), text: 'Все SIM-карты израсходовали дневной лимит: продолжит завтра в 09:00.' }],
    ['every SIM used its day, ignoring the window: local midnight (21:00 UTC)', input({ window: null, sims: [sim(used), sim(used)] }),
      { reason: 'limits', until: new Date('2026-11-26T21:00:00Z'), text: 'Все SIM-карты израсходовали дневной лимит: продолжит завтра в 00:00.' }],
    ['every SIM used its day, after the window: the window is what it waits for', input({ now: msk('2026-11-26T22:00:00'), sims: [sim(used), sim(used)] }),
      { reason: 'window', until: msk('2026-11-27T09:00:00'), text: 'Ждёт начала окна отправки: продолжит завтра в 09:00.' }],
    // Monthly limits on Nov 26: the month resets on Dec 1, and the window opens at 09:00 then.
    ['every SIM used its month: December 1 at 09:00', input({ sims: [sim({ usedThisMonth: 3000 }), sim({ usedThisMonth: 3000 })] }),
      { reason: 'limits', until: msk('2026-12-01T09:00:00'), text: 'Все SIM-карты израсходовали месячный лимит: продолжит во вторник в 09:00.' }],
    ['month and day mixed: the first SIM back decides', input({ sims: [sim({ usedThisMonth: 3000 }), sim(used)] }),
      { reason: 'limits', until: msk('2026-11-27T09:00:00'), text: 'Все SIM-карты израсходовали дневной или месячный лимит: продолжит завтра в 09:00.' }],
    ['a month away: with the date', input({ now: msk('2026-11-02T13:00:00'), sims: [sim({ usedThisMonth: 3000 })] }),
      { reason: 'limits', until: msk('2026-12-01T09:00:00'), text: 'Все SIM-карты израсходовали месячный лимит: продолжит 1 декабря в 09:00.' }],
    ['no SIM ready', input({ sims: [sim({ ready: false }), sim({ enabled: false })] }),
      { reason: 'no-sims', until: null, text: 'Ждёт SIM-карт: нет ни одной включённой SIM-карты в готовом модеме. Проверьте модемы и SIM-карты на странице «Модемы»: как только хотя бы одна будет готова, рассылка продолжится сама.' }],
    ['no SIMs at all, window closed', input({ now: msk('2026-11-26T22:00:00'), sims: [] }),
      { reason: 'no-sims', until: null, text: 'Ждёт SIM-карт: нет ни одной включённой SIM-карты в готовом модеме. Проверьте модемы и SIM-карты на странице «Модемы»: когда хотя бы одна будет готова, рассылка продолжится сама, но не раньше начала окна отправки (завтра в 09:00).' }],
    ['a disabled SIM with budget does not count', input({ sims: [sim({ enabled: false }), sim(used)] }),
      { reason: 'limits', until: msk('2026-11-27T09:00:00'), text: 'Все SIM-карты израсходовали дневной лимит: продолжит завтра в 09:00.' }],
    ['every SIM resting after failures', input({ sims: [sim({ outOfRotationUntil: msk('2026-11-26T13:30:00') }), sim({ outOfRotationUntil: msk('2026-11-26T13:45:00') })] }),
      { reason: 'no-sims', until: msk('2026-11-26T13:30:00'), text: 'Все SIM-карты временно выведены из работы после ошибок отправки: продолжит сегодня в 13:30, если они снова заработают.' }],
    ['resting past the window close: the next opening', input({ now: msk('2026-11-26T20:50:00'), sims: [sim({ outOfRotationUntil: msk('2026-11-26T21:20:00') })] }),
      { reason: 'no-sims', until: msk('2026-11-27T09:00:00'), text: 'Все SIM-карты временно выведены из работы после ошибок отправки: продолжит завтра в 09:00, если они снова заработают.' }],
    ['one resting, one out of its day', input({ sims: [sim({ outOfRotationUntil: msk('2026-11-26T13:30:00') }), sim(used)] }),
      { reason: 'limits', until: msk('2026-11-26T13:30:00'), text: 'Все SIM-карты израсходовали лимит или отдыхают после ошибок: продолжит сегодня в 13:30.' }],
    ['a SIM whose modem is not ready does not help', input({ sims: [sim({ ready: false }), sim(used)] }),
      { reason: 'limits', until: msk('2026-11-27T09:00:00'), text: 'Все SIM-карты израсходовали дневной лимит: продолжит завтра в 09:00.' }],
    // Saturday 2026-03-28 22:00 CET in Berlin → Sunday 09:00 CEST (07:00 UTC), after the clocks jump.
    ['Berlin, across the spring jump', input({ now: new Date('2026-03-28T21:00:00Z'), timeZone: BER }),
      { reason: 'window', until: new Date('2026-03-29T07:00:00Z'), text: 'Ждёт начала окна отправки: продолжит завтра в 09:00.' }],
    // The window opens every day, weekends included: Friday night waits for Saturday morning.
    ['Friday 22:00 with the day used up: Saturday 09:00', input({ now: msk('2026-11-27T22:00:00'), sims: [sim(used)] }),
      { reason: 'window', until: msk('2026-11-28T09:00:00'), text: 'Ждёт начала окна отправки: продолжит завтра в 09:00.' }],
  ];
  for (const [name, i, expected] of cases) it(name, () => assert.deepEqual(whyWaiting(i), expected));
});
