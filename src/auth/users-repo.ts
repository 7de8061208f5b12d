import type { Knex } from 'knex';

export type Role = 'admin' | 'staff';

export interface User {
  id: number;
  login: string;
  role: Role;
}

interface UserRow extends User {
  password_hash: string;
}

export class UsersRepo {
  constructor(private readonly knex: Knex) {}

  async findForLogin(login: string): Promise<(User & { passwordHash: string }) | null> {
    const row: UserRow | undefined = await this.knex('users').where({ login }).first();
    return row ? { id: row.id, login: row.login, role: row.role, passwordHash: row.password_hash } : null;
  }

  async findById(id: number): Promise<User | null> {
    const row: UserRow | undefined = await this.knex('users').where({ id }).first('id', 'login', 'role');
    return row ? { id: row.id, login: row.login, role: row.role } : null;
  }

  /** Creates the user, or replaces the password and role of an existing login. */
  async upsert(login: string, passwordHash: string, role: Role): Promise<{ user: User; created: boolean }> {
    const existing = await this.knex('users').where({ login }).first('id');
    if (existing) {
      await this.knex('users').where({ id: existing.id }).update({ password_hash: passwordHash, role });
      return { user: { id: existing.id, login, role }, created: false };
    }
    const [row] = await this.knex('users').insert({ login, password_hash: passwordHash, role }).returning('id');
    return { user: { id: row.id, login, role }, created: true };
  }

  async count(): Promise<number> {
    const row = await this.knex('users').count<{ count: number }[]>('* as count').first();
    return Number(row?.count ?? 0);
  }
}
