import { campaignStatusWords, messageStateWords } from '../i18n/ru.js';

// Pages show times in the office's zone. Issue #3 makes the zone a setting; until then Moscow.
const timeZone = 'Europe/Moscow';
const dateTime = new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const rub = new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB', minimumFractionDigits: 2 });
const int = new Intl.NumberFormat('ru-RU');

/** Pure formatting helpers for the views; they never touch the database. */
export const hbsHelpers = {
  eq: (a: unknown, b: unknown) => a === b,
  time: (d: unknown) => (d instanceof Date || typeof d === 'string' ? dateTime.format(new Date(d)) : ''),
  rub: (n: unknown) => rub.format(Number(n ?? 0)),
  int: (n: unknown) => int.format(Number(n ?? 0)),
  campaignStatus: (s: string) => campaignStatusWords[s] ?? s,
  messageState: (s: string) => messageStateWords[s] ?? s,
  json: (v: unknown) => JSON.stringify(v),
  /** "09:00–21:00", or "круглые сутки" for a window whose ends meet. */
  window: (w: { from: string; to: string } | undefined) => (!w ? '' : w.from === w.to ? 'круглые сутки' : `${w.from}–${w.to}`),
  plural: (n: number, one: string, few: string, many: string) => {
    const m10 = n % 10;
    const m100 = n % 100;
    if (m10 === 1 && m100 !== 11) return one;
    if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
    return many;
  },
};
