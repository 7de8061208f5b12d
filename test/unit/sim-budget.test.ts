import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  drawPauseMs, remainingParts, rotationAfterFailure, simAvailability, type SimAvailability, type SimBudgetState,
} from '../../src/scheduling/sim-budget.js';
import { dayKey } from '../../src/scheduling/zoned-time.js';

const MSK = 'Europe/Moscow';
const BER = 'Europe/Berlin';
const sim = (over: Partial<SimBudgetState> = {}): SimBudgetState => ({
  enabled: true, dailyLimit: 100, monthlyLimit: 3000, usedToday: 0, usedThisMonth: 0, nextSendAt: null, outOfRotationUntil: null, ...over,
});
const at = (s: string): Date => new Date(s);

describe('remainingParts', () => {
  const cases: Array<[Partial<SimBudgetState>, number]> = [
    [{}, 100],
    [{ usedToday: 40 }, 60],
    [{ usedToday: 100 }, 0],
    [{ usedToday: 130 }, 0], // over (a limit lowered by the admin): never negative
    [{ usedThisMonth: 2950 }, 50], // the month binds before the day
    [{ usedToday: 90, usedThisMonth: 2950 }, 10],
    [{ usedThisMonth: 3000 }, 0],
    [{ dailyLimit: 0 }, 0],
  ];
  for (const [over, expected] of cases) it(`${JSON.stringify(over)} → ${expected}`, () => assert.equal(remainingParts(sim(over)), expected));
});

describe('simAvailability', () => {
  const now = at('2026-11-26T10:00:00Z'); // 13:00 Moscow, Thursday
  const cases: Array<[string, Partial<SimBudgetState>, Date, string, SimAvailability]> = [
    ['free', {}, now, MSK, { ok: true, budget: 100 }],
    ['budget is the smaller of day and month', { usedToday: 20, usedThisMonth: 2990 }, now, MSK, { ok: true, budget: 10 }],
    ['disabled wins, waits for the admin', { enabled: false, usedToday: 100 }, now, MSK, { ok: false, reason: 'disabled', until: null }],
    ['in its pause', { nextSendAt: at('2026-11-26T10:00:25Z') }, now, MSK, { ok: false, reason: 'pause', until: at('2026-11-26T10:00:25Z') }],
    ['pause over exactly now', { nextSendAt: now }, now, MSK, { ok: true, budget: 100 }],
    ['resting after failures', { outOfRotationUntil: at('2026-11-26T10:30:00Z') }, now, MSK, { ok: false, reason: 'out-of-rotation', until: at('2026-11-26T10:30:00Z') }],
    ['rest over', { outOfRotationUntil: at('2026-11-26T09:30:00Z') }, now, MSK, { ok: true, budget: 100 }],
    // The daily limit resets at LOCAL midnight: 21:00 UTC for Moscow.
    ['day used up → Moscow midnight (21:00 UTC)', { usedToday: 100 }, now, MSK, { ok: false, reason: 'daily-limit', until: at('2026-11-26T21:00:00Z') }],
    ['day used up at 23:59 local → still that midnight', { usedToday: 100 }, at('2026-11-26T20:59:59Z'), MSK, { ok: false, reason: 'daily-limit', until: at('2026-11-26T21:00:00Z') }],
    ['day used up in Berlin summer → 22:00 UTC', { usedToday: 100 }, at('2026-07-01T10:00:00Z'), BER, { ok: false, reason: 'daily-limit', until: at('2026-07-01T22:00:00Z') }],
    ['day used up on the 23-hour day in Berlin', { usedToday: 100 }, at('2026-03-29T10:00:00Z'), BER, { ok: false, reason: 'daily-limit', until: at('2026-03-29T22:00:00Z') }],
    ['day used up on the 25-hour day in Berlin', { usedToday: 100 }, at('2026-10-25T10:00:00Z'), BER, { ok: false, reason: 'daily-limit', until: at('2026-10-25T23:00:00Z') }],
    // The monthly limit resets on the local 1st: Dec 1 00:00 Moscow = Nov 30 21:00 UTC.
    ['month used up → Dec 1 local', { usedThisMonth: 3000 }, now, MSK, { ok: false, reason: 'monthly-limit', until: at('2026-11-30T21:00:00Z') }],
    ['month used up on Nov 30 23:00 local: the month, not the day, is the reason', { usedToday: 100, usedThisMonth: 3000 }, at('2026-11-30T20:00:00Z'), MSK, { ok: false, reason: 'monthly-limit', until: at('2026-11-30T21:00:00Z') }],
    ['month and day: the later until (the month)', { usedToday: 100, usedThisMonth: 3000 }, now, MSK, { ok: false, reason: 'monthly-limit', until: at('2026-11-30T21:00:00Z') }],
    ['resting and out of its day: the day decides', { usedToday: 100, outOfRotationUntil: at('2026-11-26T10:30:00Z') }, now, MSK, { ok: false, reason: 'daily-limit', until: at('2026-11-26T21:00:00Z') }],
    ['resting past midnight: the rest decides', { usedToday: 100, outOfRotationUntil: at('2026-11-26T22:00:00Z') }, now, MSK, { ok: false, reason: 'out-of-rotation', until: at('2026-11-26T22:00:00Z') }],
    ['a limit of 0 is not ok', { dailyLimit: 0 }, now, MSK, { ok: false, reason: 'daily-limit', until: at('2026-11-26T21:00:00Z') }],
  ];
  for (const [name, over, when, tz, expected] of cases) it(name, () => assert.deepEqual(simAvailability(sim(over), when, tz), expected));

  it('the daily reset and the ledger key change at the same instant', () => {
    const before = at('2026-11-30T20:59:59.999Z');
    const a = simAvailability(sim({ usedToday: 100 }), before, MSK);
    assert.equal(a.ok, false);
    const until = (a as { until: Date }).until;
    assert.notEqual(dayKey(until, MSK), dayKey(before, MSK));
    assert.equal(dayKey(new Date(until.getTime() - 1), MSK), dayKey(before, MSK));
  });
});

describe('drawPauseMs', () => {
  const cases: Array<[number, number, number, number]> = [
    [20, 40, 0, 20_000],
    [20, 40, 0.5, 30_000],
    [20, 40, 0.999999, 40_000],
    [20, 20, 0.7, 20_000],
    [40, 20, 0, 20_000], // swapped bounds are tolerated
    [-5, 0, 0.5, 0],
    [0.5, 1.5, 0.25, 750],
  ];
  for (const [min, max, r, expected] of cases) {
    it(`${min}–${max} s with random ${r} → ${expected} ms`, () => assert.equal(drawPauseMs(min, max, () => r), expected));
  }

  it('stays within the bounds for many draws', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 1000; i++) {
      const ms = drawPauseMs(20, 40, random);
      assert.ok(ms >= 20_000 && ms <= 40_000, String(ms));
    }
  });
});

describe('rotationAfterFailure', () => {
  const now = at('2026-11-26T10:00:00Z');
  const cases: Array<[number, number | null]> = [
    [0, null], [1, null], [2, null], [3, 30], [4, 60], [5, 120], [6, 240], [7, 240], [1000, 240],
  ];
  for (const [failures, minutes] of cases) {
    it(`${failures} failures in a row → ${minutes === null ? 'stays' : `${minutes} min`}`, () => {
      const until = rotationAfterFailure(failures, now);
      assert.equal(until === null ? null : (until.getTime() - now.getTime()) / 60_000, minutes);
    });
  }

  it('follows a custom policy', () => {
    const policy = { failuresBeforeRest: 1, restMinutes: 5, maxRestMinutes: 12 };
    const mins = [1, 2, 3].map((f) => ((rotationAfterFailure(f, now, policy)?.getTime() ?? 0) - now.getTime()) / 60_000);
    assert.deepEqual(mins, [5, 10, 12]);
  });
});
