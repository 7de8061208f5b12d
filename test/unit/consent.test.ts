import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consentState,
  parseConsentCell,
  recipientExclusion,
  type ConsentAction,
  type ConsentCell,
  type ConsentEvent,
  type ConsentState,
  type MessageKind,
} from '../../src/compliance/consent.js';

const at = (iso: string) => new Date(iso);
const event = (action: ConsentAction, iso: string): ConsentEvent => ({
  action,
  at: at(iso),
  source: 'manual',
  document: null,
  recordedBy: 'admin',
});
const now = at('2024-06-01T12:00:00Z');

describe('consentState', () => {
  const table: Array<[string, ConsentEvent[], ConsentState]> = [
    ['no history', [], { consented: false, since: null }],
    ['given', [event('given', '2024-01-01T00:00:00Z')], { consented: true, since: at('2024-01-01T00:00:00Z') }],
    [
      'given then withdrawn',
      [event('given', '2024-01-01T00:00:00Z'), event('withdrawn', '2024-03-01T00:00:00Z')],
      { consented: false, since: at('2024-03-01T00:00:00Z') },
    ],
    [
      'withdrawn then given again',
      [event('withdrawn', '2024-03-01T00:00:00Z'), event('given', '2024-04-01T00:00:00Z'), event('given', '2024-01-01T00:00:00Z')],
      { consented: true, since: at('2024-04-01T00:00:00Z') },
    ],
    [
      'order of the history does not matter',
      [event('withdrawn', '2024-03-01T00:00:00Z'), event('given', '2024-01-01T00:00:00Z')],
      { consented: false, since: at('2024-03-01T00:00:00Z') },
    ],
    ['an entry dated in the future does not count yet', [event('given', '2024-06-02T00:00:00Z')], { consented: false, since: null }],
    [
      'a future withdrawal leaves the consent in force until then',
      [event('given', '2024-01-01T00:00:00Z'), event('withdrawn', '2024-07-01T00:00:00Z')],
      { consented: true, since: at('2024-01-01T00:00:00Z') },
    ],
    ['an entry exactly at now counts', [event('given', '2024-06-01T12:00:00Z')], { consented: true, since: now }],
    [
      'a tie: withdrawn wins (given listed last)',
      [event('withdrawn', '2024-05-01T00:00:00Z'), event('given', '2024-05-01T00:00:00Z')],
      { consented: false, since: at('2024-05-01T00:00:00Z') },
    ],
    [
      'a tie: withdrawn wins (given listed first)',
      [event('given', '2024-05-01T00:00:00Z'), event('withdrawn', '2024-05-01T00:00:00Z')],
      { consented: false, since: at('2024-05-01T00:00:00Z') },
    ],
    ['an invalid date is ignored', [event('given', 'not a date')], { consented: false, since: null }],
  ];
  for (const [name, history, expected] of table) {
    it(name, () => assert.deepEqual(consentState(history, now), expected));
  }
});

describe('recipientExclusion', () => {
  const stopList = { reason: 'stop-list', text: 'номер в стоп-листе' } as const;
  const noConsent = { reason: 'no-consent', text: 'нет согласия на рекламу' } as const;
  // [kind, stopListed, suppressed, consented, expected]
  const table: Array<[MessageKind, boolean, boolean, boolean, typeof stopList | typeof noConsent | null]> = [
    ['advertising', false, false, true, null],
    ['advertising', false, false, false, noConsent],
    ['advertising', true, false, true, stopList],
    ['advertising', false, true, true, stopList],
    ['advertising', true, false, false, stopList], // the stop-list is the reason shown first
    ['service', false, false, false, null],
    ['service', true, false, false, stopList],
    ['service', false, true, false, stopList],
    ['notification', false, false, false, null],
    ['notification', true, false, true, stopList],
    ['notification', false, true, false, stopList],
    ['opt-out-confirmation', true, false, false, null],
    ['opt-out-confirmation', false, true, false, null],
    ['opt-out-confirmation', false, false, false, null],
  ];
  for (const [kind, stopListed, suppressed, consented, expected] of table) {
    it(`${kind}, stop-listed ${stopListed}, suppressed ${suppressed}, consented ${consented}`, () => {
      assert.deepEqual(recipientExclusion({ kind, stopListed, suppressed, consented }), expected);
    });
  }
});

describe('parseConsentCell', () => {
  const imported = at('2024-06-01T12:00:00Z');
  const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
  const given = (date: Date | null): ConsentCell => ({ ok: true, given: true, at: date });
  const none: ConsentCell = { ok: true, given: false };

  const table: Array<[unknown, ConsentCell]> = [
    ['да', given(imported)],
    ['ДА', given(imported)],
    [' Да ', given(imported)],
    ['yes', given(imported)],
    ['1', given(imported)],
    [1, given(imported)],
    ['+', given(imported)],
    ['согласен', given(imported)],
    ['Согласна', given(imported)],
    ['true', given(imported)],
    ['ИСТИНА', given(imported)], // Russian Excel's TRUE as sheet.ts prints it
    [true, given(imported)],
    ['15.03.2024', given(day(2024, 3, 15))],
    ['5.3.2024', given(day(2024, 3, 5))],
    ['15/03/2024', given(day(2024, 3, 15))],
    ['15.03.2024 14:30', given(day(2024, 3, 15))], // the time is dropped
    ['2024-03-15', given(day(2024, 3, 15))],
    ['2024-03-15T23:30:00+03:00', given(day(2024, 3, 15))], // the day as written
    ['29.02.2024', given(day(2024, 2, 29))],
    [45366, given(day(2024, 3, 15))], // Excel serial day number
    ['45366', given(day(2024, 3, 15))],
    [45366.75, given(day(2024, 3, 15))],
    [new Date(Date.UTC(2024, 2, 15)), given(day(2024, 3, 15))],
    [new Date(Date.UTC(2024, 2, 15, 21, 0)), given(day(2024, 3, 15))],
    ['02.06.2024', given(day(2024, 6, 2))], // tomorrow in UTC may be today in Russia
    ['нет', none],
    ['НЕТ', none],
    ['no', none],
    ['0', none],
    [0, none],
    ['-', none],
    ['—', none],
    ['не согласен', none],
    ['ЛОЖЬ', none],
    [false, none],
    ['', none],
    ['   ', none],
    [null, none],
    [undefined, none],
  ];
  for (const [value, expected] of table) {
    it(`${value instanceof Date ? value.toISOString() : JSON.stringify(value)}`, () => {
      assert.deepEqual(parseConsentCell(value, imported), expected);
    });
  }

  it('without the caller\'s date, a cell without a date gives at: null', () => {
    assert.deepEqual(parseConsentCell('да'), given(null));
    assert.deepEqual(parseConsentCell('15.03.2024'), given(day(2024, 3, 15)));
  });

  const errors: Array<[unknown, RegExp]> = [
    ['может быть', /Не понятно.*«может быть»/],
    ['x', /Не понятно/],
    [2, /Не понятно/],
    ['365', /Не понятно/],
    ['31.02.2024', /Такой даты нет.*31\.02\.2024/],
    ['03/15/2024', /Такой даты нет/], // month first is not a Russian date
    ['2024-13-01', /Такой даты нет/],
    ['15.03.1985', /раньше 2000/],
    ['15.03.2042', /ещё не наступила/],
    ['03.06.2024', /ещё не наступила/],
    [new Date(Number.NaN), /Такой даты нет/],
    [{}, /Не понятно/],
    ['а'.repeat(100), /«а{40}…»/],
  ];
  for (const [value, expected] of errors) {
    it(`refuses ${JSON.stringify(value)?.slice(0, 20) ?? String(value)}`, () => {
      const result = parseConsentCell(value, imported);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.error, expected);
    });
  }
});
