import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { actorLabel, systemActor, type Actor } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import { normalisePhone, requireMobile } from '../lists/phone.js';
import type { Logger } from '../logger.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { countSegments } from '../templates/segments.js';
import { ComplianceRepo, lockNumber, type InboundRecord, type StopListEntry, type StopListSource } from './compliance-repo.js';
import { consentState, type ConsentEvent } from './consent.js';
import { matchedStopPhrase } from './opt-out.js';
import { PhoneKeys } from './phone-keys.js';
import { maskPhone } from './redact.js';

/**
 * Two copies of one incoming SMS within this time are one SMS: two AMI consumers of one Asterisk
 * both see it, and a modem restarted with `autodeletesms=no` re-reads its SIM and re-delivers
 * stored SMS as new events. chan_dongle's events carry no timestamp to tell them apart, so the
 * same text from the same sender to the same modem within a day counts once.
 */
export const inboundDedupeWindowMs = 24 * 3600_000;

/** The opt-out confirmation goes ahead of notifications (10) and campaigns (0). */
export const confirmationPriority = 20;

export interface ConsentView {
  phone: string;
  consented: boolean;
  since: Date | null;
  history: Array<ConsentEvent & { recordedAt: Date }>;
}

export interface InboundSms {
  device: string;
  from: string;
  text: string;
}

/**
 * Stop-list, consent register and inbox: what 38-FZ and 152-FZ ask of a sender (CONTEXT.md
 * beside this file). Each change and its audit row commit together; decisions are the pure
 * functions of opt-out.ts and consent.ts.
 */
export class ComplianceService {
  /** Called after a change that may settle messages or queue one (the dispatcher looks at once). */
  onChange: () => void = () => {};
  readonly phoneKeys: PhoneKeys;

  constructor(
    private readonly deps: {
      repo: ComplianceRepo;
      audit: AuditLog;
      settings: SettingsRepo;
      clock: Clock;
      log: Logger;
      instanceId: string;
      phoneKeys?: PhoneKeys;
    },
  ) {
    this.phoneKeys = deps.phoneKeys ?? new PhoneKeys();
  }

  // ------------------------------------------------------------------ incoming SMS and opt-out

  /**
   * An incoming SMS: kept in the inbox (once, see {@link inboundDedupeWindowMs}); if it is an
   * opt-out, in the same transaction the sender goes on the stop-list, their consent is withdrawn,
   * every waiting message to them becomes `skipped`, and (when enabled, once per opt-out) the
   * confirmation SMS is queued.
   */
  async receiveInbound(sms: InboundSms): Promise<{ id: number; duplicate: boolean; optOut: boolean }> {
    const { repo, clock, settings, instanceId, log } = this.deps;
    const now = clock.now();
    const current = await settings.get();
    const sender = normalisePhone(sms.from);
    const phrase = sender.ok ? matchedStopPhrase(sms.text, current.stopPhrases) : null;
    const fingerprint = createHash('sha256').update(`${sms.device}\n${sms.from}\n${sms.text}`).digest('hex');
    const result = await repo.transaction(async (trx) => {
      const imsi = await repo.imsiOfDevice(trx, sms.device);
      const stored = await repo.insertInbound(trx, { receivedAt: now, instanceId, device: sms.device, imsi, from: sender.ok ? sender.phone : sms.from, text: sms.text, fingerprint }, inboundDedupeWindowMs);
      if (!phrase || !sender.ok) return { ...stored, optOut: false, skipped: 0, created: false };
      // A duplicate of an opt-out still opts out: the number may have been taken off the
      // stop-list since the first copy (stopListInTransaction does nothing when it is listed).
      if (!stored.duplicate) await repo.markOptOut(trx, stored.id, phrase);
      const actor = systemActor('ответ-стоп');
      const { created, skipped } = await this.stopListInTransaction(trx, actor, sender.phone, ru.compliance.replyReason(phrase), 'reply', now, stored.id);
      if (created && current.optOutConfirmation.enabled) {
        const text = current.optOutConfirmation.text;
        await trx('messages').insert({
          phone: sender.phone, text, parts: countSegments(text).parts, state: 'waiting',
          priority: confirmationPriority, purpose: 'opt-out-confirmation', created_at: now,
        });
      }
      return { ...stored, optOut: true, skipped, created };
    });
    if (result.duplicate) {
      log.info({ event: 'inbound.duplicate', inboundId: result.id, device: sms.device }, 'the same incoming SMS again: kept once');
    } else {
      log.info({ event: 'inbound.received', inboundId: result.id, device: sms.device, optOut: result.optOut, skipped: result.skipped, from: maskPhone(sms.from) }, 'incoming SMS');
    }
    if (result.created || result.skipped > 0) this.onChange();
    return { id: result.id, duplicate: result.duplicate, optOut: result.optOut };
  }

  // ------------------------------------------------------------------ stop-list

  /** Staff (or the API) add a number. `created` is false when it was already listed (nothing changes). */
  async addToStopList(actor: Actor, rawPhone: unknown, reason: unknown): Promise<{ entry: StopListEntry; created: boolean }> {
    const phone = this.phoneOf(rawPhone);
    const why = optionalText(reason, 'reason', 500);
    const now = this.deps.clock.now();
    const created = await this.deps.repo.transaction(async (trx) => (await this.stopListInTransaction(trx, actor, phone, why, 'manual', now, null)).created);
    if (created) this.onChange();
    return { entry: (await this.deps.repo.stopListEntry(this.deps.repo.knex, phone))!, created };
  }

  /** Removal needs a reason: it lets a person be messaged again, so someone must say why. */
  async removeFromStopList(actor: Actor, rawPhone: unknown, reason: unknown): Promise<void> {
    const phone = this.phoneOf(rawPhone);
    const why = optionalText(reason, 'reason', 500);
    if (!why) throw new AppError('VALIDATION', ru.compliance.removalNeedsReason, { field: 'reason' });
    const now = this.deps.clock.now();
    await this.deps.repo.transaction(async (trx) => {
      if (!(await this.deps.repo.removeFromStopList(trx, phone))) throw new AppError('NOT_FOUND', ru.compliance.notOnStopList);
      await this.deps.audit.record(trx, actor, now, 'stop-list.remove', maskPhone(phone), { reason: why });
    });
  }

  /** Numbers from a file (any column of phones; the one detected as phones is used). */
  async importStopList(actor: Actor, phones: readonly string[], fileName: string, reason: string | null): Promise<{ added: number; already: number }> {
    const now = this.deps.clock.now();
    let added = 0;
    await this.deps.repo.transaction(async (trx) => {
      for (const phone of phones) {
        const { created } = await this.stopListInTransaction(trx, actor, phone, reason ?? ru.compliance.importReason(fileName), 'import', now, null, false);
        if (created) added++;
      }
      await this.deps.audit.record(trx, actor, now, 'stop-list.import', fileName.slice(0, 200), { added, already: phones.length - added });
    });
    if (added > 0) this.onChange();
    return { added, already: phones.length - added };
  }

  stopList(filter: { phone?: string; limit?: number; offset?: number } = {}) {
    return this.deps.repo.stopList(filter);
  }

  async stopListEntry(rawPhone: unknown): Promise<StopListEntry | null> {
    return this.deps.repo.stopListEntry(this.deps.repo.knex, this.phoneOf(rawPhone));
  }

  /**
   * The one place a number enters the stop-list: the entry, the number's waiting messages
   * `skipped`, consent withdrawn (an opt-out is a withdrawal), the audit row — one transaction.
   */
  private async stopListInTransaction(
    trx: Knex.Transaction,
    actor: Actor,
    phone: string,
    reason: string | null,
    source: StopListSource,
    now: Date,
    inboundId: number | null,
    auditEach = true,
  ): Promise<{ created: boolean; skipped: number }> {
    const { repo, audit } = this.deps;
    // The claim takes this lock (shared) before it re-checks the stop-list, so a message is never
    // claimed between this entry being written and being committed (dispatch-repo.ts).
    await lockNumber(trx, phone);
    const created = await repo.addToStopList(trx, { phone, reason, source, inboundId, createdBy: actorLabel(actor), now });
    if (!created) return { created, skipped: 0 };
    const skipped = await repo.skipWaitingTo(trx, phone, ru.compliance.exclusion['stop-list'], now);
    const history = await repo.consentHistory(trx, phone);
    if (consentState(history, now).consented) {
      await repo.addConsent(trx, phone, { action: 'withdrawn', at: now, source: sourceWords[source], document: inboundId ? ru.compliance.inboundDocument(inboundId) : reason, recordedBy: actorLabel(actor) }, now);
    }
    if (auditEach) await audit.record(trx, actor, now, 'stop-list.add', maskPhone(phone), { source, skipped: skipped.length, ...(inboundId ? { inboundId } : {}) });
    return { created, skipped: skipped.length };
  }

  // ------------------------------------------------------------------ consent register

  async giveConsent(actor: Actor, input: { phone?: unknown; source?: unknown; document?: unknown; givenAt?: unknown }): Promise<ConsentView> {
    const phone = this.phoneOf(input.phone);
    const source = requiredText(input.source, 'source', 100, ru.compliance.consentSourceRequired);
    const document = optionalText(input.document, 'document', 300);
    const now = this.deps.clock.now();
    const at = input.givenAt === undefined || input.givenAt === null || input.givenAt === '' ? now : parseInstant(input.givenAt, 'givenAt');
    if (at.getTime() > now.getTime() + 86_400_000) throw new AppError('VALIDATION', ru.compliance.consentInFuture, { field: 'givenAt' });
    await this.deps.repo.transaction(async (trx) => {
      await this.deps.repo.addConsent(trx, phone, { action: 'given', at, source, document, recordedBy: actorLabel(actor) }, now);
      await this.deps.audit.record(trx, actor, now, 'consent.give', maskPhone(phone), { source });
    });
    return this.consentOf(phone);
  }

  async withdrawConsent(actor: Actor, rawPhone: unknown, source?: unknown, document?: unknown): Promise<ConsentView> {
    const phone = this.phoneOf(rawPhone);
    const now = this.deps.clock.now();
    const why = optionalText(source, 'source', 100) ?? ru.compliance.withdrawnByStaff;
    await this.deps.repo.transaction(async (trx) => {
      await this.deps.repo.addConsent(trx, phone, { action: 'withdrawn', at: now, source: why, document: optionalText(document, 'document', 300), recordedBy: actorLabel(actor) }, now);
      await this.deps.audit.record(trx, actor, now, 'consent.withdraw', maskPhone(phone), { source: why });
    });
    return this.consentOf(phone);
  }

  async consentOf(rawPhone: unknown): Promise<ConsentView> {
    const phone = this.phoneOf(rawPhone);
    const history = await this.deps.repo.consentHistory(this.deps.repo.knex, phone);
    const state = consentState(history, this.deps.clock.now());
    return { phone, consented: state.consented, since: state.since, history };
  }

  recentConsents(limit = 100) {
    return this.deps.repo.recentConsents(limit);
  }

  // ------------------------------------------------------------------ inbox

  inbox(filter: { unhandled?: boolean; optOut?: boolean; limit?: number; before?: number } = {}): Promise<InboundRecord[]> {
    return this.deps.repo.inbox(filter);
  }

  inboundMessage(id: number): Promise<InboundRecord | null> {
    return this.deps.repo.inboundById(id);
  }

  unhandledCount(): Promise<number> {
    return this.deps.repo.unhandledCount();
  }

  async setHandled(actor: Actor, id: number, handled: boolean): Promise<InboundRecord> {
    const now = this.deps.clock.now();
    await this.deps.repo.transaction(async (trx) => {
      if (!(await this.deps.repo.setHandled(trx, id, handled, actorLabel(actor), now))) throw new AppError('NOT_FOUND', ru.compliance.inboundNotFound);
      await this.deps.audit.record(trx, actor, now, 'inbox.handled', String(id), { handled });
    });
    return (await this.deps.repo.inboundById(id))!;
  }

  // ------------------------------------------------------------------ helpers

  /** A number as staff type it → E.164 mobile, or a 422 naming the field. */
  phoneOf(raw: unknown): string {
    return requireMobile(raw);
  }
}

const sourceWords: Record<StopListSource, string> = {
  reply: 'ответ SMS',
  manual: 'вручную',
  import: 'из файла',
};

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new AppError('VALIDATION', ru.compliance.mustBeText(field), { field });
  const text = value.replace(/\s+/g, ' ').trim();
  if (text.length > max) throw new AppError('VALIDATION', ru.compliance.tooLong(field, max), { field });
  return text === '' ? null : text;
}

function requiredText(value: unknown, field: string, max: number, missing: string): string {
  const text = optionalText(value, field, max);
  if (!text) throw new AppError('VALIDATION', missing, { field });
  return text;
}

/** `2026-03-15`, `2026-03-15T10:00:00Z` or `15.03.2026` → an instant (a bare date: 00:00 UTC of that day). */
function parseInstant(value: unknown, field: string): Date {
  if (typeof value === 'string') {
    const dmy = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(value.trim());
    const date = dmy ? new Date(Date.UTC(Number(dmy[3]), Number(dmy[2]) - 1, Number(dmy[1]))) : new Date(value.trim());
    if (!Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 2000) return date;
  }
  throw new AppError('VALIDATION', ru.compliance.badDate(field), { field });
}
