import type { Knex } from 'knex';

/**
 * Each SIM's last 50 sent messages, for the pace the forecast learns (src/sims/send-pace-repo.ts):
 * one short index range per SIM, newest first, without touching the campaign's other rows. Only
 * messages that left the modem have `sent_at`, so the index holds nothing else; the included
 * columns let the lookup answer from the index alone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index messages_sim_pace on messages (imsi, sent_at desc) include (claimed_at, parts, state) where sent_at is not null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index messages_sim_pace');
}
