import type { Knex } from 'knex';

/**
 * How many rows of an upload were dropped because their number was erased on request (152-FZ):
 * the import report says so, without saying which.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table lists add column suppressed integer not null default 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table lists drop column suppressed`);
}
