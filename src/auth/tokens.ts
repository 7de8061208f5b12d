import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Role } from './users-repo.js';

// API tokens are 32 random bytes, so a fast hash is enough to make a stolen table useless;
// only the hash is stored and the token is shown once, when it is made.
const prefix = 'sc_';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Db = Knex | Knex.Transaction;

export interface TokenListItem {
  id: number;
  name: string;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export class TokensRepo {
  constructor(private readonly knex: Knex) {}

  /** A new token (admin unless told otherwise: what every token could do before roles). */
  async create(name: string, options: { role?: Role; createdBy?: string | null; now?: Date } = {}, db: Db = this.knex): Promise<{ id: number; token: string; role: Role }> {
    const token = prefix + randomBytes(32).toString('base64url');
    const role = options.role ?? 'admin';
    const [row] = await db('api_tokens')
      .insert({ name, token_hash: hashToken(token), role, created_by: options.createdBy ?? null, ...(options.now ? { created_at: options.now } : {}) })
      .returning('id');
    return { id: row.id, token, role };
  }

  /** The token's id, name and role when valid and not revoked; records its last use. */
  async verify(token: string, now: Date): Promise<{ id: number; name: string; role: Role } | null> {
    if (!token.startsWith(prefix) || token.length > 200) return null;
    const row = await this.knex('api_tokens').where({ token_hash: hashToken(token) }).whereNull('revoked_at').first('id', 'name', 'role');
    if (!row) return null;
    await this.knex('api_tokens').where({ id: row.id }).update({ last_used_at: now });
    return { id: row.id, name: row.name, role: row.role };
  }

  async find(id: number, db: Db = this.knex): Promise<TokenListItem | null> {
    const row = await db('api_tokens').where({ id }).first();
    return row ? toItem(row) : null;
  }

  /** Working tokens first, then revoked ones; newest first within each. */
  async list(): Promise<TokenListItem[]> {
    const rows = await this.knex('api_tokens')
      .orderBy([{ column: 'revoked_at', order: 'desc', nulls: 'first' }, { column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .select('id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at');
    return rows.map(toItem);
  }

  /** Revokes a working token; false when it was already revoked (or never existed). */
  async revoke(db: Db, id: number, now: Date): Promise<boolean> {
    const n = await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: now });
    return n > 0;
  }
}

function toItem(row: Record<string, unknown>): TokenListItem {
  return {
    id: Number(row.id),
    name: String(row.name),
    role: row.role as Role,
    createdAt: row.created_at as Date,
    createdBy: (row.created_by as string | null) ?? null,
    lastUsedAt: (row.last_used_at as Date | null) ?? null,
    revokedAt: (row.revoked_at as Date | null) ?? null,
  };
}
