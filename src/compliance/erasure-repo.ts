import type { Knex } from 'knex';
import type { Db } from './compliance-repo.js';
import { fileMayHold } from '../lists/file-mentions.js';

/** What one erasure changed, by kind of row. Counts only: the register never holds the number. */
export interface ErasureCounts {
  /** Rows of uploaded lists (their fields and number replaced by markers). */
  listContacts: number;
  /** Entries of the upload reports (`lists.duplicates` / `lists.rejected`) that held the number. */
  uploadReportRows: number;
  /** Campaign messages and notifications to the number (text and number replaced). */
  messages: number;
  /** Of those, messages that were still waiting and became `skipped`. */
  waitingSkipped: number;
  /** Incoming SMS from the number. */
  inbound: number;
  /** Other people's list values and SMS texts that mentioned the number. */
  mentions: number;
  /** Entries of the consent register. */
  consents: number;
  /** The stop-list entry (0 or 1): the suppression key replaces it. */
  stopList: number;
  /** Stored list files (kept for re-reading a list) that held or may hold the number: deleted. */
  listFiles: number;
}

export interface ErasureRecord {
  id: number;
  requestedAt: Date;
  erasedAt: Date | null;
  requestedBy: string;
  counts: Partial<ErasureCounts>;
}

/** What a field value of an erased contact becomes; the column stays, so tables keep their shape. */
export const erasedValue = '[удалено]';
/** What the text of an erased message or incoming SMS becomes. */
export const erasedText = '[удалено по запросу]';
/** What the number becomes: unique per request, since a list holds each number once (unique (list_id, phone)). */
export function erasedPhone(erasureId: number): string {
  return `[удалено #${erasureId}]`;
}

/** SQL: the text with the separators people put inside numbers removed (spaces, dashes, brackets, dots). */
const compactSql = (expr: string) => `regexp_replace(${expr}, '[[:space:]()./-]', '', 'g')`;

/** SQL of an erasure (152-FZ): every statement takes the caller's transaction and `now` from the caller. */
export class ErasureRepo {
  constructor(readonly knex: Knex) {}

  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work);
  }

  async suppress(db: Db, phoneKey: string, now: Date): Promise<void> {
    await db('suppressions').insert({ phone_key: phoneKey, created_at: now }).onConflict('phone_key').ignore();
  }

  async openRequest(db: Db, phoneKey: string, requestedAt: Date, requestedBy: string): Promise<number> {
    const [row] = await db('erasures').insert({ phone_key: phoneKey, requested_at: requestedAt, requested_by: requestedBy }).returning('id');
    return Number(row.id);
  }

  async closeRequest(db: Db, id: number, erasedAt: Date, counts: ErasureCounts): Promise<void> {
    await db('erasures').where({ id }).update({ erased_at: erasedAt, counts: JSON.stringify(counts) });
  }

  /** The number's list rows: every field value → {@link erasedValue} (keys kept), the number → `marker`. */
  async eraseContacts(db: Db, phone: string, marker: string, now: Date): Promise<number> {
    const result = await db.raw(
      `update list_contacts
          set fields = coalesce((select jsonb_object_agg(k, ?::text) from jsonb_object_keys(fields) as k), '{}'::jsonb),
              phone = ?, erased_at = ?
        where phone = ?`,
      [erasedValue, marker, now, phone],
    );
    return rowCount(result);
  }

  /**
   * Every message to the number (campaigns and notifications, any purpose): waiting ones become
   * `skipped` with `reason`; then text → {@link erasedText}, number → `marker`, and an error that
   * came from a modem or operator (it may quote the number) → {@link erasedText}. Skipped reasons
   * are simcast's own words and stay. Other states stay as they are, so a report's counts do not change.
   */
  async eraseMessages(db: Db, phone: string, marker: string, reason: string, now: Date): Promise<{ messages: number; waitingSkipped: number; campaignIds: number[] }> {
    const skipped: Array<{ campaign_id: number | null }> = await db('messages')
      .where({ phone, state: 'waiting' })
      .update({ state: 'skipped', error: reason, finished_at: now, not_before: null })
      .returning(['campaign_id']);
    const result = await db.raw(
      `update messages
          set phone = ?, text = ?, search_words = null,
              error = case when error is null or state = 'skipped' then error else ? end
        where phone = ?`,
      [marker, erasedText, erasedText, phone],
    );
    const campaignIds = [...new Set(skipped.map((r) => r.campaign_id).filter((id): id is number => id !== null))];
    return { messages: rowCount(result), waitingSkipped: skipped.length, campaignIds };
  }

  /** Incoming SMS whose sender is the number (also as stored unnormalised: compared by its last 10 digits). */
  async eraseInbound(db: Db, phone: string, lastDigits: string, marker: string): Promise<number> {
    // The fingerprint is a plain hash of device, sender and text: with a short text, the number
    // could be found again by trying every mobile number, so it goes too (per-row, still unique).
    const result = await db.raw(
      `update inbound_sms
          set from_phone = ?, text = ?, fingerprint = 'erased:' || id
        where from_phone = ? or ${compactSql('from_phone')} like ?`,
      [marker, erasedText, phone, `%${lastDigits}`],
    );
    return rowCount(result);
  }

  /** The consent history stays (when, how, by whom) but no longer says whose: number → marker, document → null. */
  async eraseConsents(db: Db, phone: string, marker: string): Promise<number> {
    return db('consents').where({ phone }).update({ phone: marker, document: null });
  }

  async deleteStopListEntry(db: Db, phone: string): Promise<number> {
    return db('stop_list').where({ phone }).delete();
  }

  /**
   * Uploaded list files are kept so that a list can be read again with another sheet or column;
   * they hold every row of the file. A file goes when its list holds the number (any version, as a
   * contact) or the file itself may hold it anywhere ({@link fileMayHold}: another sheet, a column
   * that was not imported). The list page then asks for the file again. Run before the contacts
   * are erased (it looks them up by number).
   */
  async eraseListFiles(db: Db, phone: string, lastDigits: string): Promise<number> {
    const ids: Array<{ list_id: number; holds: boolean }> = (
      await db.raw(
        `select f.list_id, exists (select 1 from list_contacts lc where lc.list_id = f.list_id and lc.phone = ?) as holds
           from list_files f order by f.list_id for update`,
        [phone],
      )
    ).rows;
    const doomed: number[] = [];
    for (const { list_id: listId, holds } of ids) {
      if (holds) {
        doomed.push(listId);
        continue;
      }
      // One file in memory at a time: a PBX keeps tens of lists of a few MB.
      const row = await db('list_files').where({ list_id: listId }).first('data');
      if (row && fileMayHold(row.data as Buffer, lastDigits)) doomed.push(listId);
    }
    if (doomed.length === 0) return 0;
    return db('list_files').whereIn('list_id', doomed).delete();
  }

  /**
   * Upload reports keep the rows a file had that were not taken: duplicates (with the number) and
   * rejected cells (with the cell's text, e.g. two numbers in one cell). Entries holding the number
   * — compared by its last 10 digits inside the entry's text — get markers instead.
   */
  async eraseUploadReports(db: Db, lastDigits: string, marker: string): Promise<number> {
    const like = `%${lastDigits}%`;
    const rows: Array<{ id: number; duplicates: unknown; rejected: unknown; notes: unknown }> = (
      await db.raw(
        `select id, duplicates, rejected, notes from lists l
          where exists (select 1 from jsonb_array_elements(l.duplicates) e where ${compactSql(`e->>'phone'`)} like ?)
             or exists (select 1 from jsonb_array_elements(l.rejected) e where ${compactSql(`e->>'value'`)} like ?)
             or exists (select 1 from jsonb_array_elements(l.notes) e where ${compactSql(`e->>'value'`)} like ? or ${compactSql(`e->>'text'`)} like ?)
          for update`,
        [like, like, like, like],
      )
    ).rows;
    const holds = (value: unknown) => typeof value === 'string' && value.replace(/[\s()./-]/g, '').includes(lastDigits);
    let changed = 0;
    for (const row of rows) {
      const duplicates = (parseJson(row.duplicates) as Array<Record<string, unknown>>).map((e) => (holds(e.phone) ? (changed++, { ...e, phone: marker }) : e));
      const rejected = (parseJson(row.rejected) as Array<Record<string, unknown>>).map((e) => (holds(e.value) ? (changed++, { ...e, value: erasedValue }) : e));
      // A note quotes the cell with several numbers (value) and names them (text).
      const notes = ((parseJson(row.notes) ?? []) as Array<Record<string, unknown>>).map((e) => (holds(e.value) || holds(e.text) ? (changed++, { ...e, value: erasedValue, text: erasedValue }) : e));
      await db('lists').where({ id: row.id }).update({ duplicates: JSON.stringify(duplicates), rejected: JSON.stringify(rejected), notes: JSON.stringify(notes) });
    }
    return changed;
  }

  /**
   * The number mentioned in other people's rows (a «Доп. телефон» column, a text rendered from it, a
   * saved campaign text): those values become «[удалено]», those texts «[удалено по запросу]». A scan of every list row;
   * erasures are rare and this keeps the promise that no copy of the number is left.
   */
  async eraseMentions(db: Db, lastDigits: string): Promise<{ fields: number; texts: number }> {
    const like = `%${lastDigits}%`;
    const rows: Array<{ id: number; fields: unknown }> = (
      await db.raw(
        `select id, fields from list_contacts lc
          where exists (select 1 from jsonb_each_text(lc.fields) f where ${compactSql('f.value')} like ?)
          for update`,
        [like],
      )
    ).rows;
    const holds = (value: unknown) => typeof value === 'string' && value.replace(/[\s()./-]/g, '').includes(lastDigits);
    let fields = 0;
    for (const row of rows) {
      const masked = Object.fromEntries(Object.entries(parseJson(row.fields) as Record<string, unknown>).map(([k, v]) => (holds(v) ? (fields++, [k, erasedValue]) : [k, v])));
      await db('list_contacts').where({ id: row.id }).update({ fields: JSON.stringify(masked) });
      // The report's search words of messages to this contact (issue #9) come from these fields.
      await db.raw(`update messages set search_words = to_tsvector('simple', ?::jsonb) where contact_id = ? and search_words is not null`, [JSON.stringify(masked), row.id]);
    }
    const texts = await db.raw(`update messages set text = ? where ${compactSql('text')} like ?`, [erasedText, like]);
    // A saved campaign text that names the number (e.g. «перезвоните 8 916 …»).
    const saved = await db.raw(`update saved_templates set text = ? where ${compactSql('text')} like ?`, [erasedText, like]);
    return { fields, texts: rowCount(texts) + rowCount(saved) };
  }

  /** A SIM's last failure is the modem's own words and might quote the number. */
  async eraseSimFailures(db: Db, lastDigits: string): Promise<number> {
    const result = await db.raw(`update sims set last_failure = ? where ${compactSql('last_failure')} like ?`, [erasedText, `%${lastDigits}%`]);
    return rowCount(result);
  }

  /** Newest first. */
  async list(limit = 200): Promise<ErasureRecord[]> {
    const rows: Array<{ id: number; requested_at: Date; erased_at: Date | null; requested_by: string; counts: unknown }> = await this.knex('erasures')
      .orderBy('id', 'desc')
      .limit(Math.min(limit, 1000))
      .select('id', 'requested_at', 'erased_at', 'requested_by', 'counts');
    return rows.map((r) => ({
      id: Number(r.id),
      requestedAt: new Date(r.requested_at),
      erasedAt: r.erased_at ? new Date(r.erased_at) : null,
      requestedBy: r.requested_by,
      counts: (parseJson(r.counts) ?? {}) as Partial<ErasureCounts>,
    }));
  }

  /** Whether any number was ever erased (a suppression key exists). */
  async anySuppressed(db: Db = this.knex): Promise<boolean> {
    return (await db('suppressions').first('phone_key')) !== undefined;
  }

  /** Which of these keys are suppressed. */
  async suppressedKeys(keys: readonly string[], db: Db = this.knex): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 5000) {
      const rows: Array<{ phone_key: string }> = await db('suppressions').whereIn('phone_key', keys.slice(i, i + 5000)).select('phone_key');
      for (const r of rows) found.add(r.phone_key);
    }
    return found;
  }
}

function rowCount(result: { rowCount?: number | null; affectedRows?: number }): number {
  return result.rowCount ?? result.affectedRows ?? 0;
}

/** pg parses json columns; PGlite may hand back text. */
function parseJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? JSON.parse(value) : value;
}
