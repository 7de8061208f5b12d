import type { HelperOptions } from 'handlebars';
import { campaignStatusWords, messageStateWords } from '../i18n/ru.js';

const formats = new Map<string, Intl.DateTimeFormat>();
function dateTimeIn(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  return f;
}
const rub = new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB', minimumFractionDigits: 2 });
const int = new Intl.NumberFormat('ru-RU');

/** chan_dongle's English states (State, GSMRegistrationStatus) as office staff read them. */
const modemStates: Record<string, string> = {
  Stopped: 'остановлен',
  'Not connected': 'не подключён',
  'Not initialized': 'запускается',
  'GSM not registered': 'нет сети',
  Free: 'свободен',
  SMS: 'отправляет SMS',
  Ring: 'входящий звонок',
  Dialing: 'набирает номер',
  Waiting: 'ожидание',
  Active: 'разговор',
  Outgoing: 'исходящий звонок',
  Incoming: 'входящий звонок',
  Held: 'звонок на удержании',
};
const registrations: Record<string, string> = {
  'Registered, home network': 'в домашней сети',
  'Registered, roaming': 'в роуминге',
  'Not registered, not searching': 'не в сети, не ищет',
  'Not registered, but searching': 'ищет сеть',
  'Registration denied': 'оператор отказал в регистрации',
  Unknown: 'неизвестно',
};

/** Pure formatting helpers for the views; they never touch the database. */
export const hbsHelpers = {
  eq: (a: unknown, b: unknown) => a === b,
  /** A date in the office's time zone (res.locals.timezone, from the settings). */
  time: (d: unknown, options: HelperOptions) => {
    if (!(d instanceof Date) && typeof d !== 'string') return '';
    const tz = (options?.data?.root as { timezone?: string } | undefined)?.timezone ?? 'Europe/Moscow';
    return dateTimeIn(tz).format(new Date(d));
  },
  rub: (n: unknown) => rub.format(Number(n ?? 0)),
  int: (n: unknown) => int.format(Number(n ?? 0)),
  campaignStatus: (s: string) => campaignStatusWords[s] ?? s,
  messageState: (s: string) => messageStateWords[s] ?? s,
  modemState: (s: string) => modemStates[s] ?? s,
  registration: (s: string) => registrations[s] ?? s,
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
