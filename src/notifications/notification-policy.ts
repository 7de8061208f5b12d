/**
 * What may become of one notification (pure: time and facts passed in, no I/O).
 *
 * A notification comes from the dialplan (`UserEvent(SimcastNotify,Phone: …,Template: …,Called: …)`)
 * or the API (`{phone, template, fields}` / `{phone, text}`). The service reads the facts (template,
 * settings, stop-list, the last message of the same template to the same number) and asks here:
 * is the event well-formed, what is the text, and does it go, wait for the window, or stay skipped.
 */
import { isInsideWindow, type SendingWindow } from '../scheduling/sending-window.js';
import { localParts } from '../scheduling/zoned-time.js';
import { renderTemplate, templateProblem } from '../templates/render.js';
import type { PhoneResult } from '../lists/phone.js';

/**
 * What a template does outside the sending window (settings `window`):
 * - `setting`: follow the setting `notificationsKeepWindow` (off: any hour; on: wait for the window);
 * - `queue`: wait for the window, whatever the setting;
 * - `drop`: outside the window the notification is not sent at all (skipped, «вне окна отправки»):
 *   for news that is stale by morning ("we missed your call");
 * - `any`: send at any hour, whatever the setting.
 * The API also takes booleans: `true` = `queue`, `false` = `any`.
 */
export const keepWindowValues = ['setting', 'queue', 'drop', 'any'] as const;
export type KeepWindow = (typeof keepWindowValues)[number];

export function parseKeepWindow(value: unknown): KeepWindow | null {
  if (value === true) return 'queue';
  if (value === false) return 'any';
  return typeof value === 'string' && (keepWindowValues as readonly string[]).includes(value) ? (value as KeepWindow) : null;
}

export const templateNamePattern = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Default repeat guard: no second SMS of one template to one number within a day. */
export const defaultRepeatGuardMinutes = 1440;
export const maxRepeatGuardMinutes = 525_600;
/** Longest field value (an event header or an API field): a name, a number, an order id. */
export const maxFieldValueChars = 500;
/** Longest field name. */
export const maxFieldNameChars = 64;
/** Most fields one notification may carry. */
export const maxFields = 50;
/** Longest template text (before rendering; the rendered text is checked for parts separately). */
export const maxTemplateChars = 2000;

/** Headers of a SimcastNotify event that are not fields. */
const PHONE = 'phone';
const TEMPLATE = 'template';

// C0 controls and DEL and the C1 range: they would reach chan_dongle as Message text (the gateway
// refuses them), and nobody types them into a dialplan on purpose.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Why a dialplan event is refused before anything is looked up. Stable codes (counters, logs). */
export type EventProblem = 'no-phone' | 'no-template' | 'bad-template-name' | 'too-long' | 'control-characters' | 'too-many-fields';

export type ParsedEvent =
  | { ok: true; phone: string; template: string; fields: Record<string, string> }
  | { ok: false; problem: EventProblem; detail: string };

/** Russian texts for page and log readers. */
export const eventProblemText: Record<EventProblem, string> = {
  'no-phone': 'в событии нет заголовка Phone',
  'no-template': 'в событии нет заголовка Template',
  'bad-template-name': 'имя шаблона: латинские строчные буквы, цифры и дефис, до 64 символов',
  'too-long': `значение длиннее ${maxFieldValueChars} символов`,
  'control-characters': 'в значении управляющие символы',
  'too-many-fields': `больше ${maxFields} полей`,
};

/**
 * A field's value problem, or null. Nothing is stripped or cut silently: a bad value refuses the
 * whole notification. `newlines`: API fields may hold line breaks, event headers cannot anyway.
 */
export function fieldValueProblem(value: string, options: { newlines?: boolean } = {}): 'too-long' | 'control-characters' | null {
  if (value.length > maxFieldValueChars) return 'too-long';
  if ((options.newlines ? CONTROL_BUT_NEWLINE : CONTROL).test(value)) return 'control-characters';
  return null;
}

/**
 * The body headers of a SimcastNotify event (channel headers already left out by the AMI adapter;
 * names lower-cased, as AMI matches them): `Phone`, `Template`, the rest are fields.
 */
export function parseNotifyEvent(headers: Readonly<Record<string, string>>): ParsedEvent {
  const entries = Object.entries(headers);
  for (const [name, value] of entries) {
    if (name.length > maxFieldNameChars) return { ok: false, problem: 'too-long', detail: `заголовок ${name.slice(0, 20)}…` };
    const problem = fieldValueProblem(value);
    if (problem) return { ok: false, problem, detail: `заголовок ${name}` };
  }
  const phone = (headers[PHONE] ?? '').trim();
  const template = (headers[TEMPLATE] ?? '').trim();
  if (phone === '') return { ok: false, problem: 'no-phone', detail: '' };
  if (template === '') return { ok: false, problem: 'no-template', detail: '' };
  if (!templateNamePattern.test(template)) return { ok: false, problem: 'bad-template-name', detail: template.slice(0, 70) };
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of entries) if (name !== PHONE && name !== TEMPLATE) fields[name] = value;
  if (Object.keys(fields).length > maxFields) return { ok: false, problem: 'too-many-fields', detail: '' };
  return { ok: true, phone, template, fields };
}

/** Local `HH:MM` in the office time zone: the `{{time}}` field. */
export function localTime(now: Date, timeZone: string): string {
  const p = localParts(now, timeZone);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/**
 * Renders a notification template. The given fields win; `time` (local HH:MM) is there unless
 * given. A field the template names but the event/request lacks (or leaves empty) refuses the
 * notification: an SMS with a hole ("Вам звонили на ") is worse than none.
 */
export function renderNotification(
  template: string,
  given: Readonly<Record<string, string>>,
  now: Date,
  timeZone: string,
): { ok: true; text: string } | { ok: false; problem: string } {
  const syntax = templateProblem(template);
  if (syntax) return { ok: false, problem: syntax };
  const fields: Record<string, string> = { time: localTime(now, timeZone), ...given };
  const { text, missing } = renderTemplate(template, fields);
  if (missing.length > 0) return { ok: false, problem: `нет значения для ${missing.map((m) => `{{${m}}}`).join(', ')}` };
  if (text.trim() === '') return { ok: false, problem: 'текст пустой' };
  return { ok: true, text };
}

/** Why a number gets no notification before any lookup: only valid Russian mobile numbers get SMS. */
export type PhoneOutcome = { ok: true; phone: string } | { ok: false; outcome: 'landline' | 'invalid-phone' };

export function phoneOutcome(result: PhoneResult): PhoneOutcome {
  if (result.ok) return { ok: true, phone: result.phone };
  return { ok: false, outcome: result.reason === 'landline' ? 'landline' : 'invalid-phone' };
}

/** True when a message of the same template went to the same number less than `minutes` ago. */
export function isRepeat(lastAt: Date | null, now: Date, minutes: number): boolean {
  if (lastAt === null || minutes <= 0) return false;
  return now.getTime() - lastAt.getTime() < minutes * 60_000;
}

export interface WindowFacts {
  now: Date;
  window: SendingWindow;
  timeZone: string;
}

/**
 * What the window means for a new notification:
 * - `drop`: the template says `drop` and the window is closed now → skipped;
 * - otherwise it is queued with `keepWindow` for the dispatcher's claim (null: follow the setting,
 *   true: wait for the window, false: any hour). A `drop` notification queued inside the window
 *   that is still waiting when the window closes waits for the next one (never sent at night).
 */
export function windowDecision(keepWindow: KeepWindow, facts: WindowFacts): { action: 'drop' } | { action: 'queue'; keepWindow: boolean | null } {
  switch (keepWindow) {
    case 'setting':
      return { action: 'queue', keepWindow: null };
    case 'any':
      return { action: 'queue', keepWindow: false };
    case 'queue':
      return { action: 'queue', keepWindow: true };
    case 'drop':
      return isInsideWindow(facts.now, facts.window, facts.timeZone) ? { action: 'queue', keepWindow: true } : { action: 'drop' };
  }
}

/** Outcomes of a dialplan event, counted by {@link DialplanCounters}. Stable codes. */
export const dialplanOutcomes = [
  'queued', 'repeat', 'stop-list', 'outside-window', 'landline', 'invalid-phone',
  'unknown-template', 'malformed', 'bad-text', 'error',
] as const;
export type DialplanOutcome = (typeof dialplanOutcomes)[number];

/** In-memory counters since start, by outcome (a /metrics endpoint can read them). */
export class DialplanCounters {
  private readonly counts = new Map<DialplanOutcome, number>(dialplanOutcomes.map((o) => [o, 0]));

  add(outcome: DialplanOutcome): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  snapshot(): Record<DialplanOutcome, number> & { total: number } {
    const out = Object.fromEntries(this.counts) as Record<DialplanOutcome, number>;
    return { ...out, total: [...this.counts.values()].reduce((a, b) => a + b, 0) };
  }
}
