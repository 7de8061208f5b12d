import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors.js';

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 20 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v, depth + 1));
}

/**
 * PostgreSQL cannot store the NUL character (text or jsonb): a request carrying one would fail
 * deep inside a query. It is refused here, with a clear 400, before anything is stored.
 */
export function rejectNul(req: Request, _res: Response, next: NextFunction): void {
  if (hasNul(req.body) || hasNul(req.query)) {
    next(new AppError('BAD_REQUEST', 'В данных есть недопустимый символ (NUL). Уберите его и повторите.'));
    return;
  }
  next();
}
