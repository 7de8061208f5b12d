import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors.js';

declare module 'express-session' {
  interface SessionData {
    csrf?: string;
    userId?: number;
    login?: string;
    flash?: string;
  }
}

/**
 * Synchronizer-token CSRF protection: a random token kept in the server-side session, put in
 * every form (`_csrf`) and in a meta tag for fetch (`x-csrf-token`), compared on every
 * state-changing request. Sessions live in PostgreSQL, so no second cookie is needed.
 */
export function csrfToken(req: Request): string {
  req.session.csrf ??= randomBytes(24).toString('base64url');
  return req.session.csrf;
}

export function verifyCsrf(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const expected = req.session?.csrf;
  const body = req.body as Record<string, unknown> | undefined;
  const given = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? req.get('x-csrf-token');
  if (expected && given && sameSecret(given, expected)) return next();
  next(new AppError('FORBIDDEN', 'Страница устарела. Обновите её и повторите действие.'));
}

/**
 * Constant-time comparison of UTF-8 bytes. The lengths compared are the BUFFERS' lengths: a token
 * with non-ASCII characters has as many UTF-16 units as ours but more bytes, and timingSafeEqual
 * throws on buffers of different lengths (that was a 500).
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
