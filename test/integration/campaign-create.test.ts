import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CampaignsRepo } from '../../src/campaigns/campaigns-repo.js';
import type { PlannedMessage } from '../../src/campaigns/campaign-plan.js';
import { ListsRepo } from '../../src/lists/lists-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

/**
 * CampaignsRepo.create stores the planned messages in chunks, each chunk's rows travelling as one
 * JSON parameter: the stored rows must be exactly the planned ones, in the plan's order, across
 * chunk boundaries, whatever the text holds.
 */

const rows = 25_001; // three chunks, the last of one row
// What JSON and SQL quoting could get wrong: quotes, backslashes, escapes spelt out, line breaks,
// U+2028, a surrogate pair, a literal "null".
const awkward = ['Кавычки "двойные" и \'одинарные\'', 'Обратная \\ косая \\n не перевод', 'Две\nстроки\r\nи таб\t', 'Разделитель\u2028строк', 'Эмодзи 😀 и ₽', 'null', '{"json": [1, 2]}', '$1 ?? ::text'];

describe('campaign creation stores every planned message as planned', () => {
  let testDb: TestDatabase;
  before(async () => {
    testDb = await createTestDatabase();
  });
  after(async () => {
    await testDb.drop();
  });

  test(`${rows} messages: order, texts, skipped rows with their reason, search words`, async () => {
    const knex = testDb.db.knex;
    const now = new Date('2026-12-02T09:30:00.000Z');
    const contacts = Array.from({ length: rows }, (_, i) => ({
      rowNumber: i + 2,
      phone: `+7912${String(i).padStart(7, '0')}`,
      fields: { Телефон: `8912${String(i).padStart(7, '0')}`, Имя: i % 2 ? 'Анна' : 'Борис', Город: i === 12_345 ? 'Кемер' : 'Анталья' },
    }));
    const listId = await new ListsRepo(knex).create(
      { name: 'Все', fileName: 'all.xlsx', columns: ['Телефон', 'Имя', 'Город'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null },
      contacts,
      now,
    );
    const stored = await knex('list_contacts').where({ list_id: listId }).orderBy('row_number').select('id', 'row_number', 'phone');
    assert.equal(stored.length, rows);
    const planned: PlannedMessage[] = stored.map((c: { id: number; row_number: number; phone: string }, i: number) => ({
      contactId: Number(c.id),
      rowNumber: c.row_number,
      phone: c.phone,
      text: `${awkward[i % awkward.length]} №${i}`,
      characters: 0,
      parts: 1 + (i % 3),
      encoding: 'ucs2',
      missing: [],
      problem: i % 1000 === 7 ? `Пустое поле «Имя» в строке ${c.row_number}` : null,
    }));
    // Stored in reverse row order: the ids must follow the plan, not the list.
    planned.reverse();

    const campaignId = await new CampaignsRepo(knex).create(
      { name: 'Кампания', listId, template: '{{Имя}}', kind: 'service', pricePerPart: 0.06, maxParts: 6, createdBy: null, ignoreWindow: false, sims: null },
      planned,
      now,
    );

    const messages = await knex('messages')
      .where({ campaign_id: campaignId })
      .orderBy('id')
      .select('contact_id', 'row_number', 'phone', 'text', 'parts', 'state', 'error', 'finished_at', 'created_at', knex.raw('search_words is not null as has_words'));
    assert.equal(messages.length, rows);
    messages.forEach((m: Record<string, unknown>, i: number) => {
      const p = planned[i]!;
      assert.deepEqual(
        { contact: Number(m.contact_id), row: m.row_number, phone: m.phone, text: m.text, parts: m.parts },
        { contact: p.contactId, row: p.rowNumber, phone: p.phone, text: p.text, parts: p.parts },
        `message ${i}`,
      );
      assert.equal(m.state, p.problem ? 'skipped' : 'waiting');
      assert.equal(m.error, p.problem);
      assert.equal((m.finished_at as Date | null)?.toISOString() ?? null, p.problem ? now.toISOString() : null);
      assert.equal((m.created_at as Date).toISOString(), now.toISOString());
      assert.equal(m.has_words, true);
    });
    // The report's search finds a recipient by a word of its fields.
    const found = await knex('messages').where({ campaign_id: campaignId }).whereRaw(`search_words @@ plainto_tsquery('simple', ?)`, ['кемер']).select('row_number');
    assert.deepEqual(found.map((r: { row_number: number }) => r.row_number), [12_345 + 2]);
    // The counts the campaign page reads follow the stored states.
    const counts = await knex.raw(`select state, sum(n)::int as n from campaign_counts where campaign_id = ? group by state order by state`, [campaignId]);
    const skipped = planned.filter((p) => p.problem).length;
    assert.deepEqual(counts.rows, [{ state: 'skipped', n: skipped }, { state: 'waiting', n: rows - skipped }]);
  });
});
