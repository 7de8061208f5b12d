import type { Knex } from 'knex';

/**
 * "Has this campaign anything left waiting or sending?" is asked after every settled message;
 * without this index it scanned every finished message of the campaign.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index messages_active on messages (campaign_id) where state in ('waiting', 'sending')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index messages_active');
}
