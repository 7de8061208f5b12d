/**
 * The claim's own compliance check against real PostgreSQL: an opt-out being written holds the
 * number's lock, and a claim meanwhile leaves the message waiting instead of sending past it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ComplianceRepo, lockNumber } from '../../src/compliance/compliance-repo.js';
import { DispatchRepo, type ClaimContext } from '../../src/dispatcher/dispatch-repo.js';
import { SimsRepo } from '../../src/sims/sims-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

let testDb: TestDatabase;
const imsi = '250990000000001';
const phone = '+79161230000';
const now = new Date('2026-12-01T10:00:00Z');
const ctx: ClaimContext = { now, timeZone: 'Europe/Moscow', windowOpen: true, notificationsIgnoreWindow: true, maxPartsPerMessage: 10, random: () => 0 };

before(async () => {
  testDb = await createTestDatabase();
  await new SimsRepo(testDb.db.knex).seen([{ imsi, device: 'dongle0' }], 'pbx-1', now, { dailyLimit: 100, monthlyLimit: 3000, minPauseSeconds: 0, maxPauseSeconds: 0, pricePerPart: 0.06 });
});
after(() => testDb.drop());

test('a claim while an opt-out of the number is being written passes the message over; after the opt-out commits it is skipped, never sent', async () => {
  const knex = testDb.db.knex;
  const [row] = await knex('messages').insert({ phone, text: 'Ваш заказ готов', parts: 1, state: 'waiting', priority: 10, created_at: now }).returning('id');
  const repo = new DispatchRepo(knex, 'pbx-1');

  // The opt-out's transaction: it has taken the number's lock and written the entry, not yet committed.
  let commit!: () => void;
  let holding!: () => void;
  const released = new Promise<void>((resolve) => (commit = resolve));
  const held = new Promise<void>((resolve) => (holding = resolve));
  const optOut = knex.transaction(async (trx) => {
    await lockNumber(trx, phone);
    await new ComplianceRepo(knex).addToStopList(trx, { phone, reason: 'ответил «СТОП»', source: 'reply', createdBy: 'system:test', now });
    holding();
    await released;
    await new ComplianceRepo(knex).skipWaitingTo(trx, phone, 'номер в стоп-листе', now);
  });
  await held;

  const during = await repo.claimForSim(imsi, 'dongle0', ctx);
  assert.deepEqual(during, { kind: 'nothing', skipped: [] }, 'the number is passed over, like a locked row');
  assert.equal((await knex('messages').where({ id: row.id }).first()).state, 'waiting', 'untouched');

  commit();
  await optOut;
  assert.equal((await knex('messages').where({ id: row.id }).first()).state, 'skipped');
  const afterwards = await repo.claimForSim(imsi, 'dongle0', ctx);
  assert.equal(afterwards.kind, 'nothing');
});

test('a message claimed for a stop-listed number (the opt-out committed before the claim) is skipped in the claim, its SIM budget untouched', async () => {
  const knex = testDb.db.knex;
  const other = '+79161230001';
  await new ComplianceRepo(knex).addToStopList(knex, { phone: other, reason: null, source: 'manual', createdBy: 'user:admin', now });
  const [row] = await knex('messages').insert({ phone: other, text: 'Акция', parts: 1, state: 'waiting', priority: 10, created_at: now }).returning('id');
  const outcome = await new DispatchRepo(knex, 'pbx-1').claimForSim(imsi, 'dongle0', ctx);
  assert.equal(outcome.kind, 'nothing');
  assert.deepEqual(outcome.kind === 'nothing' && outcome.skipped.map((s) => s.id), [Number(row.id)]);
  const stored = await knex('messages').where({ id: row.id }).first();
  assert.deepEqual([stored.state, stored.error, stored.attempts, stored.claimed_at], ['skipped', 'номер в стоп-листе', 0, null]);
  assert.equal((await knex('sim_usage').where({ imsi })).length, 0, 'nothing reserved');
});
