import type { Knex } from 'knex';
import type { MessageState } from '../dispatcher/message-state.js';
import { messageStates } from '../dispatcher/message-state.js';
import type { PlannedMessage } from './campaign-plan.js';
import { pageWindow, parseReportSearch } from './report-search.js';
import type { CampaignKind, CampaignStatus } from './campaign.js';

export interface CampaignRecord {
  id: number;
  name: string;
  listId: number;
  template: string;
  kind: CampaignKind;
  status: CampaignStatus;
  pricePerPart: number;
  maxParts: number;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** A service campaign may send outside the sending window. */
  ignoreWindow: boolean;
  /** Only these SIMs (IMSI) send it; null: every SIM. */
  sims: string[] | null;
  /** Cyrillic was sent in Latin letters (templates/translit.ts). */
  translit: boolean;
  /** With translit: the parts it saved when the campaign was made (null without translit). */
  translitSavedParts: number | null;
  /** Every list the campaign was made from, first (= `listId`) first: their fields won in that order. */
  listIds: number[];
}

export type StateCounts = Record<MessageState, number>;

/** One message as the report shows it (a campaign's row, or a notification: rowNumber null). */
export interface MessageRecord {
  id: number;
  rowNumber: number | null;
  phone: string;
  text: string;
  parts: number;
  state: MessageState;
  modem: string | null;
  sentAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

/** A message of the report with the recipient's list fields (empty when the list row is gone). */
export type ReportMessage = MessageRecord & { fields: Record<string, string> };

export interface ReportQuery {
  page: number;
  pageSize: number;
  state?: MessageState | undefined;
  search?: string | undefined;
}

/** One exported message: every cell already text (CampaignsRepo.exportRows). */
export interface ExportRecord {
  id: number;
  row: string;
  phone: string;
  fields: string[];
  text: string;
  sim: string;
  sentAt: string;
  finishedAt: string;
  state: MessageState;
  error: string;
}

/** A test send of a campaign (`messages.test_of_campaign`), as its page shows it. */
export interface TestSendRecord {
  id: number;
  phone: string;
  rowNumber: number | null;
  state: MessageState;
  createdAt: Date | null;
  sentAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

/** How many delta rows of campaign_counts a campaign may have before a reader folds them. */
const countsFoldAt = 64;

const insertChunk = 10_000;
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

function toCampaign(row: Record<string, unknown>): CampaignRecord {
  return {
    id: row.id as number,
    name: row.name as string,
    listId: row.list_id as number,
    template: row.template as string,
    kind: row.kind as CampaignKind,
    status: row.status as CampaignStatus,
    pricePerPart: Number(row.price_per_part),
    maxParts: row.max_parts as number,
    createdBy: (row.created_by as string | null) ?? null,
    createdAt: new Date(row.created_at as string),
    startedAt: date(row.started_at),
    finishedAt: date(row.finished_at),
    ignoreWindow: Boolean(row.ignore_window),
    sims: (row.sims as string[] | null) ?? null,
    translit: Boolean(row.translit),
    translitSavedParts: row.translit_saved_parts === null || row.translit_saved_parts === undefined ? null : Number(row.translit_saved_parts),
    listIds: ((row.list_ids as number[] | null | undefined) ?? []).map(Number),
  };
}

/** `campaigns.*` with its lists in order (campaign_lists), as {@link toCampaign} reads them. */
const withLists = (knex: Knex) =>
  knex('campaigns').select('campaigns.*', knex.raw('array(select list_id from campaign_lists cl where cl.campaign_id = campaigns.id order by position) as list_ids'));

export function toMessage(row: Record<string, unknown>): MessageRecord {
  return {
    id: Number(row.id),
    rowNumber: (row.row_number as number | null) ?? null,
    phone: row.phone as string,
    text: row.text as string,
    parts: row.parts as number,
    state: row.state as MessageState,
    modem: (row.modem as string | null) ?? null,
    sentAt: date(row.sent_at),
    finishedAt: date(row.finished_at),
    error: (row.error as string | null) ?? null,
  };
}

function fieldsOf(value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
}

export class CampaignsRepo {
  constructor(private readonly knex: Knex) {}

  /**
   * The campaign and one message per recipient, in one transaction. Rows with a problem are
   * stored as `skipped` with the reason, so the report shows every recipient of the list.
   */
  async create(
    campaign: Pick<CampaignRecord, 'name' | 'listId' | 'template' | 'kind' | 'pricePerPart' | 'maxParts' | 'createdBy' | 'ignoreWindow' | 'sims'> & {
      translit?: boolean;
      translitSavedParts?: number | null;
      /** Every list in order, `listId` first; absent: `listId` alone. */
      listIds?: readonly number[];
    },
    messages: readonly PlannedMessage[],
    now: Date,
  ): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('campaigns')
        .insert({
          name: campaign.name,
          list_id: campaign.listId,
          template: campaign.template,
          kind: campaign.kind,
          status: 'draft',
          price_per_part: campaign.pricePerPart,
          max_parts: campaign.maxParts,
          created_by: campaign.createdBy,
          created_at: now,
          ignore_window: campaign.ignoreWindow,
          sims: campaign.sims ? JSON.stringify(campaign.sims) : null,
          translit: campaign.translit ?? false,
          translit_saved_parts: campaign.translitSavedParts ?? null,
        })
        .returning('id');
      const campaignId = row.id as number;
      const listIds = campaign.listIds?.length ? campaign.listIds : [campaign.listId];
      await trx('campaign_lists').insert(listIds.map((listId, position) => ({ campaign_id: campaignId, list_id: listId, position })));
      // One statement per chunk, its rows as one JSON parameter: knex's multi-row insert bound 10
      // values and a sub-select per row, which PostgreSQL parsed and planned as one huge statement
      // (a 100 000-recipient campaign: 11.8 s to create, this way 4.6 s, of which the report's
      // search words and their GIN index take 1.3 s; bench/campaign-targets.ts). Ordinality keeps
      // the plan's order in the ids (the report pages by id).
      for (let i = 0; i < messages.length; i += insertChunk) {
        const rows = messages.slice(i, i + insertChunk).map((m) => ({
          contact_id: m.contactId,
          row_number: m.rowNumber,
          phone: m.phone,
          text: m.text,
          parts: m.parts,
          problem: m.problem,
        }));
        await trx.raw(
          `insert into messages (campaign_id, contact_id, row_number, phone, text, parts, state, error, finished_at, created_at, search_words)
           select ?, m.contact_id, m.row_number, m.phone, m.text, m.parts,
                  case when m.problem is null then 'waiting' else 'skipped' end, m.problem,
                  case when m.problem is null then null else ?::timestamptz end, ?::timestamptz,
                  -- The words of the recipient's fields, for the report's search (report-search.ts).
                  (select to_tsvector('simple', c.fields) from list_contacts c where c.id = m.contact_id)
             from rows from (json_to_recordset(?::json) as (contact_id bigint, row_number int, phone text, text text, parts int, problem text))
                  with ordinality as m(contact_id, row_number, phone, text, parts, problem, n)
            order by m.n`,
          [campaignId, now, now, JSON.stringify(rows)],
        );
      }
      return campaignId;
    });
  }

  async get(id: number): Promise<CampaignRecord | null> {
    const row = await withLists(this.knex).where({ id }).first();
    return row ? toCampaign(row) : null;
  }

  async all(limit = 200): Promise<CampaignRecord[]> {
    const rows = await withLists(this.knex).orderBy('id', 'desc').limit(limit);
    return rows.map(toCampaign);
  }

  /**
   * Moves the campaign from one of `from` to `to`. Returns false when its status was not one of
   * `from` (someone else acted first): the caller reports that, nothing is half-done.
   */
  async transition(
    id: number,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    now: Date,
    /** What must commit with the change (at Start: the messages the law now leaves out). */
    alsoInTransaction?: (trx: Knex.Transaction) => Promise<unknown>,
  ): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const patch: Record<string, unknown> = { status: to };
      if (to === 'running') patch.started_at = trx.raw('coalesce(started_at, ?)', [now]);
      if (to === 'cancelled') patch.finished_at = now;
      const updated = await trx('campaigns').where({ id }).whereIn('status', from).update(patch);
      if (updated === 0) return false;
      if (to === 'cancelled') {
        await trx('messages')
          .where({ campaign_id: id, state: 'waiting' })
          .update({ state: 'skipped', error: 'Рассылка отменена', finished_at: now });
      }
      await alsoInTransaction?.(trx);
      return true;
    });
  }

  /**
   * From campaign_counts (maintained by triggers on messages, see migration 20261203000300):
   * summing a few delta rows instead of counting 100 000 messages. Past `countsFoldAt` rows the
   * deltas are folded into one row per state; a delta committed meanwhile is not seen by the
   * delete, so it stays and still counts.
   */
  async counts(campaignId: number): Promise<StateCounts & { parts: number; sentParts: number }> {
    const rows: Array<{ state: MessageState; n: number; parts: number; deltas: number }> = (
      await this.knex.raw(
        `select state, sum(n)::int as n, sum(parts)::int as parts, count(*)::int as deltas
           from campaign_counts where campaign_id = ? group by state`,
        [campaignId],
      )
    ).rows;
    if (rows.reduce((sum, r) => sum + Number(r.deltas), 0) > countsFoldAt) await this.foldCounts(campaignId);
    const counts = Object.fromEntries(messageStates.map((s) => [s, 0])) as StateCounts;
    let parts = 0;
    let sentParts = 0;
    for (const r of rows) {
      if (!(r.state in counts)) continue;
      counts[r.state] = Number(r.n);
      if (r.state !== 'skipped') parts += Number(r.parts);
      if (r.state === 'sent' || r.state === 'delivered' || r.state === 'unknown' || r.state === 'failed') sentParts += Number(r.parts);
    }
    return { ...counts, parts, sentParts };
  }

  private async foldCounts(campaignId: number): Promise<void> {
    await this.knex.raw(
      `with gone as (delete from campaign_counts where campaign_id = ? returning state, n, parts)
       insert into campaign_counts (campaign_id, state, n, parts)
         select ?, state, sum(n), sum(parts) from gone group by state having sum(n) <> 0 or sum(parts) <> 0`,
      [campaignId, campaignId],
    );
  }

  /**
   * One page of the report, with each row's list fields. Ids first, from an index only (by state:
   * messages_campaign_state), counted from the nearer end; then those rows. Totals come from
   * `counts` (no filter, or a state) or one indexed count (a search).
   */
  async report(campaignId: number, query: ReportQuery, counts: StateCounts | null): Promise<{ total: number; page: number; items: ReportMessage[] }> {
    const search = query.search ? parseReportSearch(query.search) : null;
    const ids = () => {
      const q = this.knex('messages').where('campaign_id', campaignId);
      if (query.state) q.andWhere('state', query.state);
      if (search) {
        q.andWhere((w) => {
          if (search.phoneTailPattern) w.orWhereRaw('reverse(phone) like ?', [search.phoneTailPattern]);
          if (search.wordsQuery) w.orWhereRaw(`search_words @@ to_tsquery('simple', ?)`, [search.wordsQuery]);
        });
      }
      return q;
    };
    if (query.search && !search) return { total: 0, page: 1, items: [] };
    if (search) {
      // The matches first (bitmap of the two indexes), then count and page over them: asked in one
      // statement with `order by id limit`, the planner walked all 100 000 rows in id order instead.
      const result = await this.knex.raw(
        `with hits as materialized (?)
         select (select count(*) from hits)::int as total,
                array(select id from hits order by id offset ? limit ?) as ids`,
        [ids().select('id'), (Math.max(1, query.page) - 1) * query.pageSize, query.pageSize],
      );
      const row = result.rows[0] as { total: number; ids: Array<number | string> };
      const total = Number(row.total);
      const pages = Math.max(1, Math.ceil(total / query.pageSize));
      if (query.page > pages && total > 0) return this.report(campaignId, { ...query, page: pages }, counts);
      return { total, page: Math.min(Math.max(1, query.page), pages), items: await this.reportRows(row.ids.map(Number)) };
    }
    counts ??= await this.counts(campaignId);
    let total: number;
    if (query.state) total = counts[query.state];
    else total = messageStates.reduce((sum, s) => sum + counts[s], 0);
    const pages = Math.max(1, Math.ceil(total / query.pageSize));
    const page = Math.min(Math.max(1, query.page), pages);
    if (total === 0) return { total, page, items: [] };
    const window = pageWindow(page, query.pageSize, total);
    // The page's ids (index only) and their rows in one statement.
    const rows: Array<Record<string, unknown>> = await this.knex('messages as m')
      .leftJoin('list_contacts as c', 'c.id', 'm.contact_id')
      .whereIn('m.id', ids().select('id').orderBy('id', window.direction).offset(window.offset).limit(window.limit))
      .orderBy('m.id')
      .select('m.id', 'm.row_number', 'm.phone', 'm.text', 'm.parts', 'm.state', 'm.modem', 'm.sent_at', 'm.finished_at', 'm.error', 'c.fields');
    return { total, page, items: rows.map((r) => ({ ...toMessage(r), fields: fieldsOf(r.fields) })) };
  }

  /**
   * Report rows after `afterId` in id order (keyset): the API's cursor and the export's batches.
   * One statement (the join walks messages_campaign from `afterId`): a separate id pick then
   * `id in (…2000 ids)` took 4.1 s instead of 1.5 s for 100 000 rows (measured).
   */
  async reportAfter(campaignId: number, afterId: number, limit: number, state?: MessageState): Promise<ReportMessage[]> {
    const q = this.knex('messages as m')
      .leftJoin('list_contacts as c', 'c.id', 'm.contact_id')
      .where('m.campaign_id', campaignId)
      .andWhere('m.id', '>', afterId);
    if (state) q.andWhere('m.state', state);
    const rows: Array<Record<string, unknown>> = await q
      .orderBy('m.id')
      .limit(limit)
      .select('m.id', 'm.row_number', 'm.phone', 'm.text', 'm.parts', 'm.state', 'm.modem', 'm.sent_at', 'm.finished_at', 'm.error', 'c.fields');
    return rows.map((r) => ({ ...toMessage(r), fields: fieldsOf(r.fields) }));
  }

  /**
   * The whole export, read through one SQL cursor in a read-only repeatable-read transaction: one
   * plan and one consistent snapshot for all rows (a campaign still sending exports as it stood at
   * the first row), `batch` rows per FETCH. Cells come as text from SQL — each list field by name
   * (`fields->>name`, no JSON parsing in JS) and times as the office's wall clock (`to_char(… at
   * time zone zone)`) — so the export's JS only quotes and neutralises. Keyset batches (`id > last
   * order by id limit`) took twice as long: each one a new plan, most of them parallel (measured).
   */
  async *exportRows(campaignId: number, columns: readonly string[], timeZone: string, batch: number): AsyncGenerator<ExportRecord[]> {
    const time = (column: string) => `coalesce(to_char(${column} at time zone ?, 'DD.MM.YYYY HH24:MI:SS'), '')`;
    const trx = await this.knex.transaction(undefined, { isolationLevel: 'repeatable read', readOnly: true });
    try {
      await trx.raw(
        `declare report_export no scroll cursor for
         select m.id, coalesce(m.row_number::text, '') as row, m.phone, m.text, coalesce(m.modem, '') as sim,
                ${time('m.sent_at')} as sent_at, ${time('m.finished_at')} as finished_at, m.state, coalesce(m.error, '') as error
                ${columns.map((_, i) => `, coalesce(c.fields->>?, '') as f${i}`).join('')}
           from messages m left join list_contacts c on c.id = m.contact_id
          where m.campaign_id = ?
          order by m.id`,
        [timeZone, timeZone, ...columns, campaignId],
      );
      for (;;) {
        const rows = (await trx.raw(`fetch ${Math.trunc(batch)} from report_export`)).rows as Array<Record<string, string>>;
        if (!rows.length) break;
        yield rows.map((r) => ({
          id: Number(r.id),
          row: r.row!,
          phone: r.phone!,
          fields: columns.map((_, i) => r[`f${i}`]!),
          text: r.text!,
          sim: r.sim!,
          sentAt: r.sent_at!,
          finishedAt: r.finished_at!,
          state: r.state as MessageState,
          error: r.error!,
        }));
      }
      await trx.commit();
    } finally {
      // An export cut short (the browser went away) ends here too: nothing was written, roll back.
      if (!trx.isCompleted()) await trx.rollback();
    }
  }

  private async reportRows(ids: readonly number[]): Promise<ReportMessage[]> {
    if (ids.length === 0) return [];
    const rows: Array<Record<string, unknown>> = await this.knex('messages as m')
      .leftJoin('list_contacts as c', 'c.id', 'm.contact_id')
      .whereIn('m.id', ids)
      .orderBy('m.id')
      .select('m.id', 'm.row_number', 'm.phone', 'm.text', 'm.parts', 'm.state', 'm.modem', 'm.sent_at', 'm.finished_at', 'm.error', 'c.fields');
    return rows.map((r) => ({ ...toMessage(r), fields: fieldsOf(r.fields) }));
  }

  /** A test send: a message without a campaign (it counts nowhere), tied to the campaign. */
  async insertTest(row: { campaignId: number; phone: string; text: string; parts: number; rowNumber: number | null; priority: number; now: Date; skip: string | null }): Promise<number> {
    const [inserted] = await this.knex('messages')
      .insert({
        campaign_id: null,
        test_of_campaign: row.campaignId,
        row_number: row.rowNumber,
        phone: row.phone,
        text: row.text,
        parts: row.parts,
        priority: row.priority,
        // A staff phone, asked for now: it goes at any hour, not only in the sending window.
        keep_window: false,
        created_at: row.now,
        ...(row.skip ? { state: 'skipped', error: row.skip, finished_at: row.now } : { state: 'waiting' }),
      })
      .returning('id');
    return Number(inserted.id);
  }

  async tests(campaignId: number, limit = 10): Promise<TestSendRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.knex('messages')
      .where('test_of_campaign', campaignId)
      .orderBy('id', 'desc')
      .limit(limit)
      .select('id', 'phone', 'row_number', 'state', 'created_at', 'sent_at', 'finished_at', 'error');
    return rows.map((r) => ({
      id: Number(r.id),
      phone: r.phone as string,
      rowNumber: (r.row_number as number | null) ?? null,
      state: r.state as MessageState,
      createdAt: date(r.created_at),
      sentAt: date(r.sent_at),
      finishedAt: date(r.finished_at),
      error: (r.error as string | null) ?? null,
    }));
  }

  /**
   * The campaign's list as its page needs it: name and field names. Only those columns: the list
   * row also holds its upload report (duplicates, rejected rows), which can be megabytes.
   */
  async listSummary(listId: number): Promise<{ id: number; name: string; columns: string[] } | null> {
    const row = await this.knex('lists').where({ id: listId }).first('id', 'name', 'columns');
    if (!row) return null;
    const columns = typeof row.columns === 'string' ? (JSON.parse(row.columns) as unknown) : (row.columns as unknown);
    return { id: Number(row.id), name: String(row.name), columns: Array.isArray(columns) ? columns.map(String) : [] };
  }

  /** The campaign's first message that will be sent (not skipped). */
  async firstSendable(campaignId: number): Promise<MessageRecord | null> {
    const row = await this.knex('messages').where('campaign_id', campaignId).andWhereNot('state', 'skipped').orderBy('id').first();
    return row ? toMessage(row) : null;
  }

  /** The campaign's message for a list row (its rendered text), or its first message. */
  async messageOfRow(campaignId: number, rowNumber: number | undefined): Promise<MessageRecord | null> {
    const q = this.knex('messages').where('campaign_id', campaignId);
    if (rowNumber !== undefined) q.andWhere('row_number', rowNumber);
    const row = await q.orderBy('id').first();
    return row ? toMessage(row) : null;
  }

  async messages(
    campaignId: number,
    options: { limit: number; offset: number; state?: MessageState | undefined; search?: string | undefined },
  ): Promise<{ total: number; items: MessageRecord[] }> {
    const base = this.knex('messages').where({ campaign_id: campaignId });
    if (options.state) base.andWhere({ state: options.state });
    if (options.search) {
      const like = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      base.andWhere((q) => q.whereILike('phone', like).orWhereILike('text', like));
    }
    const counted = await base.clone().count<{ total: number }[]>('* as total');
    const rows = await base.orderBy('id').limit(options.limit).offset(options.offset);
    return { total: Number(counted[0]?.total ?? 0), items: rows.map(toMessage) };
  }
}
