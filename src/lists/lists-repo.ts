import type { Knex } from 'knex';

export interface ListRecord {
  id: number;
  name: string;
  fileName: string;
  columns: string[];
  phoneColumn: string;
  imported: number;
  duplicates: Array<{ row: number; phone: string; firstRow: number }>;
  rejected: Array<{ row: number; value: string; reason: string }>;
  /** Rows dropped because their number was erased on request (152-FZ): it must not come back. */
  suppressed: number;
  /** As typed by staff; compared case-insensitively. */
  tags: string[];
  createdBy: string | null;
  createdAt: Date;
}

export interface NewContact {
  rowNumber: number;
  phone: string;
  fields: Record<string, string>;
}

export interface ContactRecord extends NewContact {
  id: number;
}

const insertChunk = 1000;

function toList(row: Record<string, unknown>): ListRecord {
  return {
    id: row.id as number,
    name: row.name as string,
    fileName: row.file_name as string,
    columns: row.columns as string[],
    phoneColumn: row.phone_column as string,
    imported: row.imported as number,
    duplicates: row.duplicates as ListRecord['duplicates'],
    rejected: row.rejected as ListRecord['rejected'],
    suppressed: Number(row.suppressed ?? 0),
    tags: (row.tags as string[] | undefined) ?? [],
    createdBy: (row.created_by as string | null) ?? null,
    createdAt: new Date(row.created_at as string),
  };
}

export class ListsRepo {
  constructor(private readonly knex: Knex) {}

  /** Inserts a list and all its contacts in one transaction: a failed import leaves nothing behind. */
  /**
   * The list and its contacts in one transaction; `alsoInTransaction` adds what must commit with
   * them (the consents read from the file), so a failure leaves nothing half-stored.
   */
  async create(
    list: Omit<ListRecord, 'id' | 'createdAt' | 'imported' | 'suppressed' | 'tags'> & { suppressed?: number; tags?: string[] },
    contacts: NewContact[],
    now: Date,
    alsoInTransaction?: (trx: Knex.Transaction, listId: number) => Promise<void>,
  ): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('lists')
        .insert({
          name: list.name,
          file_name: list.fileName,
          columns: JSON.stringify(list.columns),
          phone_column: list.phoneColumn,
          imported: contacts.length,
          duplicates: JSON.stringify(list.duplicates),
          rejected: JSON.stringify(list.rejected),
          suppressed: list.suppressed ?? 0,
          tags: list.tags ?? [],
          created_by: list.createdBy,
          created_at: now,
        })
        .returning('id');
      const listId = row.id as number;
      for (let i = 0; i < contacts.length; i += insertChunk) {
        await trx('list_contacts').insert(
          contacts.slice(i, i + insertChunk).map((c) => ({
            list_id: listId,
            row_number: c.rowNumber,
            phone: c.phone,
            fields: JSON.stringify(c.fields),
          })),
        );
      }
      await alsoInTransaction?.(trx, listId);
      return listId;
    });
  }

  async get(id: number): Promise<ListRecord | null> {
    const row = await this.knex('lists').where({ id }).first();
    return row ? toList(row) : null;
  }

  async all(): Promise<ListRecord[]> {
    const rows = await this.knex('lists').orderBy('id', 'desc');
    return rows.map(toList);
  }

  /**
   * Lists carrying any of `tags`, oldest first. Compared in JS, not with SQL lower(): that follows the
   * database's locale, which under C would leave Cyrillic capitals alone. A PBX has tens of lists.
   */
  async idsWithTags(tags: string[]): Promise<number[]> {
    const fold = (t: string) => t.trim().toLocaleLowerCase('ru-RU').replaceAll('ё', 'е');
    const wanted = new Set(tags.map(fold).filter(Boolean));
    if (wanted.size === 0) return [];
    const rows: Array<{ id: number; tags: string[] }> = await this.knex('lists').select('id', 'tags').where(this.knex.raw("tags <> '{}'")).orderBy('id');
    return rows.filter((r) => r.tags.some((t) => wanted.has(fold(t)))).map((r) => r.id);
  }

  async contacts(listId: number, options: { limit?: number; offset?: number } = {}): Promise<ContactRecord[]> {
    let q = this.knex('list_contacts').where({ list_id: listId }).orderBy('row_number');
    if (options.limit !== undefined) q = q.limit(options.limit);
    if (options.offset !== undefined) q = q.offset(options.offset);
    const rows = await q;
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as number,
      rowNumber: r.row_number as number,
      phone: r.phone as string,
      fields: r.fields as Record<string, string>,
    }));
  }
}
