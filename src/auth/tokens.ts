import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Role } from './users-repo.js';

// API tokens are 32 random bytes, so a fast hash is enough to make a stolen table useless;
// only the hash is stored and the token is shown once, when it is made.
const prefix = 'sc_';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokensRepo {
  constructor(private readonly knex: Knex) {}

  async create(name: string): Promise<{ id: number; token: string }> {
    const token = prefix + randomBytes(32).toString('base64url');
    const [row] = await this.knex('api_tokens').insert({ name, token_hash: hashToken(token) }).returning('id');
    return { id: row.id, token };
  }

  /** The token's name and role when valid; records its last use. */
  async verify(token: string, now: Date): Promise<{ id: number; name: string; role: Role } | null> {
    if (!token.startsWith(prefix) || token.length > 200) return null;
    const row = await this.knex('api_tokens').where({ token_hash: hashToken(token) }).first('id', 'name', 'role');
    if (!row) return null;
    await this.knex('api_tokens').where({ id: row.id }).update({ last_used_at: now });
    return { id: row.id, name: row.name, role: row.role ?? 'admin' };
  }
}
