import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgres } from '../../src/db/knex.js';
import { migrateLatest, migrationNames } from '../../src/db/migrations.js';
import { createTestDatabase } from '../helpers/test-db.js';

test('three instances starting together on a fresh database: all start, each migration applied once', async () => {
  const testDb = await createTestDatabase({ migrate: false });
  // Each "instance" has its own pool, as separate processes would.
  const instances = [openPostgres(testDb.url), openPostgres(testDb.url), openPostgres(testDb.url)];
  try {
    const results = await Promise.allSettled(instances.map((db) => migrateLatest(db.knex)));
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    const applied = results.map((r) => (r as PromiseFulfilledResult<string[]>).value);
    // One of them did the work; the others waited for the lock and found nothing to do.
    assert.deepEqual(applied.flat().sort(), [...migrationNames].sort());
    assert.equal(applied.filter((a) => a.length > 0).length, 1);
    const rows: Array<{ name: string }> = await testDb.db.knex('knex_migrations').select('name');
    assert.deepEqual(rows.map((r) => r.name).sort(), [...migrationNames].sort());
    assert.equal((await testDb.db.knex('knex_migrations_lock').first('is_locked')).is_locked, 0);
  } finally {
    for (const db of instances) await db.close();
    await testDb.drop();
  }
});

test('list_contacts → lists is kept per statement as the foreign key kept it per row: no contact without its list, a deleted list takes its contacts, and the last two migrations roll back', async () => {
  const testDb = await createTestDatabase();
  const knex = testDb.db.knex;
  try {
    const list = async (name: string) => (await knex('lists').insert({ name, file_name: 'a.csv', columns: '[]', phone_column: 'Телефон', imported: 0, duplicates: '[]', rejected: '[]' }).returning('id'))[0].id as number;
    const contact = (listId: number, phone: string) => ({ list_id: listId, version: 1, row_number: 2, phone, fields: '{}' });
    const a = await list('А');
    const b = await list('Б');
    await knex('list_contacts').insert([contact(a, '+79120000001'), contact(b, '+79120000002')]);
    // One missing list among good ones refuses the whole statement.
    await assert.rejects(knex('list_contacts').insert([contact(a, '+79120000003'), contact(b + 100, '+79120000004')]), (e: { code?: string }) => e.code === '23503');
    await assert.rejects(knex('list_contacts').where({ list_id: a }).update({ list_id: b + 100 }), (e: { code?: string }) => e.code === '23503');
    await assert.rejects(knex('lists').where({ id: a }).update({ id: b + 100 }), (e: { code?: string }) => e.code === '23503');
    await knex('list_contacts').where({ list_id: a }).update({ fields: '{"Имя":"Анна"}' }); // other columns: no check
    await knex('lists').where({ id: a }).delete();
    assert.deepEqual((await knex('list_contacts').select('phone')).map((r) => r.phone), ['+79120000002']);

    // Down again: the foreign key and the two indexes come back over the rows kept.
    const names = ['20261203000700_list-contacts-list-check-per-statement', '20261203000600_list-contacts-phone-index'];
    const modules = [await import('../../migrations/20261203000700_list-contacts-list-check-per-statement.js'), await import('../../migrations/20261203000600_list-contacts-phone-index.js')];
    for (const m of modules) await m.down(knex);
    await knex('knex_migrations').whereIn('name', names).delete();
    await assert.rejects(knex('list_contacts').insert(contact(b + 100, '+79120000005')), (e: { code?: string }) => e.code === '23503');
    const indexes: Array<{ indexname: string }> = (await knex.raw(`select indexname from pg_indexes where tablename = 'list_contacts' order by 1`)).rows;
    assert.deepEqual(indexes.map((i) => i.indexname), ['list_contacts_list_version_phone', 'list_contacts_list_version_row', 'list_contacts_phone', 'list_contacts_pkey']);
    assert.deepEqual(await migrateLatest(knex), names.reverse());
  } finally {
    await testDb.drop();
  }
});
