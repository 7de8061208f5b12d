import type { Knex } from 'knex';

/**
 * Messages remember the SIM that sent them and its price; notifications (single SMS from the
 * API) are messages without a campaign, sent ahead of campaign traffic (`priority`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table messages alter column campaign_id drop not null`);
  await knex.raw(`alter table messages alter column row_number drop not null`);
  await knex.raw(`alter table messages add column imsi text`);
  await knex.raw(`alter table messages add column price_per_part numeric(10, 4)`);
  await knex.raw(`alter table messages add column priority integer not null default 0`);
  await knex.raw(`alter table messages add column created_at timestamptz`);
  await knex.raw(`create index messages_waiting_notifications on messages (priority, id) where state = 'waiting' and campaign_id is null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index messages_waiting_notifications`);
  await knex.raw(`alter table messages drop column created_at`);
  await knex.raw(`alter table messages drop column priority`);
  await knex.raw(`alter table messages drop column price_per_part`);
  await knex.raw(`alter table messages drop column imsi`);
}
