/**
 * What staff type into the report's search box, turned into what the indexes can answer fast:
 * - digits (3 or more, spaces, brackets, dashes and a leading + allowed): the end of a number —
 *   «2233», «912 345-67-89», «8 912 345 67 89» (the last 10 digits of a full number, so 8… and
 *   +7… find the same) — matched on the reversed phone (index messages_campaign_phone_tail);
 * - any word: the start of a word in the recipient's fields — «анна», «Петр», «84315»
 *   (index messages_search_words; every word must match, case does not matter).
 * A number's digits are also tried as field words («84315» may be an order number).
 * Pure: the SQL lives in CampaignsRepo.
 */
export interface ReportSearch {
  /** The reversed last digits followed by `%`, for `reverse(phone) like ?`; null: not a number. */
  phoneTailPattern: string | null;
  /** A to_tsquery('simple', …) text of word prefixes joined by &; null: no words. */
  wordsQuery: string | null;
}

const maxWords = 8;

export function parseReportSearch(raw: string): ReportSearch | null {
  const text = raw.trim().slice(0, 100);
  if (!text) return null;
  let phoneTailPattern: string | null = null;
  if (/^\+?[\d\s()\-.]+$/.test(text)) {
    const digits = text.replace(/\D/g, '');
    if (digits.length >= 3) {
      const tail = digits.length >= 11 ? digits.slice(-10) : digits;
      phoneTailPattern = `${[...tail].reverse().join('')}%`;
    }
  }
  // Letters and digits only: nothing the tsquery syntax could read as an operator.
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, maxWords);
  const wordsQuery = words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
  if (!phoneTailPattern && !wordsQuery) return null;
  return { phoneTailPattern, wordsQuery };
}

/**
 * Which ids a page of `pageSize` rows at `page` takes, read from the nearer end of an index: the
 * last pages of 100 000 rows cost what the first ones do. Pure.
 */
export function pageWindow(page: number, pageSize: number, total: number): { direction: 'asc' | 'desc'; offset: number; limit: number } {
  const offset = (page - 1) * pageSize;
  const limit = Math.max(0, Math.min(pageSize, total - offset));
  if (offset <= total / 2) return { direction: 'asc', offset, limit: pageSize };
  return { direction: 'desc', offset: Math.max(0, total - offset - limit), limit };
}
