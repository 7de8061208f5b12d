import type { Knex } from 'knex';
import type { MessageState, Transition } from './message-state.js';

/** A message claimed for one modem: written as `sending` before its DongleSendSMS goes out. */
export interface ClaimedMessage {
  id: number;
  campaignId: number;
  phone: string;
  text: string;
  parts: number;
  attempts: number;
}

/**
 * The dispatcher's SQL. Every statement takes `now` from the caller (never SQL now()), so the
 * same queries run under a fake clock in tests.
 */
export class DispatchRepo {
  constructor(
    private readonly knex: Knex,
    private readonly instanceId: string,
  ) {}

  /**
   * After a crash or restart: messages this instance left in `sending` may or may not have
   * reached chan_dongle. They become `unknown`, never re-sent automatically. Other instances'
   * rows are left alone (they may still be running).
   */
  async recoverInFlight(now: Date, reason: string): Promise<number> {
    return this.knex('messages')
      .where({ state: 'sending', instance_id: this.instanceId })
      .update({ state: 'unknown', error: reason, finished_at: now });
  }

  /**
   * Claims the next waiting message of a running campaign for `modem`, in one statement:
   * SKIP LOCKED lets several instances claim side by side without ever taking the same row,
   * and checking the campaign's status here makes pause and cancel act before the next message.
   */
  async claimNext(modem: string, now: Date): Promise<ClaimedMessage | null> {
    const result = await this.knex.raw(
      `update messages set state = 'sending', modem = ?, instance_id = ?, claimed_at = ?, attempts = attempts + 1, error = null
        where id = (
          select m.id from messages m join campaigns c on c.id = m.campaign_id
           where m.state = 'waiting' and c.status = 'running' and (m.not_before is null or m.not_before <= ?)
           order by c.started_at, m.campaign_id, m.id
           for update of m skip locked
           limit 1)
        returning id, campaign_id, phone, text, parts, attempts`,
      [modem, this.instanceId, now, now],
    );
    const row = result.rows[0];
    if (!row) return null;
    return {
      id: Number(row.id),
      campaignId: row.campaign_id,
      phone: row.phone,
      text: row.text,
      parts: row.parts,
      attempts: row.attempts,
    };
  }

  /** Applies a transition if the message is still in one of `from`; returns whether it was. */
  async apply(id: number, from: readonly MessageState[], t: Transition, now: Date): Promise<{ campaignId: number; modem: string | null } | null> {
    const patch: Record<string, unknown> = { state: t.state, error: t.error };
    if (t.state === 'waiting') {
      patch.not_before = t.notBefore;
      patch.modem = null;
    } else {
      patch.finished_at = now;
    }
    if (t.state === 'sent') patch.sent_at = now;
    const rows = await this.knex('messages')
      .where({ id })
      .whereIn('state', from)
      .update(patch)
      .returning(['campaign_id', 'modem']);
    const row = rows[0];
    return row ? { campaignId: row.campaign_id, modem: row.modem } : null;
  }

  async stateOf(id: number): Promise<MessageState | null> {
    const row = await this.knex('messages').where({ id }).first('state');
    return row ? (row.state as MessageState) : null;
  }

  /** This instance's `sending` messages claimed before `cutoff`. */
  async overdue(cutoff: Date): Promise<Array<{ id: number; modem: string | null }>> {
    const rows = await this.knex('messages')
      .where({ state: 'sending', instance_id: this.instanceId })
      .andWhere('claimed_at', '<=', cutoff)
      .select('id', 'modem');
    return rows.map((r: { id: unknown; modem: string | null }) => ({ id: Number(r.id), modem: r.modem }));
  }

  /** Running campaigns with nothing left waiting or sending become `finished`. */
  async finishCampaigns(now: Date): Promise<number[]> {
    const rows = await this.knex('campaigns as c')
      .where('c.status', 'running')
      .whereNotExists((q) => q.from('messages as m').whereRaw('m.campaign_id = c.id').whereIn('m.state', ['waiting', 'sending']))
      .update({ status: 'finished', finished_at: now })
      .returning('id');
    return rows.map((r: { id: number }) => r.id);
  }
}
