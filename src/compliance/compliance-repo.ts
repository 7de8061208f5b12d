import type { Knex } from 'knex';
import type { ConsentAction, ConsentEvent } from './consent.js';

/** The caller's knex or its transaction: a service writes a stop-list entry, the skipped messages and the audit row in one. */
export type Db = Knex | Knex.Transaction;

export type StopListSource = 'reply' | 'manual' | 'import';

export interface StopListEntry {
  phone: string;
  reason: string | null;
  source: StopListSource;
  createdBy: string;
  createdAt: Date;
}

export interface InboundRecord {
  id: number;
  receivedAt: Date;
  device: string;
  imsi: string | null;
  from: string;
  text: string;
  optOut: boolean;
  stopPhrase: string | null;
  handledAt: Date | null;
  handledBy: string | null;
  /** The latest list row with this number, and the last campaign message that reached it. */
  contact: { listId: number; listName: string; fields: Record<string, string> } | null;
  lastCampaign: { id: number; name: string; sentAt: Date | null } | null;
}

export interface RecipientRecordFacts {
  stopListed: boolean;
  suppressed: boolean;
  consented: boolean;
}

/** The advisory lock key of a number (one namespace for every lock on numbers). */
export function numberLockKey(phone: string): string {
  return `number:${phone}`;
}

/** The same key in SQL, for a number held in a column (`numberLockSql('phone')`). */
export function numberLockSql(phoneExpr: string): string {
  return `hashtext('number:' || ${phoneExpr})`;
}

/**
 * An exclusive transaction lock on a number: taken by whatever makes it unsendable (an opt-out, an
 * erasure); the claim takes it shared and gives the message back when it cannot (dispatch-repo.ts).
 */
export async function lockNumber(trx: Knex.Transaction, phone: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [numberLockKey(phone)]);
}

/**
 * The latest consent entry dated at or before `now` decides (consent.ts `consentState`): the same
 * rule in SQL, for claims and bulk checks. `?` binds `now`; `phoneExpr` is the column to match.
 */
export function consentedSql(phoneExpr: string): string {
  return `coalesce((select c.action = 'given' from consents c
                     where c.phone = ${phoneExpr} and c.at <= ?
                     order by c.at desc, (c.action = 'withdrawn') desc, c.id desc limit 1), false)`;
}

/** SQL of the compliance tables. Every method takes `now` from the caller, never SQL now(). */
export class ComplianceRepo {
  constructor(readonly knex: Knex) {}

  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work);
  }

  // ------------------------------------------------------------------ stop-list

  /** Adds the number; false when it was already listed (the first entry and its reason stay). */
  async addToStopList(
    db: Db,
    entry: { phone: string; reason: string | null; source: StopListSource; inboundId?: number | null; createdBy: string; now: Date },
  ): Promise<boolean> {
    const rows = await db('stop_list')
      .insert({
        phone: entry.phone,
        reason: entry.reason,
        source: entry.source,
        inbound_id: entry.inboundId ?? null,
        created_by: entry.createdBy,
        created_at: entry.now,
      })
      .onConflict('phone')
      .ignore()
      .returning('phone');
    return rows.length > 0;
  }

  async removeFromStopList(db: Db, phone: string): Promise<boolean> {
    return (await db('stop_list').where({ phone }).delete()) > 0;
  }

  async stopListEntry(db: Db, phone: string): Promise<StopListEntry | null> {
    const row = await db('stop_list').where({ phone }).first();
    return row ? toStopListEntry(row) : null;
  }

  /** Newest first; `phone` filters by the digits it contains. */
  async stopList(filter: { phone?: string; limit?: number; offset?: number } = {}): Promise<{ total: number; items: StopListEntry[] }> {
    const q = this.knex('stop_list');
    if (filter.phone) q.where('phone', 'like', `%${filter.phone.replace(/\D/g, '')}%`);
    const [{ count }] = (await q.clone().count<{ count: number }[]>('* as count')) as [{ count: number }];
    const rows = await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'phone' }]).limit(filter.limit ?? 100).offset(filter.offset ?? 0);
    return { total: Number(count), items: rows.map(toStopListEntry) };
  }

  /**
   * Every waiting message to `phone` becomes `skipped` with `reason`, except the opt-out
   * confirmation. Rows a racing claim holds are waited for (not skipped over): once the claim
   * commits they are `sending` and no longer match, so each message ends in exactly one state.
   */
  async skipWaitingTo(db: Db, phone: string, reason: string, now: Date): Promise<Array<{ id: number; campaignId: number | null }>> {
    const rows: Array<{ id: number; campaign_id: number | null }> = await db('messages')
      .where({ phone, state: 'waiting', purpose: 'message' })
      .update({ state: 'skipped', error: reason, finished_at: now })
      .returning(['id', 'campaign_id']);
    return rows.map((r) => ({ id: Number(r.id), campaignId: r.campaign_id }));
  }

  /**
   * At Start and Resume: the campaign's waiting messages to stop-listed numbers — and, for an
   * advertising campaign, to numbers without consent now — become `skipped` with their reason.
   */
  async skipExcludedWaiting(
    db: Db,
    campaignId: number,
    advertising: boolean,
    reasons: { stopList: string; noConsent: string },
    now: Date,
  ): Promise<{ stopList: number; noConsent: number }> {
    const stopList = await db.raw(
      `update messages m set state = 'skipped', error = ?, finished_at = ?
        where m.campaign_id = ? and m.state = 'waiting' and m.purpose = 'message'
          and exists (select 1 from stop_list s where s.phone = m.phone)`,
      [reasons.stopList, now, campaignId],
    );
    let noConsent = 0;
    if (advertising) {
      const result = await db.raw(
        `update messages m set state = 'skipped', error = ?, finished_at = ?
          where m.campaign_id = ? and m.state = 'waiting' and m.purpose = 'message'
            and not ${consentedSql('m.phone')}`,
        [reasons.noConsent, now, campaignId, now],
      );
      noConsent = result.rowCount ?? result.affectedRows ?? 0;
    }
    return { stopList: stopList.rowCount ?? stopList.affectedRows ?? 0, noConsent };
  }

  /**
   * For each phone of a list's current version that compliance has something to say about (on the
   * stop-list, erased, or with a consent event): listed, erased, consented now. Any other number of
   * the list is not listed, not erased, not consented, which callers take as the default. The list is scanned once against the small
   * compliance tables: at 100 000 contacts a tenth of the time of asking per number.
   */
  async listStanding(db: Db, listId: number, now: Date): Promise<Map<string, { stopListed: boolean; erased: boolean; consented: boolean }>> {
    const result = await db.raw(
      `select lc.phone,
              exists (select 1 from stop_list s where s.phone = lc.phone) as stop_listed,
              lc.erased_at is not null as erased,
              ${consentedSql('lc.phone')} as consented
         from list_contacts lc
        where lc.list_id = ? and lc.version = (select l.version from lists l where l.id = lc.list_id)
          and (lc.erased_at is not null
               or lc.phone in (select phone from stop_list)
               or lc.phone in (select phone from consents))`,
      [now, listId],
    );
    const facts = new Map<string, { stopListed: boolean; erased: boolean; consented: boolean }>();
    for (const r of result.rows as Array<{ phone: string; stop_listed: boolean; erased: boolean; consented: boolean }>) {
      facts.set(r.phone, { stopListed: r.stop_listed, erased: r.erased, consented: r.consented });
    }
    return facts;
  }

  /**
   * A stamp of everything {@link listFacts} reads besides the list itself: it changes with any
   * stop-list entry added or removed, any consent event, any erasure. `validUntil`: the next
   * consent that takes effect later than `now` (then the standing changes without a new row).
   * Lets the preview keep a list's standing for a minute without ever showing a stale one.
   */
  async standingStamp(db: Db, now: Date): Promise<{ key: string; validUntil: Date | null }> {
    const result = await db.raw(
      `select (select count(*) from stop_list) as stop_count,
              (select max(created_at) from stop_list) as stop_last,
              (select max(id) from consents) as consent_last,
              (select min(at) from consents where at > ?) as consent_next,
              (select max(id) from erasures) as erasure_last,
              (select max(erased_at) from erasures) as erasure_done,
              (select count(*) from suppressions) as suppressions`,
      [now],
    );
    const r = result.rows[0] as { stop_count: string; stop_last: Date | null; consent_last: string | null; consent_next: Date | null; erasure_last: number | null; erasure_done: Date | null; suppressions: string };
    return {
      key: [r.stop_count, r.stop_last?.getTime() ?? '', r.consent_last ?? '', r.erasure_last ?? '', r.erasure_done?.getTime() ?? '', r.suppressions].join('/'),
      validUntil: r.consent_next ? new Date(r.consent_next) : null,
    };
  }

  /** What the claim needs to decide about one recipient (compliance/consent.ts decides). */
  async recipientFacts(db: Db, phone: string, phoneKey: string, now: Date): Promise<RecipientRecordFacts> {
    const result = await db.raw(
      `select exists (select 1 from stop_list where phone = ?) as stop_listed,
              exists (select 1 from suppressions where phone_key = ?) as suppressed,
              ${consentedSql('?')} as consented`,
      [phone, phoneKey, phone, now],
    );
    const row = result.rows[0] as { stop_listed: boolean; suppressed: boolean; consented: boolean };
    return { stopListed: row.stop_listed, suppressed: row.suppressed, consented: row.consented };
  }

  // ------------------------------------------------------------------ consents

  async addConsent(db: Db, phone: string, event: ConsentEvent, recordedAt: Date): Promise<void> {
    await this.addConsents(db, [{ phone, ...event }], recordedAt);
  }

  /** Many register lines at once (a consent column at upload), in chunks the driver accepts. */
  async addConsents(db: Db, events: ReadonlyArray<ConsentEvent & { phone: string }>, recordedAt: Date): Promise<void> {
    for (let i = 0; i < events.length; i += 1000) {
      await db('consents').insert(events.slice(i, i + 1000).map((e) => ({
        phone: e.phone,
        action: e.action,
        at: e.at,
        source: e.source,
        document: e.document,
        recorded_by: e.recordedBy,
        recorded_at: recordedAt,
      })));
    }
  }

  /** Oldest first, as the register reads. */
  async consentHistory(db: Db, phone: string): Promise<Array<ConsentEvent & { recordedAt: Date }>> {
    const rows: ConsentRow[] = await db('consents').where({ phone }).orderBy([{ column: 'at' }, { column: 'id' }]);
    return rows.map(toConsentEntry);
  }

  /** Latest entries of the register (newest first), for the page. */
  async recentConsents(limit = 100): Promise<Array<ConsentEvent & { phone: string; recordedAt: Date }>> {
    const rows: ConsentRow[] = await this.knex('consents').orderBy([{ column: 'recorded_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
    return rows.map((r) => ({ phone: r.phone, ...toConsentEntry(r) }));
  }

  // ------------------------------------------------------------------ suppressions

  async isSuppressed(db: Db, phoneKey: string): Promise<boolean> {
    return (await db('suppressions').where({ phone_key: phoneKey }).first('phone_key')) !== undefined;
  }

  // ------------------------------------------------------------------ inbound SMS

  /**
   * Stores an incoming SMS unless the same one (device, sender, text) is already stored from the
   * last `windowMs`: two AMI consumers of one Asterisk see every event, and a modem re-reading its
   * SIM re-delivers stored SMS. An advisory lock on the fingerprint serialises racing instances.
   */
  async insertInbound(
    db: Knex.Transaction,
    sms: { receivedAt: Date; instanceId: string; device: string; imsi: string | null; from: string; text: string; fingerprint: string },
    windowMs: number,
  ): Promise<{ id: number; duplicate: boolean }> {
    await db.raw(`select pg_advisory_xact_lock(hashtext(?))`, [sms.fingerprint]);
    const existing = await db('inbound_sms')
      .where({ fingerprint: sms.fingerprint })
      .andWhere('received_at', '>', new Date(sms.receivedAt.getTime() - windowMs))
      .first('id');
    if (existing) return { id: Number(existing.id), duplicate: true };
    const [row] = await db('inbound_sms')
      .insert({
        received_at: sms.receivedAt,
        instance_id: sms.instanceId,
        device: sms.device,
        imsi: sms.imsi,
        from_phone: sms.from,
        text: sms.text,
        fingerprint: sms.fingerprint,
      })
      .returning('id');
    return { id: Number(row.id), duplicate: false };
  }

  async markOptOut(db: Db, id: number, phrase: string): Promise<void> {
    await db('inbound_sms').where({ id }).update({ opt_out: true, stop_phrase: phrase });
  }

  /** The SIM now in `device` (chan_dongle events name the device, not the SIM). */
  async imsiOfDevice(db: Db, device: string): Promise<string | null> {
    const row = await db('sims').where({ device }).orderBy('last_seen_at', 'desc').first('imsi');
    return row?.imsi ?? null;
  }

  async inbox(filter: { unhandled?: boolean; optOut?: boolean; limit?: number; before?: number } = {}): Promise<InboundRecord[]> {
    const q = this.knex('inbound_sms as i').orderBy([{ column: 'i.received_at', order: 'desc' }, { column: 'i.id', order: 'desc' }]).limit(Math.min(filter.limit ?? 100, 500));
    if (filter.unhandled) q.whereNull('i.handled_at');
    if (filter.optOut) q.where('i.opt_out', true);
    if (filter.before) q.where('i.id', '<', filter.before);
    const rows = await q.select(
      'i.*',
      this.knex.raw(`(select json_build_object('listId', l.id, 'listName', l.name, 'fields', lc.fields)
                        from list_contacts lc join lists l on l.id = lc.list_id
                       where i.from_phone like '+%' and lc.phone = i.from_phone and lc.erased_at is null order by lc.id desc limit 1) as contact`),
      this.knex.raw(`(select json_build_object('id', c.id, 'name', c.name, 'sentAt', m.sent_at)
                        from messages m join campaigns c on c.id = m.campaign_id
                       where i.from_phone like '+%' and m.phone = i.from_phone and m.state in ('sent', 'delivered', 'unknown', 'sending')
                       order by m.claimed_at desc nulls last, m.id desc limit 1) as last_campaign`),
    );
    return rows.map(toInbound);
  }

  /** Incoming SMS nobody has marked handled (the partial index inbound_sms_unhandled answers it). */
  async unhandledCount(): Promise<number> {
    const [row] = (await this.knex('inbound_sms').whereNull('handled_at').count<{ count: number }[]>('* as count')) as [{ count: number }];
    return Number(row.count);
  }

  async inboundById(id: number): Promise<InboundRecord | null> {
    const row = await this.knex('inbound_sms as i').where('i.id', id).first('i.*', this.knex.raw('null as contact'), this.knex.raw('null as last_campaign'));
    return row ? toInbound(row) : null;
  }

  async setHandled(db: Db, id: number, handled: boolean, by: string, now: Date): Promise<boolean> {
    const n = await db('inbound_sms').where({ id }).update(handled ? { handled_at: now, handled_by: by } : { handled_at: null, handled_by: null });
    return n > 0;
  }
}

interface ConsentRow { phone: string; action: ConsentAction; at: Date; source: string; document: string | null; recorded_by: string; recorded_at: Date }

function toConsentEntry(r: ConsentRow): ConsentEvent & { recordedAt: Date } {
  return { action: r.action, at: new Date(r.at), source: r.source, document: r.document, recordedBy: r.recorded_by, recordedAt: new Date(r.recorded_at) };
}

function toStopListEntry(row: { phone: string; reason: string | null; source: StopListSource; created_by: string; created_at: Date }): StopListEntry {
  return { phone: row.phone, reason: row.reason, source: row.source, createdBy: row.created_by, createdAt: new Date(row.created_at) };
}

function toInbound(row: Record<string, unknown>): InboundRecord {
  const contact = parseJson(row.contact) as InboundRecord['contact'];
  const last = parseJson(row.last_campaign) as { id: number; name: string; sentAt: string | null } | null;
  return {
    id: Number(row.id),
    receivedAt: new Date(row.received_at as string),
    device: row.device as string,
    imsi: (row.imsi as string | null) ?? null,
    from: row.from_phone as string,
    text: row.text as string,
    optOut: row.opt_out as boolean,
    stopPhrase: (row.stop_phrase as string | null) ?? null,
    handledAt: row.handled_at ? new Date(row.handled_at as string) : null,
    handledBy: (row.handled_by as string | null) ?? null,
    contact,
    lastCampaign: last ? { id: last.id, name: last.name, sentAt: last.sentAt ? new Date(last.sentAt) : null } : null,
  };
}

/** pg parses json columns; PGlite may hand back text. */
function parseJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** What campaigns ask of compliance (campaigns-service.ts `CampaignCompliance`), on one knex. */
export function campaignCompliance(knex: Knex, reasons: { stopList: string; noConsent: string }) {
  const repo = new ComplianceRepo(knex);
  return {
    standing: (listId: number, now: Date) => repo.listStanding(knex, listId, now),
    stamp: (now: Date) => repo.standingStamp(knex, now),
    skipExcludedWaiting: (db: Db, campaignId: number, advertising: boolean, now: Date) => repo.skipExcludedWaiting(db, campaignId, advertising, reasons, now),
  };
}
