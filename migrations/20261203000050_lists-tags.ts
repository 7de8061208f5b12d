import type { Knex } from 'knex';

/**
 * Tags on lists (the travel agency keeps one list per destination, tagged «Турция», «Египет»…): a
 * campaign can target every list with a tag. Stored as typed; matched case-insensitively.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table lists add column tags text[] not null default '{}'`);
  await knex.raw(`create index lists_tags on lists using gin (tags)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index lists_tags`);
  await knex.raw(`alter table lists drop column tags`);
}
