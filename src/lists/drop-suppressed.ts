import type { Knex } from 'knex';
import { erasedValue } from '../compliance/erasure-repo.js';
import { phonesInCell } from '../compliance/erasure.js';
import type { ImportResult } from './import.js';

/**
 * Which of these E.164 numbers were erased on request (152-FZ) and must not come back; asked
 * through `db`, the transaction storing the upload.
 */
export type SuppressedAmong = (phones: Iterable<string>, db: Knex.Transaction) => Promise<Set<string>>;

/**
 * An upload never brings back a number whose data was erased: its row is dropped (counted in
 * `suppressed`), so are the rows that repeated it, and a rejected cell that quotes it keeps its
 * row number and reason but not its text. `holdsErased`: the file held an erased number (so it is
 * not kept for re-reading).
 */
export async function dropSuppressed(result: ImportResult, suppressedAmong: (phones: Iterable<string>) => Promise<Set<string>>): Promise<ImportResult & { suppressed: number; holdsErased: boolean }> {
  // The numbers are read out of the cells only if asked for: most offices never erase anyone, and
  // then suppressedAmong answers without them (parsing every rejected cell cost ~60 ms per
  // 100 000 rows, at the end of every upload).
  let inRejected: string[][] | undefined;
  let inNotes: string[][] | undefined;
  const rejectedPhones = () => (inRejected ??= result.rejected.map((r) => (r.code === 'several' || r.code === 'invalid' ? phonesInCell(r.value) : [])));
  // A note quotes the whole cell: the numbers not taken are in it too.
  const notePhones = () => (inNotes ??= result.notes.map((n) => (n.value === '' ? [] : phonesInCell(n.value))));
  const candidates: Iterable<string> = {
    *[Symbol.iterator]() {
      const seen = new Set(result.contacts.map((c) => c.phone));
      for (const phones of rejectedPhones()) for (const p of phones) seen.add(p);
      for (const phones of notePhones()) for (const p of phones) seen.add(p);
      yield* seen;
    },
  };
  const suppressed = await suppressedAmong(candidates);
  if (suppressed.size === 0) return { ...result, suppressed: 0, holdsErased: false };
  const contacts = result.contacts.filter((c) => !suppressed.has(c.phone));
  const duplicates = result.duplicates.filter((d) => !suppressed.has(d.phone));
  const rejected = result.rejected.map((r, i) => (rejectedPhones()[i]!.some((p) => suppressed.has(p)) ? { ...r, value: erasedValue } : r));
  const notes = result.notes.map((n, i) => (notePhones()[i]!.some((p) => suppressed.has(p)) ? { ...n, value: erasedValue, text: erasedValue } : n));
  const dropped = result.contacts.length - contacts.length + (result.duplicates.length - duplicates.length);
  return { contacts, duplicates, rejected, notes, suppressed: dropped, holdsErased: true };
}
