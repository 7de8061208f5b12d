import type { Knex } from 'knex';
import { MAX_PARTS_THAT_FIT } from '../templates/segments.js';
import { defaultSettings, settingsSchema, type Settings } from './settings.js';

/** Settings rows are key → JSON; absent keys take their defaults. */
export class SettingsRepo {
  constructor(private readonly knex: Knex) {}

  async get(): Promise<Settings> {
    const rows: Array<{ key: string; value: unknown }> = await this.knex('settings').select('key', 'value');
    const stored = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    const merged = { ...defaultSettings, ...pick(stored, Object.keys(defaultSettings)) };
    // Up to 10 parts could be set before the AMI line limit was known: read it as the most that fits.
    if (typeof merged.maxParts === 'number') merged.maxParts = Math.min(merged.maxParts, MAX_PARTS_THAT_FIT);
    const parsed = settingsSchema.safeParse(merged);
    // A value that no longer validates (e.g. after a limit changed) falls back to defaults.
    return parsed.success ? parsed.data : { ...defaultSettings };
  }

  async update(patch: Partial<Settings>, now: Date): Promise<Settings> {
    await this.knex.transaction(async (trx) => {
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        await trx('settings')
          .insert({ key, value: JSON.stringify(value), updated_at: now })
          .onConflict('key')
          .merge();
      }
    });
    return this.get();
  }

  /** Internal secrets (e.g. the session signing key) kept beside settings, created on first use. */
  async secret(key: string, create: () => string): Promise<string> {
    const name = `secret:${key}`;
    await this.knex('settings').insert({ key: name, value: JSON.stringify(create()) }).onConflict('key').ignore();
    const row = await this.knex('settings').where({ key: name }).first('value');
    return String(row.value);
  }
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in source).map((k) => [k, source[k]]));
}
