import { z } from 'zod';
import { DEFAULT_STOP_PHRASES, stopPhrasesProblem } from '../compliance/opt-out.js';
import { MAX_PARTS_THAT_FIT } from '../templates/segments.js';

/** The hard cap of one upload in memory (multer); the administrator's limit is at most this. */
export const MAX_IMPORT_MB = 50;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'время в виде ЧЧ:ММ, например 09:00');

/** Zones already found valid: a new Intl formatter is costly, and settings are parsed on every dispatcher tick. */
const validZones = new Set<string>();

function isTimeZone(tz: string): boolean {
  if (validZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('ru-RU', { timeZone: tz });
    validZones.add(tz);
    return true;
  } catch {
    return false;
  }
}

/**
 * Settings staff may change while the service runs (stored in the `settings` table).
 * Defaults are what a new install starts with. Per-SIM values (limits, pauses, price) live on
 * the SIM; the `default…` ones here are what a SIM gets when it is seen for the first time.
 */
export const settingsSchema = z.object({
  /** The office's time zone: days, months and the window are counted in it. */
  timezone: z.string().refine(isTimeZone, 'неизвестный часовой пояс (пример: Europe/Moscow)'),
  /** Campaigns send only inside this window of local time (from == to: all day). */
  window: z.object({ from: hhmm, to: hhmm }).strict(),
  /** Whether single notifications (API, dialplan) also keep to the window. */
  notificationsKeepWindow: z.boolean(),
  /** Default pause between two SMS of one SIM, seconds: drawn at random between min and max. */
  sendPauseSeconds: z.number().min(0).max(3600),
  sendPauseMaxSeconds: z.number().min(0).max(3600),
  /** Defaults for SIMs seen for the first time. */
  dailyLimit: z.number().int().min(0).max(100_000),
  monthlyLimit: z.number().int().min(0).max(1_000_000),
  /** Price of one SMS part in roubles (cost estimates; the default for new SIMs). */
  pricePerPart: z.number().min(0).max(100),
  /** The most parts one message may take; longer messages are flagged before Start. Capped to what one AMI line carries. */
  maxParts: z.number().int().min(1).max(MAX_PARTS_THAT_FIT, `не больше ${MAX_PARTS_THAT_FIT}: более длинный текст не пройдёт через AMI одной строкой`),
  /** A message with no report this long after it was handed to chan_dongle becomes `unknown`. */
  messageTimeoutSeconds: z.number().int().min(10).max(86_400),
  /** Ask chan_dongle for delivery reports (Report: yes): messages can become `delivered`. */
  deliveryReports: z.boolean(),
  /** A reply made of these (compliance/opt-out.ts decides) puts the sender on the stop-list. */
  stopPhrases: z.array(z.string().max(200)).max(200).superRefine((phrases, ctx) => {
    const problem = stopPhrasesProblem(phrases);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** An SMS «Вы отписаны…» once per opt-out by reply, ahead of campaign traffic. Off by default. */
  optOutConfirmation: z.object({ enabled: z.boolean(), text: z.string().min(1).max(300) }).strict(),
  /** Largest list file accepted, MB (the upload itself is capped at {@link MAX_IMPORT_MB}). */
  importMaxMb: z.number().int().min(1).max(MAX_IMPORT_MB),
  /** Most data rows of one list file. */
  importMaxRows: z.number().int().min(10).max(500_000),
});

export type Settings = z.infer<typeof settingsSchema>;

export const defaultSettings: Settings = Object.freeze({
  timezone: 'Europe/Moscow',
  window: Object.freeze({ from: '09:00', to: '21:00' }),
  notificationsKeepWindow: false,
  sendPauseSeconds: 20,
  sendPauseMaxSeconds: 40,
  dailyLimit: 100,
  monthlyLimit: 3000,
  pricePerPart: 0.06,
  maxParts: 7,
  messageTimeoutSeconds: 90,
  deliveryReports: false,
  stopPhrases: [...DEFAULT_STOP_PHRASES],
  optOutConfirmation: Object.freeze({ enabled: false, text: 'Вы отписаны от рассылок и больше не получите от нас рекламных SMS.' }),
  importMaxMb: 20,
  importMaxRows: 200_000,
});

/** A partial update, every field checked; unknown keys are an error, not silently ignored. */
export const settingsPatchSchema = settingsSchema.partial().strict();

/**
 * The pause range a new SIM gets. Setting only `sendPauseSeconds` (as the first version's API
 * did) means a fixed pause: the maximum never falls below the minimum.
 */
export function defaultPauseRange(s: Settings): { min: number; max: number } {
  return { min: s.sendPauseSeconds, max: Math.max(s.sendPauseSeconds, s.sendPauseMaxSeconds) };
}
