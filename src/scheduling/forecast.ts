/**
 * When will a campaign finish? A simulation of the dispatcher, message by message, over local days.
 *
 * The model (what the dispatcher does, averaged):
 * - each enabled SIM sends one message at a time; a message occupies it for `sendSeconds` (or,
 *   with the SIM's learned pace, `sendSecondsPerPart` × its parts) and the next one starts a pause
 *   later, so a SIM starts one message per `(minPause + maxPause) / 2 + send time` — the random
 *   pause replaced by its mean, which over
 *   a day's hundred sends errs by about a minute (σ of a sum of 100 uniform 20–40 s ≈ 58 s);
 * - messages go in order, each to the SIM that can start it first (ties: the earlier SIM);
 * - a message starts only inside the sending window (it may end after the window closes) and only
 *   if its parts fit in the SIM's remaining daily and monthly budget; a SIM whose budget cannot
 *   take the next message stops for that day (or month) — messages are claimed in order, a SIM
 *   does not skip ahead to a shorter one;
 * - daily budgets reset at each local midnight, monthly ones on the 1st, in `timeZone`;
 * - the campaign finishes when its last message has been sent (start + `sendSeconds`).
 *
 * Not modelled: failures, retries and SIMs resting after failures (the forecast assumes what is
 * enabled now keeps working), notifications taking slots, other campaigns sharing the SIMs.
 * Those make a real run later, never earlier, so the forecast is the best case the limits allow.
 *
 * Cost: O(messages × SIMs) cheap steps plus one calendar computation per local day (shared by all
 * SIMs), so a 100 000-message campaign over 16 SIMs takes milliseconds.
 */
import { forecastWords, type ForecastProblemWord } from '../i18n/scheduling-words.js';
import type { SendingWindow } from './sending-window.js';
import { localDaysBetween, localParts, zonedInstant } from './zoned-time.js';

/** One SIM as the forecast needs it. */
export interface ForecastSim {
  dailyLimit: number;
  monthlyLimit: number;
  /** Parts already sent in the local day / month containing `now`. */
  usedToday: number;
  usedThisMonth: number;
  minPauseSeconds: number;
  maxPauseSeconds: number;
  /** Typical time the modem takes per message (submit to report), e.g. 5. */
  sendSeconds: number;
  /**
   * The SIM's learned time per SMS part (src/scheduling/send-pace.ts): when given, a message of n
   * parts occupies it n × this instead of `sendSeconds`, so long texts take their real time.
   */
  sendSecondsPerPart?: number;
  /** Disabled, not ready or resting SIMs: pass false, they send nothing in the forecast. */
  enabled: boolean;
  /** Not before this instant (its pause, or its rest after failures, ends then). Optional. */
  nextSendAt?: Date | null;
}

export interface ForecastInput {
  now: Date;
  timeZone: string;
  /** null: the campaign ignores the window (a service campaign marked so). */
  window: SendingWindow | null;
  sims: readonly ForecastSim[];
  /** Parts of each message still to send, in the order they will be sent. */
  remainingParts: readonly number[];
}

/** Why a campaign cannot finish: no SIM to send through, a message no SIM's limit can ever hold, or not within the horizon. */
export type ForecastProblem = ForecastProblemWord;

export interface Forecast {
  /** When the last message will have been sent; null when it cannot finish (see `problem`). `now` when nothing is left. */
  finishAt: Date | null;
  /** When the first remaining message will start; null when nothing will be sent. */
  startAt: Date | null;
  problem: ForecastProblem | null;
}

/** How far ahead the simulation looks before it gives up: three years of local days. */
export const forecastHorizonDays = 3 * 366;

/** One local day: its bounds, month and the window's open intervals within it (epoch ms). */
interface CalendarDay {
  start: number;
  end: number;
  /** year × 12 + month: changes when the monthly budget resets. */
  month: number;
  /** Open intervals [from, to), sorted, within [start, end). */
  open: Array<readonly [number, number]>;
}

/**
 * Local days from the one containing `now`, built lazily and shared by every SIM: the Intl work
 * is done once per day, not once per SIM and day.
 */
class Calendar {
  readonly #days: CalendarDay[] = [];
  readonly #y: number;
  readonly #m: number;
  readonly #d: number;
  readonly #from: number | null;
  readonly #to: number | null;

  constructor(now: Date, readonly timeZone: string, window: SendingWindow | null) {
    const p = localParts(now, timeZone);
    this.#y = p.year;
    this.#m = p.month;
    this.#d = p.day;
    this.#from = window ? minutesOf(window.from) : null;
    this.#to = window ? minutesOf(window.to) : null;
  }

  day(index: number): CalendarDay {
    while (this.#days.length <= index) this.#days.push(this.#build(this.#days.length));
    return this.#days[index] as CalendarDay;
  }

  #at(dayIndex: number, minutes: number): number {
    return zonedInstant(
      { year: this.#y, month: this.#m, day: this.#d + dayIndex, hour: Math.floor(minutes / 60), minute: minutes % 60 },
      this.timeZone,
    ).getTime();
  }

  #build(i: number): CalendarDay {
    const start = i === 0 ? this.#at(0, 0) : (this.#days[i - 1] as CalendarDay).end;
    const end = this.#at(i + 1, 0);
    const date = new Date(0);
    date.setUTCFullYear(this.#y, this.#m - 1, this.#d + i);
    const month = date.getUTCFullYear() * 12 + date.getUTCMonth();
    const from = this.#from;
    const to = this.#to;
    let open: Array<readonly [number, number]>;
    if (from === null || to === null || from === to) open = [[start, end]];
    else if (from < to) open = [[this.#at(i, from), this.#at(i, to)]];
    else open = [[start, this.#at(i, to)], [this.#at(i, from), end]]; // crosses midnight: both ends of the day
    // A DST jump can swallow an interval whole (02:00–02:30 on a spring-forward night).
    open = open.filter(([a, b]) => b > a);
    return { start, end, month, open };
  }
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

interface SimRun {
  index: number;
  pauseMs: number;
  /** Per message (constant), or per part when `perPart`. */
  sendMs: number;
  perPart: boolean;
  dailyLimit: number;
  monthlyLimit: number;
  /** Next instant it could start a message. */
  t: number;
  dayIndex: number;
  dayUsed: number;
  month: number;
  monthUsed: number;
}

/**
 * The earliest instant `sim` can start a message of `parts` parts, moving it forward through the
 * calendar (budgets reset as it enters new days and months); Infinity past the horizon.
 */
function earliestStart(sim: SimRun, parts: number, calendar: Calendar): number {
  if (parts > sim.dailyLimit || parts > sim.monthlyLimit) return Infinity;
  for (;;) {
    let day = calendar.day(sim.dayIndex);
    while (sim.t >= day.end) {
      sim.dayIndex++;
      if (sim.dayIndex > forecastHorizonDays) return Infinity;
      day = calendar.day(sim.dayIndex);
      sim.dayUsed = 0;
      if (day.month !== sim.month) {
        sim.month = day.month;
        sim.monthUsed = 0;
      }
    }
    if (sim.monthUsed + parts > sim.monthlyLimit) {
      // Skip to the first day of the next month; the loop above resets the budgets.
      let next = sim.dayIndex + 1;
      while (next <= forecastHorizonDays && calendar.day(next).month === day.month) next++;
      if (next > forecastHorizonDays) return Infinity;
      sim.t = calendar.day(next).start;
      continue;
    }
    if (sim.dayUsed + parts > sim.dailyLimit) {
      sim.t = day.end;
      continue;
    }
    const interval = day.open.find(([, b]) => sim.t < b);
    if (!interval) {
      sim.t = day.end;
      continue;
    }
    if (sim.t < interval[0]) sim.t = interval[0];
    return sim.t;
  }
}

const cleanCount = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0);

/**
 * Simulates the rest of a campaign and says when it will finish (see the model above). Accurate
 * to the day and, within it, to about a minute per hundred sends of each SIM.
 */
export function forecastFinish(input: ForecastInput): Forecast {
  const { now, timeZone, window } = input;
  if (input.remainingParts.length === 0) return { finishAt: now, startAt: null, problem: null };
  const calendar = new Calendar(now, timeZone, window);
  const startMonth = calendar.day(0).month;
  const sims: SimRun[] = [];
  input.sims.forEach((s, index) => {
    if (!s.enabled) return;
    const pauseSeconds = (Math.max(0, s.minPauseSeconds) + Math.max(0, s.maxPauseSeconds)) / 2;
    const perPart = s.sendSecondsPerPart !== undefined && Number.isFinite(s.sendSecondsPerPart);
    const sendMs = Math.max(0, perPart ? (s.sendSecondsPerPart as number) : s.sendSeconds) * 1000;
    sims.push({
      index,
      pauseMs: pauseSeconds * 1000,
      sendMs,
      perPart,
      dailyLimit: s.dailyLimit,
      monthlyLimit: s.monthlyLimit,
      t: Math.max(now.getTime(), s.nextSendAt?.getTime() ?? -Infinity),
      dayIndex: 0,
      dayUsed: cleanCount(s.usedToday),
      month: startMonth,
      monthUsed: cleanCount(s.usedThisMonth),
    });
  });
  if (sims.length === 0) return { finishAt: null, startAt: null, problem: 'no-sims' };

  let finish = now.getTime();
  let first: number | null = null;
  for (const rawParts of input.remainingParts) {
    const parts = Math.max(1, Math.ceil(Number.isFinite(rawParts) ? rawParts : 1));
    let best: SimRun | null = null;
    let bestStart = Infinity;
    for (const sim of sims) {
      const start = earliestStart(sim, parts, calendar);
      if (start < bestStart) {
        best = sim;
        bestStart = start;
      }
    }
    if (!best) {
      const fits = sims.some((s) => parts <= s.dailyLimit && parts <= s.monthlyLimit);
      return { finishAt: null, startAt: null, problem: fits ? 'too-far' : 'message-too-long' };
    }
    first ??= bestStart;
    best.dayUsed += parts;
    best.monthUsed += parts;
    const sendMs = best.perPart ? best.sendMs * parts : best.sendMs;
    // At least 1 ms: a zero cycle would start every message at the same instant forever.
    best.t = bestStart + Math.max(1, best.pauseMs + sendMs);
    finish = Math.max(finish, bestStart + sendMs);
  }
  return { finishAt: new Date(finish), startAt: first === null ? null : new Date(first), problem: null };
}

/**
 * The forecast as staff read it, in Russian: "≈ 40 мин, окончание сегодня 15:10" (under an
 * hour), "сегодня до 18:10" (later today), "≈ 14 ч, окончание завтра 10:00" (under a day),
 * "≈ 2 дня, окончание чт 14:20", or why it will not finish ("не закончится: нет доступных
 * SIM-карт" — `problem` picks the reason; without it, no SIMs is assumed).
 */
export function describeForecast(finishAt: Date | null, now: Date, tz: string, problem?: ForecastProblem | null): string {
  if (!finishAt) return forecastWords.never(problem ?? 'no-sims');
  const ms = finishAt.getTime() - now.getTime();
  if (ms <= 0) return forecastWords.done;
  // Shown to the minute, rounded up: "до 13:00" must not be said of 13:00:06.
  const shown = new Date(Math.ceil(finishAt.getTime() / 60_000) * 60_000);
  const p = localParts(shown, tz);
  const todayYear = localParts(now, tz).year;
  const daysAhead = localDaysBetween(now, shown, tz);
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return forecastWords.lessThanMinute(p, daysAhead, todayYear);
  if (minutes < 60) return forecastWords.minutes(minutes, p, daysAhead, todayYear);
  if (daysAhead === 0) return forecastWords.laterToday(p);
  const hours = Math.round(ms / 3_600_000);
  if (hours < 24) return forecastWords.hours(hours, p, daysAhead, todayYear);
  return forecastWords.days(Math.max(1, Math.round(ms / 86_400_000)), p, daysAhead, todayYear);
}
