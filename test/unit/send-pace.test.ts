import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecastFinish, type ForecastSim } from '../../src/scheduling/forecast.js';
import { defaultSendSeconds, perPartSeconds, sendPace, type SendSample } from '../../src/scheduling/send-pace.js';

const ones = (seconds: readonly number[]): SendSample[] => seconds.map((s) => ({ seconds: s, parts: 1 }));

describe('sendPace: a SIM’s typical seconds per SMS part from its history', () => {
  const cases: Array<[string, SendSample[], { seconds: number; samples: number; learned: boolean }]> = [
    ['no history: the default', [], { seconds: defaultSendSeconds, samples: 0, learned: false }],
    ['4 samples are too few: the default, the 4 counted', ones([6, 6, 6, 6]), { seconds: 3, samples: 4, learned: false }],
    ['5 samples: their median', ones([5, 7, 6, 100, 6.2]), { seconds: 6.2, samples: 5, learned: true }],
    ['even count: the mean of the middle two', ones([5, 6, 7, 8, 9, 10]), { seconds: 7.5, samples: 6, learned: true }],
    ['one stuck message does not move the median', ones([6, 6, 6, 6, 6, 6, 6, 590]), { seconds: 6, samples: 8, learned: true }],
    ['a 3-part message counts per part', [...ones([6, 6, 6, 6]), { seconds: 18, parts: 3 }], { seconds: 6, samples: 5, learned: true }],
    ['absurd samples are dropped: negative, over 10 min, not a number', ones([-1, 601, Number.NaN, Infinity, 6, 6, 6, 6]), { seconds: 3, samples: 4, learned: false }],
    [
      'only the newest 50 count: old slow history is forgotten',
      [...ones(Array.from({ length: 50 }, () => 2)), ...ones(Array.from({ length: 50 }, () => 9))],
      { seconds: 2, samples: 50, learned: true },
    ],
    [
      'a modem that got faster: the median follows once most of the 50 are fast',
      [...ones(Array.from({ length: 30 }, () => 5)), ...ones(Array.from({ length: 40 }, () => 10))],
      { seconds: 5, samples: 50, learned: true },
    ],
    ['zero seconds (an instant modem) is a pace', ones([0, 0, 0, 0, 0]), { seconds: 0, samples: 5, learned: true }],
  ];
  for (const [name, history, expected] of cases) {
    it(name, () => assert.deepEqual(sendPace(history), expected));
  }

  it('perPartSeconds: duration ÷ parts; a missing or odd part count is one part', () => {
    assert.equal(perPartSeconds({ seconds: 20, parts: 4 }), 5);
    assert.equal(perPartSeconds({ seconds: 20, parts: 0 }), 20);
    assert.equal(perPartSeconds({ seconds: 20, parts: Number.NaN }), 20);
    assert.equal(perPartSeconds({ seconds: 700, parts: 10 }), null, 'the whole message took over 10 min: not a pace');
  });
});

describe('forecastFinish with learned per-SIM send times', () => {
  const now = new Date('2026-11-23T06:00:00Z');
  const sim = (over: Partial<ForecastSim>): ForecastSim => ({
    dailyLimit: 100_000, monthlyLimit: 1_000_000, usedToday: 0, usedThisMonth: 0,
    minPauseSeconds: 0, maxPauseSeconds: 0, sendSeconds: 3, enabled: true, ...over,
  });
  const run = (sims: ForecastSim[], parts: number[]) =>
    forecastFinish({ now, timeZone: 'Europe/Moscow', window: null, sims, remainingParts: parts }).finishAt!.getTime() - now.getTime();

  it('each SIM at its own pace: a 2 s and a 6 s SIM share 8 messages 6 : 2', () => {
    // The 2 s SIM starts at 0, 2, 4, 6, 8, 10 (6 messages), the 6 s one at 0, 6: last ends at 12 s.
    assert.equal(run([sim({ sendSecondsPerPart: 2 }), sim({ sendSecondsPerPart: 6 })], [1, 1, 1, 1, 1, 1, 1, 1]), 12_000);
  });

  it('per part: a 3-part message takes three times as long; the constant per message does not', () => {
    assert.equal(run([sim({ sendSecondsPerPart: 5 })], [3, 1]), 20_000);
    assert.equal(run([sim({ sendSeconds: 5 })], [3, 1]), 10_000);
  });

  it('the learned pace replaces the constant: 100 000 messages on two 1.5 s SIMs without pauses take under a day', () => {
    const parts = Array.from({ length: 100_000 }, () => 1);
    const learned = run([sim({ sendSecondsPerPart: 1.5 }), sim({ sendSecondsPerPart: 1.5 })], parts);
    assert.equal(learned, 50_000 * 1500);
    assert.ok(learned < 86_400_000);
    assert.equal(run([sim({ sendSeconds: 3 }), sim({ sendSeconds: 3 })], parts), 50_000 * 3000);
  });

  it('pauses still add to the learned send time', () => {
    assert.equal(run([sim({ sendSecondsPerPart: 4, minPauseSeconds: 10, maxPauseSeconds: 20 })], [1, 1, 1]), 2 * 19_000 + 4_000);
  });
});
