import type { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';

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
