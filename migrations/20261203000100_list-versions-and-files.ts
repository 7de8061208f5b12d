import type { Knex } from 'knex';

/**
 * Issue #9, lists staff keep:
 * - `lists.version` / `list_contacts.version`: re-uploading a file into a list (or re-reading it with
 *   another sheet, header row or phone column) adds a new version of its contacts; campaigns made
 *   from an older version keep their rows (messages.contact_id). `lists.version` is the current one.
 * - `lists.sheet`, `sheets`, `header_row`: which sheet and header row were taken, so the page can say
 *   so and offer the others; `notes`: what staff should know about rows read (second numbers of a
 *   cell, merged cells filled in).
 * - `list_files`: the uploaded file of the current version, so that another sheet, header row or
 *   phone column needs no second upload. It holds personal data: erasure deletes it (erasure-repo).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table lists
    add column version integer not null default 1,
    add column sheet text,
    add column sheets jsonb not null default '[]',
    add column header_row integer not null default 1,
    add column notes jsonb not null default '[]'`);
  await knex.raw(`alter table list_contacts add column version integer not null default 1`);
  await knex.raw(`alter table list_contacts drop constraint if exists list_contacts_list_id_phone_key`);
  await knex.raw(`alter table list_contacts add constraint list_contacts_list_version_phone unique (list_id, version, phone)`);
  await knex.raw(`drop index if exists list_contacts_list_row`);
  await knex.raw(`create index list_contacts_list_version_row on list_contacts (list_id, version, row_number)`);
  await knex.raw(`
    create table list_files (
      list_id integer primary key references lists (id) on delete cascade,
      file_name text not null,
      data bytea not null,
      created_at timestamptz not null
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table list_files`);
  await knex.raw(`drop index list_contacts_list_version_row`);
  await knex.raw(`create index list_contacts_list_row on list_contacts (list_id, row_number)`);
  await knex.raw(`alter table list_contacts drop constraint list_contacts_list_version_phone`);
  // Older versions would break the old uniqueness: only the current one survives a rollback.
  await knex.raw(`delete from list_contacts lc using lists l where l.id = lc.list_id and lc.version <> l.version`);
  await knex.raw(`alter table list_contacts add constraint list_contacts_list_id_phone_key unique (list_id, phone)`);
  await knex.raw(`alter table list_contacts drop column version`);
  await knex.raw(`alter table lists drop column version, drop column sheet, drop column sheets, drop column header_row, drop column notes`);
}
