import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import { fieldKey, templateProblem } from '../templates/render.js';

/** A campaign text saved under a name to reuse (not a notification template: those are per event). */
export interface SavedTemplate {
  id: number;
  name: string;
  text: string;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

function toTemplate(row: Record<string, unknown>): SavedTemplate {
  return {
    id: Number(row.id),
    name: row.name as string,
    text: row.text as string,
    createdBy: (row.created_by as string | null) ?? null,
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}

/**
 * Saved campaign texts. Saving under a name that exists (whatever its case) replaces that text:
 * staff improve «Заказ готов» rather than keep «Заказ готов 2». The text is checked like a
 * campaign's (braces), not against a list: it is meant for many lists.
 */
export class SavedTemplates {
  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock,
  ) {}

  async all(): Promise<SavedTemplate[]> {
    const rows = await this.knex('saved_templates').orderBy('name').limit(1000);
    return rows.map(toTemplate);
  }

  async get(id: number): Promise<SavedTemplate> {
    const row = Number.isInteger(id) && id > 0 && id <= 2_147_483_647 ? await this.knex('saved_templates').where({ id }).first() : undefined;
    if (!row) throw new AppError('NOT_FOUND', ru.campaignTargets.templateNotFound);
    return toTemplate(row);
  }

  async save(input: { name?: unknown; text?: unknown }, createdBy: string | null): Promise<{ template: SavedTemplate; created: boolean }> {
    const name = typeof input.name === 'string' ? input.name.replace(/\s+/g, ' ').trim() : '';
    if (!name) throw new AppError('VALIDATION', ru.campaignTargets.templateNameRequired, { field: 'name' });
    if (name.length > 100) throw new AppError('VALIDATION', ru.campaignTargets.templateNameTooLong, { field: 'name' });
    const text = typeof input.text === 'string' ? input.text.replace(/\r\n?/g, '\n') : '';
    if (!text.trim()) throw new AppError('VALIDATION', ru.campaignTargets.templateTextRequired, { field: 'text' });
    if (text.length > 5000) throw new AppError('VALIDATION', ru.campaignTargets.templateTextTooLong, { field: 'text' });
    const syntax = templateProblem(text);
    if (syntax) throw new AppError('VALIDATION', syntax, { field: 'text' });
    const now = this.clock.now();
    const key = fieldKey(name);
    const [row] = await this.knex('saved_templates')
      .insert({ name, name_key: key, text, created_by: createdBy, created_at: now, updated_at: now })
      .onConflict('name_key')
      .merge({ name, text, updated_at: now })
      .returning(['*', this.knex.raw('(xmax = 0) as inserted')]);
    return { template: toTemplate(row), created: Boolean(row.inserted) };
  }
}
