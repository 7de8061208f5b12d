/**
 * Russian words of the scheduling module: window problems, forecasts and why a campaign waits.
 * Kept here, in one file, so they can move into src/i18n/ru.ts as a whole; nothing else in
 * src/scheduling/ holds text a person reads.
 */

/** Russian plural form for `n`: one (1, 21, 101…), few (2–4, 22–24…) or many (0, 5–20, 11–14…). */
export function pluralRu(n: number, one: string, few: string, many: string): string {
  const abs = Math.abs(Math.trunc(n));
  const mod100 = abs % 100;
  const mod10 = abs % 10;
  if (mod100 >= 11 && mod100 <= 14) return many;
  if (mod10 === 1) return one;
  if (mod10 >= 2 && mod10 <= 4) return few;
  return many;
}

/** Weekday abbreviations by Date#getDay index (0 = Sunday). */
const weekdayShort = ['вс', 'пн', 'вт', 'ср', 'чт', 'пт', 'сб'] as const;
/** "в понедельник", "во вторник"…: the day something happens on, by Date#getDay index. */
const weekdayOn = ['в воскресенье', 'в понедельник', 'во вторник', 'в среду', 'в четверг', 'в пятницу', 'в субботу'] as const;
/** Month names in the genitive ("1 декабря"), by month number − 1. */
const monthGenitive = [
  'января', 'февраля', 'марта', 'апреля', 'мая', 'июня',
  'июля', 'августа', 'сентября', 'октября', 'ноября', 'декабря',
] as const;

/** A local date and time as these words need it. */
export interface WordsMoment {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const hhmm = (m: WordsMoment): string => `${pad2(m.hour)}:${pad2(m.minute)}`;

export const windowWords = {
  notAWindow: 'Окно отправки задаётся временем начала и конца, например с 09:00 до 21:00.',
  missingTime: (which: 'from' | 'to') =>
    which === 'from'
      ? 'Не указано, с какого времени можно отправлять. Впишите время начала окна, например 09:00.'
      : 'Не указано, до какого времени можно отправлять. Впишите время конца окна, например 21:00.',
  notATime: (which: 'from' | 'to', text: string) =>
    `${which === 'from' ? 'Начало' : 'Конец'} окна отправки «${text}» — не время. Пишите часы от 00 до 23 и минуты через двоеточие, например ${which === 'from' ? '09:00' : '21:00'}.`,
  midnightIs0000: 'Полночь пишется как 00:00, а не 24:00: окно «с 09:00 до 00:00» открыто до полуночи.',
} as const;

/**
 * When something happens, relative to today: "сегодня 15:10", "завтра 09:00", "чт 14:20" (within
 * the coming week), "чт 14.01 14:20" (later), "чт 14.01.2027 14:20" (another year).
 * `daysAhead` counts local calendar days from today.
 */
function whenShort(m: WordsMoment, daysAhead: number, todayYear: number): string {
  if (daysAhead === 0) return `сегодня ${hhmm(m)}`;
  if (daysAhead === 1) return `завтра ${hhmm(m)}`;
  const wd = weekdayShort[m.weekday] ?? '';
  if (daysAhead < 7) return `${wd} ${hhmm(m)}`;
  const date = m.year === todayYear ? `${pad2(m.day)}.${pad2(m.month)}` : `${pad2(m.day)}.${pad2(m.month)}.${m.year}`;
  return `${wd} ${date} ${hhmm(m)}`;
}

/** "сегодня в 09:00", "завтра в 09:00", "в четверг в 09:00", "1 декабря в 00:00", "1 января 2027 г. в 09:00". */
export function whenAt(m: WordsMoment, daysAhead: number, todayYear: number): string {
  if (daysAhead === 0) return `сегодня в ${hhmm(m)}`;
  if (daysAhead === 1) return `завтра в ${hhmm(m)}`;
  if (daysAhead < 7) return `${weekdayOn[m.weekday] ?? ''} в ${hhmm(m)}`;
  const month = monthGenitive[m.month - 1] ?? '';
  const year = m.year === todayYear ? '' : ` ${m.year} г.`;
  return `${m.day} ${month}${year} в ${hhmm(m)}`;
}

export type ForecastProblemWord = 'no-sims' | 'message-too-long' | 'too-far';

export const forecastWords = {
  /** Why the campaign cannot finish. */
  never: (problem: ForecastProblemWord) => {
    switch (problem) {
      case 'no-sims': return 'не закончится: нет доступных SIM-карт';
      case 'message-too-long': return 'не закончится: есть сообщения длиннее дневного или месячного лимита SIM-карт';
      case 'too-far': return 'не закончится в ближайшие 3 года: лимиты SIM-карт слишком малы для такой рассылки';
    }
  },
  /** Nothing left to send. */
  done: 'всё отправлено',
  /** Under a minute. */
  lessThanMinute: (m: WordsMoment, daysAhead: number, todayYear: number) =>
    `меньше минуты, окончание ${whenShort(m, daysAhead, todayYear)}`,
  /** Under an hour: "≈ 40 мин, окончание сегодня 15:10". */
  minutes: (minutes: number, m: WordsMoment, daysAhead: number, todayYear: number) =>
    `≈ ${minutes} мин, окончание ${whenShort(m, daysAhead, todayYear)}`,
  /** Later the same day: "сегодня до 15:10". */
  laterToday: (m: WordsMoment) => `сегодня до ${hhmm(m)}`,
  /** Under a day, but another local day: "≈ 14 ч, окончание завтра 10:00". */
  hours: (hours: number, m: WordsMoment, daysAhead: number, todayYear: number) =>
    `≈ ${hours} ч, окончание ${whenShort(m, daysAhead, todayYear)}`,
  /** A day or more: "≈ 2 дня, окончание чт 14:20". */
  days: (days: number, m: WordsMoment, daysAhead: number, todayYear: number) =>
    `≈ ${days} ${pluralRu(days, 'день', 'дня', 'дней')}, окончание ${whenShort(m, daysAhead, todayYear)}`,
} as const;

export type WaitingLimitWord = 'daily' | 'monthly' | 'mixed';

export const waitingWords = {
  paused: 'Рассылка на паузе: продолжит после нажатия «Продолжить».',
  window: (when: string) => `Ждёт начала окна отправки: продолжит ${when}.`,
  limits: (kind: WaitingLimitWord, when: string) => {
    const what =
      kind === 'daily'
        ? 'Все SIM-карты израсходовали дневной лимит'
        : kind === 'monthly'
          ? 'Все SIM-карты израсходовали месячный лимит'
          : 'Все SIM-карты израсходовали дневной или месячный лимит';
    return `${what}: продолжит ${when}.`;
  },
  /** Some SIMs are limited, the others rest after failures: the earliest of them decides. */
  limitsOrRest: (when: string) =>
    `Все SIM-карты израсходовали лимит или отдыхают после ошибок: продолжит ${when}.`,
  resting: (when: string) =>
    `Все SIM-карты временно выведены из работы после ошибок отправки: продолжит ${when}, если они снова заработают.`,
  /** `whenWindow`: when the sending window opens, if it is closed now. */
  noSims: (whenWindow: string | null) =>
    'Ждёт SIM-карт: нет ни одной включённой SIM-карты в готовом модеме. Проверьте модемы и SIM-карты на странице «Модемы»: ' +
    (whenWindow === null
      ? 'как только хотя бы одна будет готова, рассылка продолжится сама.'
      : `когда хотя бы одна будет готова, рассылка продолжится сама, но не раньше начала окна отправки (${whenWindow}).`),
} as const;
