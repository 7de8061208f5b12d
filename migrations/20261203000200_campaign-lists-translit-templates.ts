import type { Knex } from 'knex';

/**
 * Campaigns over several lists and tags (`campaign_lists`: which lists, in the order their fields
 * win for a number in two of them; `campaigns.list_id` stays the first), the «транслит» option
 * stored with the campaign, and texts staff save under a name to reuse (`saved_templates`, not the
 * notification templates).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table campaigns add column translit boolean not null default false`);
  // With translit: the parts it saved when the campaign was made (without it − with it), shown on its page.
  await knex.raw(`alter table campaigns add column translit_saved_parts integer`);
  await knex.raw(`
    create table campaign_lists (
      campaign_id integer not null references campaigns (id) on delete cascade,
      list_id integer not null references lists (id),
      position smallint not null,
      primary key (campaign_id, list_id)
    )`);
  await knex.raw(`insert into campaign_lists (campaign_id, list_id, position) select id, list_id, 0 from campaigns`);
  await knex.raw(`
    create table saved_templates (
      id serial primary key,
      name text not null,
      -- The name folded in JS (case, ё, spaces): SQL lower() follows the database locale, which
      -- under C leaves Cyrillic capitals alone, and «Акция» and «акция» must be one template.
      name_key text not null unique,
      text text not null,
      created_by text,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table saved_templates');
  await knex.raw('drop table campaign_lists');
  await knex.raw('alter table campaigns drop column translit_saved_parts');
  await knex.raw('alter table campaigns drop column translit');
}
