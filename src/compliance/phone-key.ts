import { createHmac } from 'node:crypto';

const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * The suppression key of a number: HMAC-SHA-256 (hex) of its E.164 form with the server secret.
 * After an erasure request (152-FZ art. 21) we delete the number itself but keep this key, so a
 * later import or API call with the same number is still recognised and skipped.
 *
 * Why not a plain SHA-256 of the number: phone numbers are enumerable. There are 10^10 Russian
 * mobile numbers (+79XXXXXXXXX), and a single GPU hashes them all in minutes, so a plain hash is
 * the number in disguise, and keeping it would be keeping the number. With a secret key, the
 * table of keys is useless without the secret. The secret is kept in the database settings (as
 * the erasure issue specifies, so that every instance sharing the database agrees on it): a copy
 * of the whole database therefore still lets someone test numbers against the keys, so database
 * dumps must be protected like the data they came from. Losing or changing the secret makes every
 * existing key unmatchable, so it is never rotated without re-keying.
 *
 * Pure and deterministic. Throws on an empty secret or a number not in E.164, because a key made
 * of another spelling of the number (`8 912 …`) would silently never match.
 */
export function phoneKey(secret: string, e164: string): string {
  if (secret === '') throw new Error('phoneKey: the secret is empty');
  if (!E164.test(e164)) throw new Error('phoneKey: the number is not in E.164 form (+79123456789)');
  return createHmac('sha256', secret).update(e164, 'utf8').digest('hex');
}
