import type { Knex } from 'knex';
import type { MessageState } from '../dispatcher/message-state.js';
import { messageStates } from '../dispatcher/message-state.js';
import type { PlannedMessage } from './campaign-plan.js';
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

const insertChunk = 1000;
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
      for (let i = 0; i < messages.length; i += insertChunk) {
        await trx('messages').insert(
          messages.slice(i, i + insertChunk).map((m) => ({
            campaign_id: campaignId,
            contact_id: m.contactId,
            row_number: m.rowNumber,
            phone: m.phone,
            text: m.text,
            parts: m.parts,
            state: m.problem ? 'skipped' : 'waiting',
            error: m.problem,
            finished_at: m.problem ? now : null,
            created_at: now,
          })),
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

  async counts(campaignId: number): Promise<StateCounts & { parts: number; sentParts: number }> {
    const rows: Array<{ state: MessageState; n: number; parts: number }> = await this.knex('messages')
      .where({ campaign_id: campaignId })
      .groupBy('state')
      .select('state', this.knex.raw('count(*)::int as n'), this.knex.raw('coalesce(sum(parts), 0)::int as parts'));
    const counts = Object.fromEntries(messageStates.map((s) => [s, 0])) as StateCounts;
    let parts = 0;
    let sentParts = 0;
    for (const r of rows) {
      counts[r.state] = Number(r.n);
      if (r.state !== 'skipped') parts += Number(r.parts);
      if (r.state === 'sent' || r.state === 'delivered' || r.state === 'unknown' || r.state === 'failed') sentParts += Number(r.parts);
    }
    return { ...counts, parts, sentParts };
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
