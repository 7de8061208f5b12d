import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors.js';
import type { TokensRepo } from '../../auth/tokens.js';
import type { Clock } from '../../clock.js';
import type { Actor } from '../../auth/actor.js';

/** Pages: a logged-in session, else the login page (and back here afterwards). */
export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) return next();
  const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/login${back}`);
}

export function requireAdmin(req: Request, _res: Response, next: NextFunction): void {
  if (req.session.role === 'admin') return next();
  next(new AppError('FORBIDDEN', 'Это может делать только администратор.'));
}

/** API: `Authorization: Bearer sc_…` made by `npx simcast token create`. */
export function requireToken(tokens: TokensRepo, clock: Clock) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? await tokens.verify(match[1]!, clock.now()) : null;
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="simcast"');
      return next(new AppError('UNAUTHORIZED', 'Нужен действующий токен: заголовок Authorization: Bearer <токен>. Токен выдаёт команда npx simcast token create.'));
    }
    res.locals.tokenName = token.name;
    res.locals.actor = { kind: 'token', id: token.id, name: token.name, role: token.role, address: req.ip ?? null } satisfies Actor;
    next();
  };
}
