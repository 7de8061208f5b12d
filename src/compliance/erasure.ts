import { actorLabel, type Actor } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { MAX_PHONE_CELL_CHARS, normalisePhone, requireMobile } from '../lists/phone.js';
import type { Logger } from '../logger.js';
import { lockNumber, type Db } from './compliance-repo.js';
import { erasedPhone, type ErasureCounts, type ErasureRecord, type ErasureRepo } from './erasure-repo.js';
import type { PhoneKeys } from './phone-keys.js';

/** Stored on a message that was waiting when its recipient's data was erased. */
export const erasedSkipReason = 'данные удалены по запросу';

export interface ErasureResult {
  id: number;
  phone: string;
  requestedAt: Date;
  erasedAt: Date;
  counts: ErasureCounts;
}

/**
 * «Удалить персональные данные» (152-FZ art. 21): a person asks to be forgotten. In one
 * transaction the number's key goes into `suppressions` (so it is never messaged again, not even
 * from a later file), and every row that holds the number or what was sent to it gets markers
 * instead: list rows, upload reports, messages, the inbox, the consent register; the stop-list
 * entry is deleted (the key replaces it). States of messages stay, so reports still add up.
 *
 * Asking again for the same number is fine: it is a new request in the register (counts zero
 * when nothing was left), never an error.
 */
export class ErasureService {
  /** Called after an erasure that skipped waiting messages (the dispatcher may finish campaigns). */
  onChange: () => void = () => {};

  constructor(
    private readonly deps: {
      repo: ErasureRepo;
      audit: AuditLog;
      clock: Clock;
      phoneKeys: PhoneKeys;
      log: Logger;
    },
  ) {}

  async erase(actor: Actor, rawPhone: unknown): Promise<ErasureResult> {
    const { repo, audit, clock, phoneKeys, log } = this.deps;
    const phone = requireMobile(rawPhone);
    const lastDigits = phone.replace(/\D/g, '').slice(-10);
    const now = clock.now();
    const result = await repo.transaction(async (trx) => {
      await lockNumber(trx, phone); // no claim of this number until the erasure commits
      const key = await phoneKeys.keyOf(trx, phone);
      await repo.suppress(trx, key, now);
      const id = await repo.openRequest(trx, key, now, actorLabel(actor));
      await audit.record(trx, actor, now, 'erasure.requested', String(id), {});
      const marker = erasedPhone(id);
      const messages = await repo.eraseMessages(trx, phone, marker, erasedSkipReason, now);
      // Before the contacts: the files are found by the lists that hold the number.
      const listFiles = await repo.eraseListFiles(trx, phone, lastDigits);
      const counts: ErasureCounts = {
        listContacts: await repo.eraseContacts(trx, phone, marker, now),
        uploadReportRows: await repo.eraseUploadReports(trx, lastDigits, marker),
        messages: messages.messages,
        waitingSkipped: messages.waitingSkipped,
        inbound: await repo.eraseInbound(trx, phone, lastDigits, marker),
        mentions: 0,
        consents: await repo.eraseConsents(trx, phone, marker),
        stopList: await repo.deleteStopListEntry(trx, phone),
        listFiles,
      };
      await repo.eraseSimFailures(trx, lastDigits);
      const mentions = await repo.eraseMentions(trx, lastDigits);
      counts.mentions = mentions.fields + mentions.texts;
      await repo.closeRequest(trx, id, now, counts);
      await audit.record(trx, actor, now, 'erasure.done', String(id), { ...counts });
      return { id, phone, requestedAt: now, erasedAt: now, counts };
    });
    log.info({ event: 'erasure.done', erasureId: result.id, counts: result.counts }, 'personal data erased on request');
    if (result.counts.waitingSkipped > 0) this.onChange();
    return result;
  }

  /** The request register, newest first: when, by whom, how many rows — never the number. */
  register(limit = 200): Promise<ErasureRecord[]> {
    return this.deps.repo.list(limit);
  }

  /**
   * Which of these E.164 numbers were erased (their key is in `suppressions`). `db`: the caller's
   * transaction, when it holds one (an upload asks inside the one storing its contacts; PGlite has
   * a single connection).
   */
  async suppressedAmong(phones: Iterable<string>, db: Db = this.deps.repo.knex): Promise<Set<string>> {
    const { repo, phoneKeys } = this.deps;
    // Most offices never erase anyone: then an upload of 100 000 rows costs one query, not 100 000 HMACs.
    if (!(await repo.anySuppressed(db))) return new Set();
    const byKey = new Map<string, string>();
    for (const phone of phones) byKey.set(await phoneKeys.keyOf(db, phone), phone);
    const found = await repo.suppressedKeys([...byKey.keys()], db);
    return new Set([...found].map((key) => byKey.get(key)!));
  }
}

/** A number as staff type it → E.164 mobile, or a 422 naming the field (as the other compliance calls). */

/**
 * The mobile numbers inside a cell an upload rejected (e.g. «8 916 777-00-01, 8 916 777-00-02»,
 * two numbers in one cell): each part between commas, semicolons, slashes or line breaks that is
 * a number by itself.
 */
export function phonesInCell(value: string): string[] {
  if (value.length > MAX_PHONE_CELL_CHARS) return [];
  const phones: string[] = [];
  for (const part of value.split(/[,;/|\n]+/)) {
    const result = normalisePhone(part);
    if (result.ok) phones.push(result.phone);
  }
  return phones;
}
