import type { Knex } from 'knex';

/**
 * Named notification templates (the dialplan's `UserEvent(SimcastNotify,…)` and the API refer to
 * them by name) and what a notification message remembers:
 * - `notification_template_id`: its template, so the page filters by it and the repeat guard looks
 *   back at the same (template, phone) (index `messages_notification_repeat`);
 * - `keep_window`: null = follow the setting `notificationsKeepWindow`, true = wait for the
 *   sending window, false = any hour (the dispatcher's claim reads it);
 * - `idempotency_token_id` + `idempotency_key`: an API `Idempotency-Key` per token, unique, so the
 *   same key can never make a second message (insert-or-select in one transaction);
 * - `source`: 'api' or 'dialplan' (null for older rows and opt-out confirmations).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table notification_templates (
      id serial primary key,
      name text not null unique check (name ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
      text text not null,
      repeat_guard_minutes integer not null default 1440 check (repeat_guard_minutes between 0 and 525600),
      keep_window text not null default 'setting' check (keep_window in ('setting', 'queue', 'drop', 'any')),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      updated_by text not null
    )`);
  await knex.raw(`alter table messages add column notification_template_id integer references notification_templates (id) on delete set null`);
  await knex.raw(`alter table messages add column keep_window boolean`);
  await knex.raw(`alter table messages add column idempotency_token_id integer`);
  await knex.raw(`alter table messages add column idempotency_key text`);
  await knex.raw(`alter table messages add column source text check (source in ('api', 'dialplan'))`);
  await knex.raw(`create index messages_notification_repeat on messages (notification_template_id, phone, created_at) where notification_template_id is not null`);
  await knex.raw(`create unique index messages_idempotency on messages (idempotency_token_id, idempotency_key) where idempotency_key is not null`);
  // The notifications page lists the newest single messages first.
  await knex.raw(`create index messages_notifications on messages (id) where campaign_id is null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index messages_notifications`);
  await knex.raw(`drop index messages_idempotency`);
  await knex.raw(`drop index messages_notification_repeat`);
  for (const c of ['source', 'idempotency_key', 'idempotency_token_id', 'keep_window', 'notification_template_id']) {
    await knex.raw(`alter table messages drop column ${c}`);
  }
  await knex.raw(`drop table notification_templates`);
}
