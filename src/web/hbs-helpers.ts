import type { HelperOptions } from 'handlebars';
import { auditActionWords, auditDetailWords, campaignStatusWords, messageStateWords, stopListSourceWords } from '../i18n/ru.js';

const formats = new Map<string, Intl.DateTimeFormat>();
function dateTimeIn(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  return f;
}
const dates = new Map<string, Intl.DateTimeFormat>();
function dateIn(timeZone: string): Intl.DateTimeFormat {
  let f = dates.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' });
    dates.set(timeZone, f);
  }
  return f;
}
const officeZone = (options: HelperOptions | undefined) => (options?.data?.root as { timezone?: string } | undefined)?.timezone ?? 'Europe/Moscow';

/** `user:anna` → «anna», `token:crm` → «API: crm», `system:ответ-стоп` → «simcast (ответ-стоп)». */
export function actorName(label: unknown): string {
  if (typeof label !== 'string') return '';
  const i = label.indexOf(':');
  const kind = label.slice(0, i);
  const name = label.slice(i + 1);
  if (kind === 'user') return name;
  if (kind === 'token') return `API: ${name}`;
  if (kind === 'system') return `simcast (${name})`;
  return label;
}

/** Audit details in one short line: «источник: ответ SMS, сообщений пропущено: 2». */
export function auditDetails(details: unknown): string {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details as Record<string, unknown>)
    .map(([key, value]) => {
      const shown =
        typeof value === 'boolean' ? (value ? 'да' : 'нет')
        : key === 'source' && typeof value === 'string' ? (stopListSourceWords[value] ?? value)
        : typeof value === 'string' || typeof value === 'number' ? String(value)
        : JSON.stringify(value);
      return `${auditDetailWords[key] ?? key}: ${shown}`;
    })
    .join(', ');
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
  gt: (a: unknown, b: unknown) => Number(a) > Number(b),
  /** A date in the office's time zone (res.locals.timezone, from the settings). */
  time: (d: unknown, options: HelperOptions) => {
    if (!(d instanceof Date) && typeof d !== 'string') return '';
    const tz = (options?.data?.root as { timezone?: string } | undefined)?.timezone ?? 'Europe/Moscow';
    return dateTimeIn(tz).format(new Date(d));
  },
  /** Only the date, in the office's time zone: «15.03.2026». */
  date: (d: unknown, options: HelperOptions) => {
    if (!(d instanceof Date) && typeof d !== 'string') return '';
    return dateIn(officeZone(options)).format(new Date(d));
  },
  actorName,
  auditDetails,
  auditAction: (a: string) => auditActionWords[a] ?? a,
  stopListSource: (s: string) => stopListSourceWords[s] ?? s,
  add: (a: unknown, b: unknown) => Number(a) + Number(b),
  rub: (n: unknown) => rub.format(Number(n ?? 0)),
  int: (n: unknown) => int.format(Number(n ?? 0)),
  campaignStatus: (s: string) => campaignStatusWords[s] ?? s,
  messageState: (s: string) => messageStateWords[s] ?? s,
  modemState: (s: string) => modemStates[s] ?? s,
  registration: (s: string) => registrations[s] ?? s,
  json: (v: unknown) => JSON.stringify(v),
  /** A value inside a URL's query («?tag={{uri tag}}»): a tag «A&B» stays one parameter. */
  uri: (v: unknown) => encodeURIComponent(String(v ?? '')),
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
