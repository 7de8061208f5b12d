import { fieldKey } from '../templates/render.js';

/** Pure decisions about a campaign's recipients across its lists (no I/O): fields on offer, the preview's search. */

/**
 * The preview's search, compiled once per request: a number (any part of its digits, with or
 * without the 8/+7 prefix) or any text in a field or in the rendered SMS, case and ё/е ignored.
 * Runs on every recipient (100 000), so the needle is folded once and haystacks only lower-cased.
 */
export function previewSearch(q: string): (contact: { phone: string; fields: Record<string, string> }, text: string) => boolean {
  const fold = (s: string) => s.toLowerCase().replaceAll('ё', 'е');
  const needle = fold(q.replace(/[\s\u00a0]+/g, ' ').trim());
  const digits = q.replace(/\D/g, '');
  // "8 912 345" and "+7912345" both find +79123456789: compare without the trunk prefix.
  const looksLikeNumber = digits.length >= 3 && /^[\d\s()+.-]+$/.test(q.trim());
  const core = looksLikeNumber ? digits.replace(/^[78](?=\d{3})/, '') : '';
  return (contact, text) => {
    if (core && contact.phone.includes(core)) return true;
    if (!needle) return false;
    if (fold(text).includes(needle)) return true;
    for (const value of Object.values(contact.fields)) if (typeof value === 'string' && fold(value).includes(needle)) return true;
    return false;
  };
}

/** Every column of the lists, each once (by its lenient key), the first list's spelling and order first. */
export function unionOfColumns(lists: readonly { columns: readonly string[] }[]): string[] {
  const keys = new Set<string>();
  const columns: string[] = [];
  for (const list of lists) {
    for (const column of list.columns) {
      const key = fieldKey(column);
      if (keys.has(key)) continue;
      keys.add(key);
      columns.push(column);
    }
  }
  return columns;
}
