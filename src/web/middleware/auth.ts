import type { NextFunction, Request, Response } from 'express';
import type { Actor } from '../../auth/actor.js';
import type { TokensRepo } from '../../auth/tokens.js';
import type { Role, UsersRepo } from '../../auth/users-repo.js';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';

declare global {
  namespace Express {
    interface Locals {
      /** Who makes this request: the session's user (read afresh every request) or the API token. */
      actor?: Actor;
    }
  }
}

/**
 * Pages: who the session belongs to, read from the users table on every request, so a role
 * change takes effect at once and a disabled or deleted user is logged out at their next click.
 * Runs after the session middleware and before every page route; leaves `actor` unset when
 * nobody is logged in.
 */
export function sessionActor(users: UsersRepo) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const userId = req.session.userId;
    if (!userId) return next();
    const user = await users.findById(userId);
    if (!user || user.disabledAt) {
      req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/login')));
      return;
    }
    res.locals.actor = { kind: 'user', id: user.id, name: user.login, role: user.role, address: req.ip ?? null };
    next();
  };
}

/** Pages: a logged-in session, else the login page (and back here afterwards). */
export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (res.locals.actor) return next();
  const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/login${back}`);
}

/**
 * The role a route needs, for pages and the API alike: staff routes need anyone logged in
 * (or any valid token), admin routes an admin. Failing it is AppError('FORBIDDEN'), which the
 * page world renders as a Russian error page and the API answers as JSON 403.
 */
/**
 * Who is acting on this request: set by `sessionActor` (pages, from the user's current row) or
 * `requireToken` (API). Routes behind either always have one; without, the request is not ours.
 */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new AppError('UNAUTHORIZED', 'Нужно войти в систему или указать токен.');
  return actor;
}

export function requireRole(role: Role) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const actor = res.locals.actor;
    if (!actor) return next(new AppError('UNAUTHORIZED', 'Нужно войти в систему.'));
    if (role === 'admin' && actor.role !== 'admin') return next(new AppError('FORBIDDEN', 'Это может делать только администратор.'));
    next();
  };
}

export const requireAdmin = requireRole('admin');
export const requireStaff = requireRole('staff');

/** API: `Authorization: Bearer sc_…`, made on the «Токены API» page or by `npx simcast token create`. */
export function requireToken(tokens: TokensRepo, clock: Clock) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? await tokens.verify(match[1]!, clock.now()) : null;
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="simcast"');
      return next(new AppError('UNAUTHORIZED', 'Нужен действующий токен: заголовок Authorization: Bearer <токен>. Токен выдаёт администратор на странице «Токены API» или командой npx simcast token create.'));
    }
    res.locals.tokenName = token.name;
    res.locals.actor = { kind: 'token', id: token.id, name: token.name, role: token.role, address: req.ip ?? null };
    next();
  };
}
