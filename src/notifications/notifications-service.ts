import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.js';
import { actorLabel, type Actor } from '../auth/actor.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { normalisePhone, requireMobile } from '../lists/phone.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import type { Settings } from '../settings/settings.js';
import { countSegments, segmentProblem } from '../templates/segments.js';
import { templateProblem } from '../templates/render.js';
import { erasedText, erasedValue as erasedMarker } from '../compliance/erasure-repo.js';
import { maskPhone } from '../compliance/redact.js';
import {
  DialplanCounters, defaultRepeatGuardMinutes, eventProblemText, fieldValueProblem, isRepeat, maxFieldNameChars, maxFields,
  maxRepeatGuardMinutes, maxTemplateChars, parseKeepWindow, parseNotifyEvent, phoneOutcome, renderNotification,
  templateNamePattern, windowDecision, type DialplanOutcome, type KeepWindow,
} from './notification-policy.js';
import { NotificationsRepo, type Db, type NotificationRecord, type NotificationTemplate } from './notifications-repo.js';

/** Notifications go ahead of campaign traffic: the claim orders by priority first. */
export const notificationPriority = 10;

export type Notification = NotificationRecord;

/** Why a number gets nothing (stop-list, erasure), read with the caller's connection or transaction. */
export type ExclusionOf = (db: Db, phone: string, now: Date) => Promise<string | { reason: string; erased: true } | null>;

export const outsideWindowReason = 'вне окна отправки (шаблон: не отправлять вне окна)';
export const repeatReason = (minutes: number) => `повтор: этот шаблон уже отправлялся на номер за последние ${minutes} мин.`;

export interface NotificationRequest {
  phone: unknown;
  text?: unknown;
  template?: unknown;
  fields?: unknown;
}

export interface SendOptions {
  source: 'api' | 'dialplan';
  /** An API `Idempotency-Key` of one token: the same key never makes a second message. */
  idempotency?: { tokenId: number; key: string };
}

export interface SendResult {
  notification: Notification;
  /** Guarded out (stop-list, repeat, outside the window): stored `skipped` with the reason. */
  skipped: boolean;
  /** An earlier request with the same idempotency key made it; nothing new was stored. */
  repeated: boolean;
}

type StoreOutcome = 'queued' | 'stop-list' | 'repeat' | 'outside-window';

export interface NotificationsServiceDeps {
  knex: Knex;
  settings: SettingsRepo;
  clock: Clock;
  log: Logger;
  audit?: AuditLog;
  /** Absent: nobody is stopped. */
  exclusionOf?: ExclusionOf;
}

/**
 * Single SMS asked for by another system ("your order 84315 is ready") or by the PBX's dialplan
 * (`UserEvent(SimcastNotify,…)` after a missed call): a message without a campaign, sent by the
 * same dispatcher, under the same SIM limits. Named templates live here; the decisions are in
 * notification-policy.ts, the SQL in notifications-repo.ts.
 */
export class NotificationsService {
  /** Called after a notification is queued, so the dispatcher looks at once. */
  onQueued: () => void = () => {};
  readonly repo: NotificationsRepo;
  private readonly counters = new DialplanCounters();
  private readonly knex: Knex;
  private readonly settings: SettingsRepo;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly exclusionOf: ExclusionOf;

  constructor(private readonly deps: NotificationsServiceDeps) {
    this.knex = deps.knex;
    this.settings = deps.settings;
    this.clock = deps.clock;
    this.log = deps.log;
    this.exclusionOf = deps.exclusionOf ?? (async () => null);
    this.repo = new NotificationsRepo(deps.knex);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Queues one SMS: `{phone, text}` or `{phone, template, fields}`. Bad input is an AppError
   * (VALIDATION). Guarded out (stop-list, erased, repeat, outside a `drop` template's window) is
   * not an error: the notification is stored `skipped` with the reason.
   */
  async send(request: NotificationRequest, options: SendOptions): Promise<SendResult> {
    // A repeat answers with the first request's notification even if the template or the settings
    // changed since (it would no longer validate): checked before anything else. The insert path
    // below checks again under the key's lock, for concurrent first requests.
    if (options.idempotency) {
      const earlier = await this.repo.byIdempotencyKey(this.knex, options.idempotency.tokenId, options.idempotency.key);
      if (earlier !== null) {
        const notification = await this.get(earlier);
        return { notification, skipped: notification.state === 'skipped', repeated: true };
      }
    }
    const phone = requireMobile(request.phone);
    const settings = await this.settings.get();
    const now = this.clock.now();
    let template: NotificationTemplate | null = null;
    let text: string;
    if (request.template !== undefined && request.template !== null) {
      if (request.text !== undefined) throw new AppError('VALIDATION', 'text: либо text, либо template с fields, не оба сразу.');
      if (typeof request.template !== 'string' || !templateNamePattern.test(request.template)) {
        throw new AppError('VALIDATION', 'template: имя шаблона — латинские строчные буквы, цифры и дефис, до 64 символов.');
      }
      template = await this.repo.templateByName(this.knex, request.template);
      if (!template) throw new AppError('VALIDATION', `template: нет шаблона «${request.template}».`);
      const rendered = renderNotification(template.text, apiFields(request.fields), now, settings.timezone);
      if (!rendered.ok) throw new AppError('VALIDATION', `fields: ${rendered.problem}`);
      text = rendered.text;
    } else {
      text = typeof request.text === 'string' ? request.text.replace(/\r\n?/g, '\n') : '';
      if (!text.trim()) throw new AppError('VALIDATION', 'text: напишите текст SMS (или укажите template).');
    }
    const segments = countSegments(text);
    const problem = segmentProblem(text, segments, settings.maxParts);
    if (problem) throw new AppError('VALIDATION', `text: ${problem}`);
    const stored = await this.store({ phone, text, parts: segments.parts, template, ...options }, now, settings);
    return { notification: await this.get(stored.id), skipped: stored.outcome !== 'queued', repeated: stored.repeated };
  }

  /**
   * The one transaction that decides and inserts: idempotency key (locked, looked up), stop-list,
   * the repeat guard (locked per template and number, so two requests or two instances on one
   * database cannot both pass it), the window, the insert.
   */
  private async store(
    input: { phone: string; text: string; parts: number; template: NotificationTemplate | null } & SendOptions,
    now: Date,
    settings: Settings,
  ): Promise<{ id: number; outcome: StoreOutcome; repeated: boolean }> {
    const { idempotency, template } = input;
    const result = await this.knex.transaction(async (trx) => {
      if (idempotency) {
        await this.repo.lockIdempotency(trx, idempotency.tokenId, idempotency.key);
        const earlier = await this.repo.byIdempotencyKey(trx, idempotency.tokenId, idempotency.key);
        if (earlier !== null) return { id: earlier, outcome: 'queued' as StoreOutcome, repeated: true };
      }
      const exclusion = await this.exclusionOf(trx, input.phone, now);
      const erased = typeof exclusion === 'object' && exclusion !== null;
      let skip: { outcome: StoreOutcome; reason: string } | null = exclusion === null
        ? null
        : { outcome: 'stop-list', reason: typeof exclusion === 'string' ? exclusion : exclusion.reason };
      let keepWindow: boolean | null = null;
      if (template && !skip) {
        if (template.repeatGuardMinutes > 0) {
          await this.repo.lockRepeat(trx, template.id, input.phone);
          const since = new Date(now.getTime() - template.repeatGuardMinutes * 60_000);
          const last = await this.repo.lastOfTemplate(trx, template.id, input.phone, since);
          if (isRepeat(last, now, template.repeatGuardMinutes)) skip = { outcome: 'repeat', reason: repeatReason(template.repeatGuardMinutes) };
        }
        if (!skip) {
          const decision = windowDecision(template.keepWindow, { now, window: settings.window, timeZone: settings.timezone });
          if (decision.action === 'drop') skip = { outcome: 'outside-window', reason: outsideWindowReason };
          else keepWindow = decision.keepWindow;
        }
      }
      const id = await this.repo.insert(trx, {
        phone: erased ? erasedMarker : input.phone,
        text: erased ? erasedText : input.text,
        parts: input.parts,
        priority: notificationPriority,
        created_at: now,
        notification_template_id: template?.id ?? null,
        keep_window: keepWindow,
        source: input.source,
        idempotency_token_id: idempotency?.tokenId ?? null,
        idempotency_key: idempotency?.key ?? null,
        ...(skip ? { state: 'skipped', error: skip.reason, finished_at: now } : { state: 'waiting' }),
      });
      if (id === null && idempotency) {
        const earlier = await this.repo.byIdempotencyKey(trx, idempotency.tokenId, idempotency.key);
        if (earlier !== null) return { id: earlier, outcome: 'queued' as StoreOutcome, repeated: true };
      }
      if (id === null) throw new Error('notification insert returned no row');
      return { id, outcome: skip?.outcome ?? 'queued', repeated: false };
    });
    if (result.repeated) {
      const earlier = await this.get(result.id);
      return { ...result, outcome: earlier.state === 'skipped' ? 'stop-list' : 'queued' };
    }
    if (result.outcome === 'queued') this.onQueued();
    return result;
  }

  async get(id: number): Promise<Notification> {
    const found = await this.repo.get(this.knex, id);
    if (!found) throw new AppError('NOT_FOUND', 'Уведомление не найдено.');
    return found;
  }

  async list(filter: { template?: string; state?: string; limit: number; offset: number }): Promise<{ total: number; items: Notification[] }> {
    let templateId: number | undefined;
    if (filter.template) {
      const t = await this.repo.templateByName(this.knex, filter.template);
      if (!t) return { total: 0, items: [] };
      templateId = t.id;
    }
    return this.repo.list({ templateId, state: filter.state, limit: filter.limit, offset: filter.offset });
  }

  // ---------------------------------------------------------------- the dialplan

  /**
   * One `UserEvent: SimcastNotify` from this instance's own AMI (body headers, names lower-case).
   * Never throws: every outcome is logged with its reason and counted ({@link dialplanStats}).
   */
  async receiveDialplanEvent(headers: Readonly<Record<string, string>>): Promise<DialplanOutcome> {
    try {
      return await this.handleDialplanEvent(headers);
    } catch (err) {
      this.dialplanLost(err);
      return 'error';
    }
  }

  /**
   * Handles one event and counts its outcome. A failure of the database throws, uncounted, so that
   * the caller can try again: the caller hung up seconds ago and still deserves the SMS. A repeat
   * after a commit whose answer was lost meets the template's repeat guard, not a second SMS.
   */
  async handleDialplanEvent(headers: Readonly<Record<string, string>>): Promise<DialplanOutcome> {
    const outcome = await this.dialplan(headers);
    this.counters.add(outcome);
    return outcome;
  }

  /** An event given up on (the database stayed down): logged and counted as `error`. */
  dialplanLost(err: unknown): void {
    this.log.error({ event: 'notify.dialplan.failed', err }, 'could not handle a SimcastNotify event');
    this.counters.add('error');
  }

  /** Dialplan events handled since start, by outcome (for /metrics). */
  dialplanStats(): Record<DialplanOutcome, number> & { total: number } {
    return this.counters.snapshot();
  }

  private async dialplan(headers: Readonly<Record<string, string>>): Promise<DialplanOutcome> {
    const parsed = parseNotifyEvent(headers);
    if (!parsed.ok) {
      this.log.warn({ event: 'notify.dialplan.malformed', problem: parsed.problem, detail: parsed.detail }, `SimcastNotify refused: ${eventProblemText[parsed.problem]}`);
      return 'malformed';
    }
    const phone = phoneOutcome(normalisePhone(parsed.phone));
    if (!phone.ok) {
      // A landline caller is normal (the office gets calls from offices): noted, not an error.
      const level = phone.outcome === 'landline' ? 'info' : 'warn';
      this.log[level]({ event: `notify.dialplan.${phone.outcome}`, phone: maskPhone(parsed.phone), template: parsed.template }, 'SimcastNotify: no SMS to this number');
      return phone.outcome;
    }
    const template = await this.repo.templateByName(this.knex, parsed.template);
    if (!template) {
      this.log.warn({ event: 'notify.dialplan.unknown-template', template: parsed.template }, 'SimcastNotify: no such template');
      return 'unknown-template';
    }
    const settings = await this.settings.get();
    const now = this.clock.now();
    const rendered = renderNotification(template.text, parsed.fields, now, settings.timezone);
    const problem = rendered.ok ? segmentProblem(rendered.text, countSegments(rendered.text), settings.maxParts) : rendered.problem;
    if (!rendered.ok || problem) {
      this.log.warn({ event: 'notify.dialplan.bad-text', template: template.name, problem }, 'SimcastNotify: the text cannot be sent');
      return 'bad-text';
    }
    const stored = await this.store({ phone: phone.phone, text: rendered.text, parts: countSegments(rendered.text).parts, template, source: 'dialplan' }, now, settings);
    this.log.info({ event: `notify.dialplan.${stored.outcome}`, messageId: stored.id, template: template.name, phone: maskPhone(phone.phone) }, 'SimcastNotify handled');
    return stored.outcome;
  }

  // ---------------------------------------------------------------- templates

  templates(): Promise<NotificationTemplate[]> {
    return this.repo.templates();
  }

  async template(name: string): Promise<NotificationTemplate> {
    const t = templateNamePattern.test(name) ? await this.repo.templateByName(this.knex, name) : null;
    if (!t) throw new AppError('NOT_FOUND', 'Нет такого шаблона уведомления.');
    return t;
  }

  /** Creates or replaces a template (admins); the audit row commits with it. */
  async saveTemplate(actor: Actor, name: unknown, body: { text?: unknown; repeatGuardMinutes?: unknown; keepWindow?: unknown }): Promise<{ template: NotificationTemplate; created: boolean }> {
    if (typeof name !== 'string' || !templateNamePattern.test(name)) {
      throw new AppError('VALIDATION', 'name: латинские строчные буквы, цифры и дефис (первый символ — буква или цифра), до 64 символов, например missed-call.', { field: 'name' });
    }
    const text = typeof body.text === 'string' ? body.text.replace(/\r\n?/g, '\n') : '';
    if (!text.trim()) throw new AppError('VALIDATION', 'text: напишите текст шаблона.', { field: 'text' });
    if (text.length > maxTemplateChars) throw new AppError('VALIDATION', `text: не длиннее ${maxTemplateChars} символов.`, { field: 'text' });
    const syntax = templateProblem(text);
    if (syntax) throw new AppError('VALIDATION', `text: ${syntax}`, { field: 'text' });
    const minutes = body.repeatGuardMinutes === undefined ? defaultRepeatGuardMinutes : typeof body.repeatGuardMinutes === 'number' ? body.repeatGuardMinutes : Number.NaN;
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > maxRepeatGuardMinutes) {
      throw new AppError('VALIDATION', `repeatGuardMinutes: целое число минут от 0 (без защиты) до ${maxRepeatGuardMinutes}.`, { field: 'repeatGuardMinutes' });
    }
    const keepWindow: KeepWindow | null = body.keepWindow === undefined ? 'setting' : parseKeepWindow(body.keepWindow);
    if (!keepWindow) throw new AppError('VALIDATION', 'keepWindow: "setting", "queue", "drop", "any" (или true = "queue", false = "any").', { field: 'keepWindow' });
    const now = this.clock.now();
    return this.knex.transaction(async (trx) => {
      const saved = await this.repo.saveTemplate(trx, { name, text, repeatGuardMinutes: minutes, keepWindow, updatedBy: actorLabel(actor) }, now);
      await this.deps.audit?.record(trx, actor, now, 'notification-template.save', `notification-template:${name}`, {
        created: saved.created, repeatGuardMinutes: minutes, keepWindow, length: text.length,
      });
      return saved;
    });
  }
}

/** API `fields`: an object of strings (numbers are taken as text); every value checked, nothing cut. */
function apiFields(input: unknown): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new AppError('VALIDATION', 'fields: объект {"Поле": "значение"}.');
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > maxFields) throw new AppError('VALIDATION', `fields: не больше ${maxFields} полей.`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, raw] of entries) {
    if (name.length > maxFieldNameChars) throw new AppError('VALIDATION', `fields: имя поля длиннее ${maxFieldNameChars} символов.`);
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new AppError('VALIDATION', `fields.${name}: нужна строка.`);
    const value = String(raw);
    const problem = fieldValueProblem(value, { newlines: true });
    if (problem) throw new AppError('VALIDATION', `fields.${name}: ${eventProblemText[problem]}.`);
    out[name] = value;
  }
  return out;
}
