import { ru } from '../i18n/ru.js';

/**
 * What info-level logs may show of personal data (152-FZ: logs are copied, shipped and kept longer
 * than the database, so they carry as little as possible). Debug logs may show more; these are the
 * defaults.
 */

/**
 * `+79161234567` → `+7916***67`: the `+`, the first four digits (for Russia: the country code and
 * the operator code, which tells which SIM route was used) and the last two, enough to tell numbers
 * apart in one log without making it easy to recover them (five digits hidden: 100 000 candidates).
 * The stars are always three, so the length is not shown; a `+` is kept only if there was one. Anything with fewer than 8 digits (not a
 * phone number) becomes `***`.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 8) return '***';
  const plus = phone.trimStart().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 4)}***${digits.slice(-2)}`;
}

/** A message text as info logs show it: its length only, in characters as a person counts them. */
export function maskText(text: string): string {
  let characters = 0;
  for (const _ of text) characters++;
  return ru.compliance.maskedText(characters);
}
