import type { Knex } from 'knex';

export type Role = 'admin' | 'staff';

export interface User {
  id: number;
  login: string;
  role: Role;
  /** Set when an admin disabled the user: they cannot log in and their sessions end. */
  disabledAt: Date | null;
}

export interface UserListItem extends User {
  createdAt: Date;
}

interface UserRow {
  id: number;
  login: string;
  role: Role;
  password_hash: string;
  disabled_at: Date | null;
  created_at: Date;
}

type Db = Knex | Knex.Transaction;

/** A login: letters, digits, . _ @ -, up to 64 characters (the same rule as the CLI). */
export const loginPattern = /^[\p{L}\p{N}._@-]{1,64}$/u;

export class UsersRepo {
  constructor(private readonly knex: Knex) {}

  async findForLogin(login: string): Promise<(User & { passwordHash: string }) | null> {
    const row: UserRow | undefined = await this.knex('users').where({ login }).first();
    return row ? { id: row.id, login: row.login, role: row.role, disabledAt: row.disabled_at, passwordHash: row.password_hash } : null;
  }

  /** The user's current state: one primary-key lookup, made on every page request. */
  async findById(id: number, db: Db = this.knex): Promise<User | null> {
    const row: Pick<UserRow, 'id' | 'login' | 'role' | 'disabled_at'> | undefined = await db('users').where({ id }).first('id', 'login', 'role', 'disabled_at');
    return row ? { id: row.id, login: row.login, role: row.role, disabledAt: row.disabled_at } : null;
  }

  async list(): Promise<UserListItem[]> {
    const rows: UserRow[] = await this.knex('users').orderBy([{ column: 'disabled_at', order: 'desc', nulls: 'first' }, { column: 'login' }]).select('id', 'login', 'role', 'disabled_at', 'created_at');
    return rows.map((r) => ({ id: r.id, login: r.login, role: r.role, disabledAt: r.disabled_at, createdAt: r.created_at }));
  }

  /** A new user; null when the login is taken. */
  async insert(db: Db, login: string, passwordHash: string, role: Role, now: Date): Promise<User | null> {
    const rows: Array<{ id: number }> = await db('users').insert({ login, password_hash: passwordHash, role, created_at: now }).onConflict('login').ignore().returning('id');
    return rows[0] ? { id: rows[0].id, login, role, disabledAt: null } : null;
  }

  /** Creates the user, or replaces the password and role of an existing login. */
  async upsert(login: string, passwordHash: string, role: Role): Promise<{ user: User; created: boolean }> {
    const existing = await this.knex('users').where({ login }).first('id');
    if (existing) {
      await this.knex('users').where({ id: existing.id }).update({ password_hash: passwordHash, role });
      return { user: { id: existing.id, login, role, disabledAt: null }, created: false };
    }
    const [row] = await this.knex('users').insert({ login, password_hash: passwordHash, role }).returning('id');
    return { user: { id: row.id, login, role, disabledAt: null }, created: true };
  }

  async update(db: Db, id: number, patch: { role?: Role; passwordHash?: string; disabledAt?: Date | null }): Promise<void> {
    const row: Record<string, unknown> = {};
    if (patch.role !== undefined) row.role = patch.role;
    if (patch.passwordHash !== undefined) row.password_hash = patch.passwordHash;
    if (patch.disabledAt !== undefined) row.disabled_at = patch.disabledAt;
    await db('users').where({ id }).update(row);
  }

  /**
   * The enabled admins, locked until the transaction ends: two admins demoting each other at the
   * same moment cannot both pass the "someone must stay admin" check.
   */
  async lockEnabledAdmins(trx: Knex.Transaction): Promise<number[]> {
    const rows: Array<{ id: number }> = await trx('users').where({ role: 'admin' }).whereNull('disabled_at').orderBy('id').forUpdate().select('id');
    return rows.map((r) => r.id);
  }

  /** Ends the user's sessions (all of them, or all but `keepSid`). */
  async deleteSessions(db: Db, userId: number, keepSid?: string): Promise<number> {
    const q = db('sessions').whereRaw(`sess->>'userId' = ?`, [String(userId)]);
    if (keepSid) q.whereNot({ sid: keepSid });
    return q.delete();
  }

  async count(): Promise<number> {
    const row = await this.knex('users').count<{ count: number }[]>('* as count').first();
    return Number(row?.count ?? 0);
  }
}
