import type { Knex } from 'knex';

/**
 * Cheaper uploads (issue #9: a 100 000-row import within 1.5× of SheetJS reading the file):
 * - `list_contacts`: one unique index (phone, list_id, version) instead of unique (list_id, version,
 *   phone) plus index (phone). Every contact written had to enter both phone-ordered b-trees at a
 *   random place, which was most of the cost of storing 82 000 rows after the heap itself. Lookups
 *   by number (erasure, the inbox's «who wrote», compliance) use its leading column; lookups by list
 *   use list_contacts_list_version_row, which stays. Measured on 82 000 rows: 2.1–2.3 s → 1.4–1.5 s.
 * - `list_files.data`: stored without TOAST compression. An .xlsx/.ods is already a zip: pglz spent
 *   ~0.25 s per 8 MB upload trying to shrink it, for nothing; a CSV (at most the upload cap,
 *   20 MB) is kept as is.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table list_contacts add constraint list_contacts_phone_list_version unique (phone, list_id, version)`);
  await knex.raw(`alter table list_contacts drop constraint list_contacts_list_version_phone`);
  await knex.raw(`drop index list_contacts_phone`);
  await knex.raw(`alter table list_files alter column data set storage external`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table list_files alter column data set storage extended`);
  await knex.raw(`create index list_contacts_phone on list_contacts (phone)`);
  await knex.raw(`alter table list_contacts add constraint list_contacts_list_version_phone unique (list_id, version, phone)`);
  await knex.raw(`alter table list_contacts drop constraint list_contacts_phone_list_version`);
}
