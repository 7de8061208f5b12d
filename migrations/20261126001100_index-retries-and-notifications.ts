import type { Knex } from 'knex';

/**
 * The dispatcher asks on every pass when the next retry is due (`not_before`) and claims
 * notifications by priority, highest first: both were sorts over every waiting row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index messages_retry_due on messages (not_before) where state = 'waiting' and not_before is not null`);
  await knex.raw(`drop index messages_waiting_notifications`);
  await knex.raw(`create index messages_waiting_notifications on messages (priority desc, id) where state = 'waiting' and campaign_id is null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index messages_waiting_notifications`);
  await knex.raw(`create index messages_waiting_notifications on messages (priority, id) where state = 'waiting' and campaign_id is null`);
  await knex.raw(`drop index messages_retry_due`);
}
