/** Form fields arrive as text; "0,06" (the Russian decimal comma) is accepted. Blank: not given. */
export function formNumber(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return Number(v.trim().replace(',', '.'));
}

/** Keeps only the fields that were given. */
export function given<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
