import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { phoneKey } from './phone-key.js';

const SECRET_KEY = 'secret:phone-key';

/**
 * Keyed hashes of phone numbers with the server secret kept beside the settings (made on first
 * use). The secret is read through the caller's knex or transaction — PGlite has one connection,
 * so a read on another one inside a transaction would wait forever — and cached afterwards.
 */
export class PhoneKeys {
  private secret: string | null = null;

  /** Reads (or makes) the secret outside any transaction; the service calls it at start. */
  async load(knex: Knex): Promise<void> {
    this.secret ??= await loadSecret(knex);
  }

  async keyOf(db: Knex | Knex.Transaction, e164: string): Promise<string> {
    if (this.secret) return phoneKey(this.secret, e164);
    const secret = await loadSecret(db);
    // A secret first made inside a transaction that then rolls back was never stored: caching it
    // would key numbers with a secret no other instance (nor the next start) has.
    if (!(db as Knex.Transaction).isTransaction) this.secret = secret;
    return phoneKey(secret, e164);
  }
}

async function loadSecret(db: Knex | Knex.Transaction): Promise<string> {
  await db('settings').insert({ key: SECRET_KEY, value: JSON.stringify(randomBytes(32).toString('base64url')) }).onConflict('key').ignore();
  const row = await db('settings').where({ key: SECRET_KEY }).first('value');
  return String(row.value);
}
