import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import { actorLabel, type Actor } from './actor.js';
import { hashPassword, passwordProblem } from './password.js';
import type { TokensRepo } from './tokens.js';
import { loginPattern, type Role, type User, type UsersRepo } from './users-repo.js';

export const roleWords: Record<Role, string> = { admin: 'администратор', staff: 'сотрудник' };

function isRole(v: unknown): v is Role {
  return v === 'admin' || v === 'staff';
}

const lastAdmin = 'Нельзя: это последний действующий администратор. Сначала назначьте администратором кого-то ещё.';

/**
 * What an admin does with users and API tokens. Each change and its audit row commit in one
 * transaction; a change that should end someone's sessions deletes them in it too. The caller
 * has already checked that the actor is an admin (requireRole) — these methods check the rules
 * of the data: valid input, and that one enabled admin always remains.
 */
export class Accounts {
  constructor(
    private readonly knex: Knex,
    private readonly users: UsersRepo,
    private readonly tokens: TokensRepo,
    private readonly audit: AuditLog,
  ) {}

  async createUser(actor: Actor, now: Date, input: { login: unknown; role: unknown; password: unknown }): Promise<User> {
    const login = String(input.login ?? '').trim();
    if (!loginPattern.test(login)) throw new AppError('VALIDATION', 'Логин: буквы, цифры и знаки . _ @ -, без пробелов, до 64 символов.');
    if (!isRole(input.role)) throw new AppError('VALIDATION', 'Выберите роль: администратор или сотрудник.');
    const password = String(input.password ?? '');
    const problem = passwordProblem(password);
    if (problem) throw new AppError('VALIDATION', problem);
    const hash = await hashPassword(password);
    const role = input.role;
    return this.knex.transaction(async (trx) => {
      const user = await this.users.insert(trx, login, hash, role, now);
      if (!user) throw new AppError('CONFLICT', `Пользователь «${login}» уже есть. Выберите другой логин или задайте ему новый пароль в таблице.`);
      await this.audit.record(trx, actor, now, 'user.create', login, { role });
      return user;
    });
  }

  /** A new role; the user's sessions stay, and the new role applies from their next click. */
  async setRole(actor: Actor, now: Date, userId: number, role: unknown): Promise<User> {
    if (!isRole(role)) throw new AppError('VALIDATION', 'Выберите роль: администратор или сотрудник.');
    return this.knex.transaction(async (trx) => {
      const user = await this.userFor(trx, userId);
      if (user.role === role) return user;
      if (user.role === 'admin' && role !== 'admin') await this.keepOneAdmin(trx, user.id);
      await this.users.update(trx, user.id, { role });
      // A demoted admin's admin tokens become staff tokens: the role must not live on through them.
      const tokensDemoted = role === 'staff'
        ? await trx('api_tokens').where({ created_by: `user:${user.login}`, role: 'admin' }).whereNull('revoked_at').update({ role: 'staff' })
        : 0;
      await this.audit.record(trx, actor, now, 'user.update', user.login, { role: { from: user.role, to: role }, tokensDemoted });
      return { ...user, role };
    });
  }

  /** A new password ends the user's other sessions (keeps the one making the change). */
  async resetPassword(actor: Actor, now: Date, userId: number, password: unknown, currentSid?: string): Promise<User> {
    const text = String(password ?? '');
    const problem = passwordProblem(text);
    if (problem) throw new AppError('VALIDATION', problem);
    const hash = await hashPassword(text);
    return this.knex.transaction(async (trx) => {
      const user = await this.userFor(trx, userId);
      await this.users.update(trx, user.id, { passwordHash: hash });
      const ended = await this.users.deleteSessions(trx, user.id, actor.kind === 'user' && actor.id === user.id ? currentSid : undefined);
      await this.audit.record(trx, actor, now, 'user.password-reset', user.login, { sessionsEnded: ended });
      return user;
    });
  }

  /** Disabling ends every session of the user at once; enabling lets them log in again. */
  async setDisabled(actor: Actor, now: Date, userId: number, disabled: boolean): Promise<User> {
    return this.knex.transaction(async (trx) => {
      const user = await this.userFor(trx, userId);
      if (Boolean(user.disabledAt) === disabled) return user;
      if (disabled) {
        if (user.role === 'admin') await this.keepOneAdmin(trx, user.id);
        await this.users.update(trx, user.id, { disabledAt: now });
        const ended = await this.users.deleteSessions(trx, user.id);
        // The tokens they made stop too: a person who left keeps no way in.
        const tokensRevoked = await trx('api_tokens').where({ created_by: `user:${user.login}` }).whereNull('revoked_at').update({ revoked_at: now });
        await this.audit.record(trx, actor, now, 'user.disable', user.login, { sessionsEnded: ended, tokensRevoked });
        return { ...user, disabledAt: now };
      }
      await this.users.update(trx, user.id, { disabledAt: null });
      await this.audit.record(trx, actor, now, 'user.enable', user.login);
      return { ...user, disabledAt: null };
    });
  }

  async createToken(actor: Actor, now: Date, input: { name: unknown; role: unknown }): Promise<{ id: number; name: string; role: Role; token: string }> {
    const name = String(input.name ?? '').trim();
    if (!name || name.length > 100) throw new AppError('VALIDATION', 'Название токена: для чего он (например, crm), до 100 символов.');
    if (!isRole(input.role)) throw new AppError('VALIDATION', 'Выберите роль токена: администратор или сотрудник.');
    const role = input.role;
    return this.knex.transaction(async (trx) => {
      const created = await this.tokens.create(name, { role, createdBy: actorLabel(actor), now }, trx);
      await this.audit.record(trx, actor, now, 'token.create', name, { id: created.id, role });
      return { id: created.id, name, role, token: created.token };
    });
  }

  /** Revoked tokens stop working at their next request. */
  async revokeToken(actor: Actor, now: Date, tokenId: number): Promise<{ name: string; revoked: boolean }> {
    return this.knex.transaction(async (trx) => {
      const token = await this.tokens.find(tokenId, trx);
      if (!token) throw new AppError('NOT_FOUND', 'Такого токена нет.');
      const revoked = await this.tokens.revoke(trx, tokenId, now);
      if (revoked) await this.audit.record(trx, actor, now, 'token.revoke', token.name, { id: token.id });
      return { name: token.name, revoked };
    });
  }

  private async userFor(trx: Knex.Transaction, userId: number): Promise<User> {
    const user = await this.users.findById(userId, trx);
    if (!user) throw new AppError('NOT_FOUND', 'Такого пользователя нет.');
    return user;
  }

  private async keepOneAdmin(trx: Knex.Transaction, leavingId: number): Promise<void> {
    const admins = await this.users.lockEnabledAdmins(trx);
    if (admins.filter((id) => id !== leavingId).length === 0) throw new AppError('CONFLICT', lastAdmin);
  }
}
