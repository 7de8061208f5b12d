import type { Request, Response } from 'express';
import type { Actor } from '../auth/actor.js';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';

/**
 * The person acting on a page: the Actor a middleware already put in `res.locals.actor`, else one
 * built from the session (login, role, client address).
 */
export function pageActor(_req: Request, res: Response): Actor {
  // sessionActor (middleware/auth.ts) sets it on every page behind the login, from the user's current row.
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new AppError('UNAUTHORIZED', 'Нужно войти в систему.');
  return actor;
}

/** A form field as text ('' when absent or not text). */
export function field(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/** A service error for a form: which field (if any) and the Russian message, its field named in Russian. */
export function formError(error: AppError): { field: string | null; message: string } {
  const f = (error.details as { field?: unknown } | undefined)?.field;
  const fieldName = typeof f === 'string' ? f : null;
  let message = error.message;
  if (fieldName && message.startsWith(`${fieldName}: `)) {
    message = `${ru.pages.fieldNames[fieldName] ?? fieldName}: ${message.slice(fieldName.length + 2)}`;
  }
  return { field: fieldName, message };
}
