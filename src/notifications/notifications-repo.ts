import type { Knex } from 'knex';
import { toMessage, type MessageRecord } from '../campaigns/campaigns-repo.js';
import type { KeepWindow } from './notification-policy.js';

export type Db = Knex | Knex.Transaction;

export interface NotificationTemplate {
  id: number;
  name: string;
  text: string;
  repeatGuardMinutes: number;
  keepWindow: KeepWindow;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export type NotificationRecord = MessageRecord & { template: string | null; source: string | null; createdAt: Date | null };

/** Advisory lock namespaces (first key of pg_advisory_xact_lock(int, int)). */
const LOCK_REPEAT = 0x5c_0001;
const LOCK_IDEMPOTENCY = 0x5c_0002;

function toTemplate(row: Record<string, unknown>): NotificationTemplate {
  return {
    id: Number(row.id),
    name: row.name as string,
    text: row.text as string,
    repeatGuardMinutes: Number(row.repeat_guard_minutes),
    keepWindow: row.keep_window as KeepWindow,
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
    updatedBy: row.updated_by as string,
  };
}

function toNotification(row: Record<string, unknown>): NotificationRecord {
  return {
    ...toMessage(row),
    template: (row.template_name as string | null) ?? null,
    source: (row.source as string | null) ?? null,
    createdAt: row.created_at ? new Date(row.created_at as string) : null,
  };
}

/** SQL of notification templates and notification messages (messages without a campaign). */
export class NotificationsRepo {
  constructor(private readonly knex: Knex) {}

  async saveTemplate(
    db: Db,
    t: { name: string; text: string; repeatGuardMinutes: number; keepWindow: KeepWindow; updatedBy: string },
    now: Date,
  ): Promise<{ template: NotificationTemplate; created: boolean }> {
    const result = await db.raw(
      `insert into notification_templates (name, text, repeat_guard_minutes, keep_window, created_at, updated_at, updated_by)
       values (?, ?, ?, ?, ?, ?, ?)
       on conflict (name) do update set text = excluded.text, repeat_guard_minutes = excluded.repeat_guard_minutes,
         keep_window = excluded.keep_window, updated_at = excluded.updated_at, updated_by = excluded.updated_by
       returning *, (xmax = 0) as inserted`,
      [t.name, t.text, t.repeatGuardMinutes, t.keepWindow, now, now, t.updatedBy],
    );
    const row = result.rows[0] as Record<string, unknown>;
    return { template: toTemplate(row), created: Boolean(row.inserted) };
  }

  async templateByName(db: Db, name: string): Promise<NotificationTemplate | null> {
    const row = await db('notification_templates').where({ name }).first();
    return row ? toTemplate(row) : null;
  }

  async templates(db: Db = this.knex): Promise<NotificationTemplate[]> {
    const rows: Array<Record<string, unknown>> = await db('notification_templates').orderBy('name');
    return rows.map(toTemplate);
  }

  /**
   * Serialises every check-and-insert of one (template, phone) across connections and instances
   * until the transaction ends: the repeat guard's look-back and its insert are one step.
   */
  async lockRepeat(trx: Knex.Transaction, templateId: number, phone: string): Promise<void> {
    await trx.raw(`select pg_advisory_xact_lock(?, hashtext(?))`, [LOCK_REPEAT, `${templateId}:${phone}`]);
  }

  /** Serialises requests with the same Idempotency-Key of one token (until the transaction ends). */
  async lockIdempotency(trx: Knex.Transaction, tokenId: number, key: string): Promise<void> {
    await trx.raw(`select pg_advisory_xact_lock(?, hashtext(?))`, [LOCK_IDEMPOTENCY, `${tokenId}:${key}`]);
  }

  async byIdempotencyKey(db: Db, tokenId: number, key: string): Promise<number | null> {
    const row = await db('messages').where({ idempotency_token_id: tokenId, idempotency_key: key }).first('id');
    return row ? Number(row.id) : null;
  }

  /**
   * When a message of this template last went (or is going) to this number since `since`.
   * Skipped ones don't count: they were never sent. Failed and unknown ones do: parts may have
   * reached the phone.
   */
  async lastOfTemplate(db: Db, templateId: number, phone: string, since: Date): Promise<Date | null> {
    const row = await db('messages')
      .where({ notification_template_id: templateId, phone })
      .andWhere('created_at', '>', since)
      .andWhereNot('state', 'skipped')
      .max('created_at as at')
      .first();
    return row?.at ? new Date(row.at) : null;
  }

  /**
   * Inserts a notification; with an idempotency key already taken (a race the lock did not cover,
   * e.g. another path), inserts nothing. Returns the new id, or null.
   */
  async insert(db: Db, row: Record<string, unknown>): Promise<number | null> {
    const columns = Object.keys(row);
    const conflict = row.idempotency_key ? 'on conflict (idempotency_token_id, idempotency_key) where idempotency_key is not null do nothing' : '';
    const result = await db.raw(
      `insert into messages (${columns.map(() => '??').join(', ')}) values (${columns.map(() => '?').join(', ')}) ${conflict} returning id`,
      [...columns, ...columns.map((c) => row[c] as Knex.RawBinding)],
    );
    const first = result.rows[0] as { id: number } | undefined;
    return first ? Number(first.id) : null;
  }

  async get(db: Db, id: number): Promise<NotificationRecord | null> {
    const row = await db('messages as m')
      .leftJoin('notification_templates as t', 't.id', 'm.notification_template_id')
      .whereNull('m.campaign_id')
      .andWhere('m.id', id)
      .first('m.*', 't.name as template_name');
    return row ? toNotification(row) : null;
  }

  /** Newest first, optionally of one template and/or one state. */
  async list(filter: { templateId?: number; state?: string; limit: number; offset: number }): Promise<{ total: number; items: NotificationRecord[] }> {
    const base = () => {
      const q = this.knex('messages as m').whereNull('m.campaign_id');
      if (filter.templateId !== undefined) q.andWhere('m.notification_template_id', filter.templateId);
      if (filter.state) q.andWhere('m.state', filter.state);
      return q;
    };
    const [counted] = await base().count({ count: '*' });
    const rows: Array<Record<string, unknown>> = await base()
      .leftJoin('notification_templates as t', 't.id', 'm.notification_template_id')
      .orderBy('m.id', 'desc')
      .limit(filter.limit)
      .offset(filter.offset)
      .select('m.*', 't.name as template_name');
    return { total: Number(counted?.count ?? 0), items: rows.map(toNotification) };
  }
}
