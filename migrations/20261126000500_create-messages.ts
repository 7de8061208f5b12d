import type { Knex } from 'knex';

/**
 * One row per recipient of a campaign: the exact text it gets and its one honest state.
 * States are described in src/dispatcher/CONTEXT.md.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table messages (
      id bigserial primary key,
      campaign_id integer not null references campaigns (id) on delete cascade,
      contact_id bigint references list_contacts (id) on delete set null,
      row_number integer not null,
      phone text not null,
      text text not null,
      parts integer not null,
      state text not null check (state in ('waiting', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'unknown')),
      modem text,
      instance_id text,
      attempts integer not null default 0,
      not_before timestamptz,
      claimed_at timestamptz,
      sent_at timestamptz,
      finished_at timestamptz,
      error text
    )`);
  await knex.raw(`create index messages_campaign on messages (campaign_id, id)`);
  // The dispatcher's claim scans only waiting rows.
  await knex.raw(`create index messages_waiting on messages (campaign_id, id) where state = 'waiting'`);
  await knex.raw(`create index messages_sending on messages (instance_id, claimed_at) where state = 'sending'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table messages');
}
