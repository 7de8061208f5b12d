import type { Knex } from 'knex';

/**
 * The campaign report at 100 000 messages (issue #9), and test sends.
 *
 * - `campaign_counts`: per campaign and state, how many messages and parts. Counting 100k rows on
 *   every poll of the live page cost ~140 ms even index-only (measured). Statement triggers with
 *   transition tables append one delta row per (campaign, state) a statement changed, never update
 *   a shared row, so the dispatcher's claims on different SIMs never wait for each other here;
 *   readers sum the deltas and fold them into one row per state now and then (CampaignsRepo.counts).
 *   Only campaign messages count (campaign_id not null): notifications and test sends do not.
 * - `messages.test_of_campaign`: a test send of a campaign (`POST /campaigns/{id}/test`): a
 *   notification-like message (campaign_id null, so it counts nowhere in the campaign) shown on
 *   the campaign's page.
 * - `messages.search_words`: the words of the recipient's list fields ('simple' configuration:
 *   lower-cased words, no stemming), set when the campaign is made, for the report's search. On
 *   messages rather than an index on list_contacts: an index there doubled the cost of every upload
 *   (measured 3.3 s → 6.0 s per 100k rows); campaigns are made far less often.
 * - report indexes: pages by state (index-only), search by the last digits of a number.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table messages add column test_of_campaign integer references campaigns (id) on delete cascade`);
  await knex.raw(`create index messages_tests on messages (test_of_campaign, id) where test_of_campaign is not null`);
  await knex.raw(`alter table messages add column search_words tsvector`);
  await knex.raw(`create index messages_search_words on messages using gin (search_words) where search_words is not null`);
  await knex.raw(`create index messages_campaign_state on messages (campaign_id, state, id) where campaign_id is not null`);
  await knex.raw(`create index messages_campaign_phone_tail on messages (campaign_id, reverse(phone) text_pattern_ops) where campaign_id is not null`);

  await knex.raw(`
    create table campaign_counts (
      id bigserial primary key,
      campaign_id integer not null,
      state text not null,
      n integer not null,
      parts integer not null
    )`);
  await knex.raw(`create index campaign_counts_campaign on campaign_counts (campaign_id)`);
  await knex.raw(`
    create function campaign_counts_delta() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into campaign_counts (campaign_id, state, n, parts)
          select campaign_id, state, count(*), sum(parts) from new_rows where campaign_id is not null group by 1, 2;
      elsif tg_op = 'DELETE' then
        insert into campaign_counts (campaign_id, state, n, parts)
          select campaign_id, state, -count(*), -sum(parts) from old_rows where campaign_id is not null group by 1, 2;
      else
        insert into campaign_counts (campaign_id, state, n, parts)
          select campaign_id, state, sum(n), sum(parts) from (
            select campaign_id, state, -1 as n, -parts as parts from old_rows where campaign_id is not null
            union all
            select campaign_id, state, 1, parts from new_rows where campaign_id is not null
          ) d group by 1, 2 having sum(n) <> 0 or sum(parts) <> 0;
      end if;
      return null;
    end $$`);
  await knex.raw(`create trigger messages_counts_insert after insert on messages referencing new table as new_rows for each statement execute function campaign_counts_delta()`);
  await knex.raw(`create trigger messages_counts_update after update on messages referencing old table as old_rows new table as new_rows for each statement execute function campaign_counts_delta()`);
  await knex.raw(`create trigger messages_counts_delete after delete on messages referencing old table as old_rows for each statement execute function campaign_counts_delta()`);
  await knex.raw(`
    insert into campaign_counts (campaign_id, state, n, parts)
      select campaign_id, state, count(*), sum(parts) from messages where campaign_id is not null group by 1, 2`);
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['messages_counts_insert', 'messages_counts_update', 'messages_counts_delete']) await knex.raw(`drop trigger ${t} on messages`);
  await knex.raw(`drop function campaign_counts_delta()`);
  await knex.raw(`drop table campaign_counts`);
  await knex.raw(`drop index messages_campaign_phone_tail`);
  await knex.raw(`drop index messages_campaign_state`);
  await knex.raw(`drop index messages_search_words`);
  await knex.raw(`alter table messages drop column search_words`);
  await knex.raw(`drop index messages_tests`);
  await knex.raw(`alter table messages drop column test_of_campaign`);
}
