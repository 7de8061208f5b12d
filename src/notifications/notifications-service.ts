import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { toMessage, type MessageRecord } from '../campaigns/campaigns-repo.js';
import { normalisePhone, phoneRejectionText } from '../lists/phone.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { countSegments, segmentProblem } from '../templates/segments.js';
import { erasedText, erasedValue as erasedMarker } from '../compliance/erasure-repo.js';

/** Notifications go ahead of campaign traffic: the claim orders by priority first. */
export const notificationPriority = 10;

export type Notification = MessageRecord;

/**
 * Single SMS asked for by another system ("your order 84315 is ready"): a message without a
 * campaign, sent by the same dispatcher, under the same SIM limits.
 */
export class NotificationsService {
  /** Called after a notification is queued, so the dispatcher looks at once. */
  onQueued: () => void = () => {};

  constructor(
    private readonly knex: Knex,
    private readonly settings: SettingsRepo,
    private readonly clock: Clock,
    /**
     * Why this number gets nothing (the stop-list, an erasure), or null. Absent: nobody is stopped.
     * `erased`: the number's data was erased on request, so the skipped row keeps neither it nor the text.
     */
    private readonly exclusionOf: (phone: string, now: Date) => Promise<string | { reason: string; erased: true } | null> = async () => null,
  ) {}

  /**
   * Queues one SMS. A number on the stop-list (or erased) is not an error for the caller: the
   * notification is stored `skipped` with the reason, and `skipped` is true.
   */
  async send(request: { phone: unknown; text: unknown }): Promise<Notification & { skipped: boolean }> {
    const phone = normalisePhone(request.phone);
    if (!phone.ok) throw new AppError('VALIDATION', `phone: ${phoneRejectionText(phone.reason)}`);
    const text = typeof request.text === 'string' ? request.text.replace(/\r\n?/g, '\n') : '';
    if (!text.trim()) throw new AppError('VALIDATION', 'text: напишите текст SMS.');
    const { maxParts } = await this.settings.get();
    const segments = countSegments(text);
    const problem = segmentProblem(text, segments, maxParts);
    if (problem) throw new AppError('VALIDATION', `text: ${problem}`);
    const now = this.clock.now();
    const exclusion = await this.exclusionOf(phone.phone, now);
    const excluded = typeof exclusion === 'string' ? exclusion : (exclusion?.reason ?? null);
    const erased = typeof exclusion === 'object' && exclusion !== null;
    const [row] = await this.knex('messages')
      .insert({
        phone: erased ? erasedMarker : phone.phone, text: erased ? erasedText : text, parts: segments.parts, priority: notificationPriority, created_at: now,
        ...(excluded ? { state: 'skipped', error: excluded, finished_at: now } : { state: 'waiting' }),
      })
      .returning('id');
    if (!excluded) this.onQueued();
    return { ...(await this.get(Number(row.id))), skipped: excluded !== null };
  }

  async get(id: number): Promise<Notification> {
    const row = await this.knex('messages').whereNull('campaign_id').andWhere({ id }).first();
    if (!row) throw new AppError('NOT_FOUND', 'Уведомление не найдено.');
    return toMessage(row);
  }
}
