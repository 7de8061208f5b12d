import { AppError } from '../errors.js';

/** A positive integer id from a URL, or a 404 (never a 500 for `/lists/abc`). */
export function parseId(raw: unknown): number {
  const s = String(raw);
  if (!/^[1-9]\d{0,9}$/.test(s) || Number(s) > 2_147_483_647) throw new AppError('NOT_FOUND', 'Не найдено.');
  return Number(s);
}

export function parsePage(raw: unknown): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}
