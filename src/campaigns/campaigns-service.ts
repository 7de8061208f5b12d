import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { Clock } from '../clock.js';
import type { ListRecord, ListsRepo } from '../lists/lists-repo.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { templateProblem, unknownFields, unknownFieldsWithoutDefault } from '../templates/render.js';
import { allowedFrom, nextStatus, type CampaignAction, type CampaignKind } from './campaign.js';
import { previewMatcher, searchHaystack, unionOfColumns } from './recipients.js';
import { PlanCache } from './plan-cache.js';
import { applyExclusions, planMessage, summarise, type PlanContact, type PlanSummary, type PlannedMessage, type RecipientStanding } from './campaign-plan.js';
import type { CampaignRecord, CampaignsRepo, ReportQuery, TestSendRecord } from './campaigns-repo.js';
import { requireMobile } from '../lists/phone.js';

/** Test sends go ahead of campaign traffic (0) and notifications (10); only opt-out confirmations (20), owed by law, go first. */
export const testSendPriority = 15;

/** Why a number gets nothing now (stop-list, erased), or null; service.ts gives the one notifications use. */
export type TestExclusion = (phone: string, now: Date) => Promise<string | null>;

/**
 * Whom a campaign goes to: lists and/or every list with a tag. Order matters for a number in two of
 * them: it gets one SMS, with the fields of the first — `listId`, then `listIds` in order, then the
 * tagged lists by id.
 */
export interface CampaignTarget {
  listId?: number | undefined;
  listIds?: readonly number[] | undefined;
  tags?: readonly string[] | undefined;
}

export interface CampaignDraft extends CampaignTarget {
  name: string;
  template: string;
  /** Send Cyrillic in Latin letters (templates/translit.ts). */
  translit?: boolean | undefined;
  kind: CampaignKind;
  createdBy: string | null;
  /** Service campaigns only: send outside the sending window too. */
  ignoreWindow?: boolean | undefined;
  /** Send only through these SIMs (IMSI); absent or empty: every SIM. */
  sims?: string[] | undefined | null;
}

/** What campaigns need from compliance (ComplianceRepo provides it). */
export interface CampaignCompliance {
  /** Phones of the list: stop-listed, erased, consented now; a phone left out is none of these. */
  standing(listId: number, now: Date): Promise<Map<string, RecipientStanding>>;
  /**
   * Changes whenever `standing` could answer differently for an unchanged list (stop-list,
   * consents, erasures), and the time until which it holds. Absent: the preview is never cached.
   */
  stamp?(now: Date): Promise<{ key: string; validUntil: Date | null }>;
  /** At Start/Resume: waiting messages the law now leaves out become `skipped`. */
  skipExcludedWaiting(db: Knex | Knex.Transaction, campaignId: number, advertising: boolean, now: Date): Promise<{ stopList: number; noConsent: number }>;
}

export interface Preview {
  summary: PlanSummary;
  /** The first rows (or, with a search, the first rows that match), rendered exactly as they will go. */
  rows: Array<PlannedMessage & { fields: Record<string, string> }>;
  /** With a search: how many recipients match it. */
  matches: number | null;
  /** The lists the campaign would go to, in order. */
  lists: ListRecord[];
  /** Every column of those lists (the fields a template can use), first list's order first. */
  columns: string[];
  /** Numbers in more than one of the lists: they get one SMS (the first list's row). */
  duplicatesAcrossLists: number;
  /** Not errors, but worth a look (a field no list has, filled by its default everywhere). */
  warnings: string[];
}

export interface PreviewOptions {
  kind?: CampaignKind;
  translit?: boolean | undefined;
  /** Search: a number (any part of its digits) or any field value / text (case-insensitive). */
  q?: string | undefined;
  rowsShown?: number;
}

/** The contacts of a target (one SMS per number) and their standing, as read at one moment. */
interface TargetRead {
  contacts: PlanContact[];
  duplicatesAcrossLists: number;
  standing: Map<string, RecipientStanding>;
  /** A consent dated later than the read takes effect then: the standing holds until that moment. */
  validUntil: Date | null;
}

/** A rendered plan kept for the next preview of the same target and text. */
interface PlanEntry {
  contacts: PlanContact[];
  /** Rendered and checked, before the law's exclusions. */
  planned: PlannedMessage[];
  /** The standing `byKind` was computed with. */
  standing: Map<string, RecipientStanding>;
  byKind: Map<CampaignKind, KindPlan>;
  /** Folded text and fields per recipient (recipients.ts searchHaystack), built after the first preview or at the first search. */
  haystacks: Array<string | undefined>;
  /** The haystacks are being (or have been) built in the background. */
  searchReady?: boolean;
}

interface KindPlan {
  messages: PlannedMessage[];
  /** By price per part. */
  summaries: Map<number, PlanSummary>;
}

/** How long a preview is kept for the searches and corrections that follow it. */
const previewCacheMs = 60_000;

export class CampaignsService {
  /** Called after a change the dispatcher should see at once (a start or resume, a test send). */
  onChange: () => void = () => {};
  /** Stop-list and erasure for test sends; absent: nobody is stopped. */
  testExclusion: TestExclusion = async () => null;

  private readonly repo: CampaignsRepo;
  private readonly lists: ListsRepo;
  private readonly settings: SettingsRepo;
  private readonly clock: Clock;
  private readonly knownSims: () => Promise<string[]>;
  private readonly gatewayProblem: (text: string) => string | null;
  private readonly gatewayStamp: () => string;
  private readonly compliance: CampaignCompliance;
  /** One target's contacts and standing (two lists of 100 000 are ~100 MB in memory: one entry). */
  private readonly reads = new PlanCache<TargetRead>(1, previewCacheMs);
  /** Rendered plans: two, so switching «транслит» on and off, or back to the last text, is instant. */
  private readonly plans = new PlanCache<PlanEntry>(2, previewCacheMs);

  constructor(deps: {
    repo: CampaignsRepo;
    lists: ListsRepo;
    settings: SettingsRepo;
    clock: Clock;
    /** IMSIs of the SIMs we know, to check a campaign's SIM choice. */
    knownSims?: () => Promise<string[]>;
    /** What the installed gateway cannot send; flagged in the preview, before Start. */
    gatewayProblem?: (text: string) => string | null;
    /** What `gatewayProblem` depends on (the chan_dongle generation detected): a kept preview is redone when it changes. */
    gatewayStamp?: () => string;
    /** Stop-list and consent (compliance-repo.ts `campaignCompliance`). */
    compliance: CampaignCompliance;
  }) {
    this.compliance = deps.compliance;
    this.repo = deps.repo;
    this.lists = deps.lists;
    this.settings = deps.settings;
    this.clock = deps.clock;
    this.knownSims = deps.knownSims ?? (async () => []);
    this.gatewayProblem = deps.gatewayProblem ?? (() => null);
    this.gatewayStamp = deps.gatewayStamp ?? (() => '');
  }

  /**
   * Renders the template for every recipient; nothing is stored. The plan is kept a minute (keyed by
   * a fingerprint of the lists' contacts, the compliance stamp, the text and the options), so the
   * searches and corrections that follow the first preview neither read nor render everything again.
   */
  async preview(target: CampaignTarget, template: string, options: PreviewOptions = {}): Promise<Preview> {
    const rowsShown = options.rowsShown ?? 10;
    const { messages, contacts, lists, columns, duplicatesAcrossLists, warnings, entry, forKind } = await this.plan(target, template, options.kind ?? 'service', options.translit ?? false);
    const { pricePerPart } = await this.settings.get();
    let summary = forKind.summaries.get(pricePerPart);
    if (!summary) {
      summary = summarise(messages, pricePerPart);
      forKind.summaries.set(pricePerPart, summary);
    }
    const q = options.q?.trim().slice(0, 100) ?? '';
    const rows: Preview['rows'] = [];
    const matchesSearch = q ? previewMatcher(q) : null;
    const haystacks = entry.haystacks;
    let matches = 0;
    for (let i = 0; i < messages.length; i++) {
      if (matchesSearch && !matchesSearch(messages[i]!.phone, () => (haystacks[i] ??= searchHaystack(contacts[i]!, entry.planned[i]!.text)))) continue;
      matches++;
      if (rows.length < rowsShown) rows.push({ ...messages[i]!, fields: contacts[i]!.fields });
      else if (!q) break;
    }
    if (!q) this.prepareSearch(entry);
    return { summary, rows, matches: q ? matches : null, lists, columns, duplicatesAcrossLists, warnings };
  }

  /**
   * After a first preview staff usually search: the haystacks are built meanwhile, a slice at a
   * time between requests (setImmediate), so the first search is as quick as the next ones.
   */
  private prepareSearch(entry: PlanEntry): void {
    if (entry.searchReady) return;
    entry.searchReady = true;
    const { planned, contacts, haystacks } = entry;
    let i = 0;
    const slice = () => {
      // Dropped from the cache meanwhile: nobody will search it.
      if (!this.plans.holds(entry)) return;
      const end = Math.min(planned.length, i + 5_000);
      for (; i < end; i++) haystacks[i] ??= searchHaystack(contacts[i]!, planned[i]!.text);
      if (i < planned.length) setImmediate(slice);
    };
    setImmediate(slice);
  }

  /** Drops the kept previews (the bench measures a first preview; an erasure may call it too). */
  forgetPreviews(): void {
    this.reads.clear();
    this.plans.clear();
  }

  async create(draft: CampaignDraft): Promise<{ campaign: CampaignRecord; summary: PlanSummary }> {
    const name = draft.name.trim();
    if (!name) throw new AppError('VALIDATION', ru.campaigns.nameRequired, { field: 'name' });
    if (name.length > 200) throw new AppError('VALIDATION', ru.campaigns.nameTooLong, { field: 'name' });
    if (draft.ignoreWindow && draft.kind === 'advertising') {
      throw new AppError('VALIDATION', ru.campaigns.advertisingKeepsWindow, { field: 'ignoreWindow' });
    }
    const sims = draft.sims && draft.sims.length > 0 ? [...new Set(draft.sims)] : null;
    if (sims) {
      const known = new Set(await this.knownSims());
      const unknown = sims.filter((imsi) => !known.has(imsi));
      if (unknown.length) throw new AppError('VALIDATION', ru.campaigns.unknownSims(unknown), { field: 'sims' });
    }
    const settings = await this.settings.get();
    const translit = draft.translit ?? false;
    // The standing is read again now (a preview's may be up to a minute old); the rendering may be reused.
    const { messages, lists } = await this.plan(draft, draft.template, draft.kind, translit, true);
    const summary = summarise(messages, settings.pricePerPart);
    const id = await this.repo.create(
      {
        name,
        listId: lists[0]!.id,
        listIds: lists.map((l) => l.id),
        translit,
        translitSavedParts: translit ? (summary.translit?.savedParts ?? 0) : null,
        template: draft.template,
        kind: draft.kind,
        pricePerPart: settings.pricePerPart,
        maxParts: settings.maxParts,
        createdBy: draft.createdBy,
        ignoreWindow: draft.ignoreWindow ?? false,
        sims,
      },
      messages,
      this.clock.now(),
    );
    return { campaign: (await this.repo.get(id))!, summary };
  }

  async get(id: number): Promise<CampaignRecord> {
    const campaign = await this.repo.get(id);
    if (!campaign) throw new AppError('NOT_FOUND', ru.campaigns.notFound);
    return campaign;
  }

  all() {
    return this.repo.all();
  }

  counts(id: number) {
    return this.repo.counts(id);
  }

  messages(id: number, options: Parameters<CampaignsRepo['messages']>[1]) {
    return this.repo.messages(id, options);
  }

  /** A page of the report (fields included); the counts are the caller's, read once per request. */
  report(id: number, query: ReportQuery, counts: Awaited<ReturnType<CampaignsRepo['counts']>> | null) {
    return this.repo.report(id, query, counts);
  }

  reportAfter(id: number, afterId: number, limit: number, state?: Parameters<CampaignsRepo['reportAfter']>[3]) {
    return this.repo.reportAfter(id, afterId, limit, state);
  }

  /** The campaign's lists by id, name and columns, in the campaign's order; deleted ones left out. */
  async listSummaries(ids: readonly number[]): Promise<Array<{ id: number; name: string; columns: string[] }>> {
    const found = await Promise.all(ids.map((id) => this.repo.listSummary(id)));
    return found.filter((l) => l !== null);
  }

  /** The report's field columns: the union of the campaign's lists' columns (as the preview shows them). */
  async reportColumns(campaign: CampaignRecord): Promise<string[]> {
    return unionOfColumns(await this.listSummaries(campaign.listIds.length ? campaign.listIds : [campaign.listId]));
  }

  tests(id: number): Promise<TestSendRecord[]> {
    return this.repo.tests(id);
  }

  /** The repository, for the streamed export (report-export.ts reads it in batches). */
  get reportSource(): CampaignsRepo {
    return this.repo;
  }

  /**
   * «Отправить тест»: the rendered text of list row `row` (default: the first row that will be
   * sent) to a staff phone, ahead of the campaign's traffic. Stored as a message without a
   * campaign (counts, cost, progress and limits of the campaign never see it), tied to it by
   * `test_of_campaign`. A stop-listed or erased number gets it `skipped` with the reason.
   */
  async sendTest(id: number, request: { phone: unknown; row?: unknown }): Promise<{ id: number; state: 'waiting' | 'skipped'; phone: string; rowNumber: number | null; reason: string | null }> {
    const campaign = await this.get(id);
    const phone = requireMobile(request.phone);
    let row: number | undefined;
    if (request.row !== undefined && request.row !== null && request.row !== '') {
      row = typeof request.row === 'string' && /^\d{1,9}$/.test(request.row.trim()) ? Number(request.row.trim()) : (request.row as number);
      if (!Number.isInteger(row) || row < 1 || row > 2_147_483_647) throw new AppError('VALIDATION', ru.report.badRow, { field: 'row' });
    }
    const message = row === undefined
      ? await this.repo.firstSendable(campaign.id)
      : await this.repo.messageOfRow(campaign.id, row);
    if (!message) {
      if (row === undefined) throw new AppError('VALIDATION', ru.report.nothingToTest, { field: 'row' });
      throw new AppError('VALIDATION', ru.report.noSuchRow(row), { field: 'row' });
    }
    if (message.state === 'skipped') throw new AppError('VALIDATION', ru.report.rowNotSendable(message.rowNumber ?? 0, message.error ?? ''), { field: 'row' });
    const now = this.clock.now();
    const skip = await this.testExclusion(phone, now);
    const testId = await this.repo.insertTest({
      campaignId: campaign.id, phone, text: message.text, parts: message.parts, rowNumber: message.rowNumber, priority: testSendPriority, now, skip,
    });
    if (!skip) this.onChange();
    return { id: testId, state: skip ? 'skipped' : 'waiting', phone, rowNumber: message.rowNumber, reason: skip };
  }

  /** Start, pause, resume or cancel; a conflict (e.g. starting twice) is a clear error, not a no-op. */
  async act(id: number, action: CampaignAction): Promise<CampaignRecord> {
    const campaign = await this.get(id);
    const to = nextStatus(campaign.status, action);
    if (to === null) throw new AppError('CONFLICT', ru.campaigns.cannot(action, campaign.status));
    const now = this.clock.now();
    // Opt-outs and withdrawn consents since the campaign was made take effect before the first send,
    // in the same transaction as the start.
    const excludeNow = action === 'start' || action === 'resume'
      ? (trx: Knex.Transaction) => this.compliance.skipExcludedWaiting(trx, id, campaign.kind === 'advertising', now)
      : undefined;
    const ok = await this.repo.transition(id, allowedFrom(action), to, now, excludeNow);
    if (!ok) throw new AppError('CONFLICT', ru.campaigns.changedMeanwhile);
    this.onChange();
    return this.get(id);
  }

  /** The lists of a target, in the order their fields win; a clear error for what is not there. */
  async targetLists(target: CampaignTarget): Promise<ListRecord[]> {
    const ids: number[] = [];
    const add = (id: number) => {
      if (!ids.includes(id)) ids.push(id);
    };
    for (const id of [...(target.listId !== undefined ? [target.listId] : []), ...(target.listIds ?? [])]) {
      if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) {
        throw new AppError('VALIDATION', ru.campaigns.chooseList, { field: 'listId' });
      }
      add(id);
    }
    for (const tag of new Set((target.tags ?? []).map((t) => t.trim()).filter(Boolean))) {
      const tagged = await this.lists.idsWithTags([tag]);
      if (tagged.length === 0) throw new AppError('VALIDATION', ru.campaignTargets.noListsWithTag(tag), { field: 'tags' });
      tagged.forEach(add);
    }
    if (ids.length === 0) throw new AppError('VALIDATION', ru.campaigns.chooseList, { field: 'listId' });
    const lists: ListRecord[] = [];
    for (const id of ids) {
      const list = await this.lists.get(id);
      if (!list) throw new AppError('NOT_FOUND', ru.listsService.notFound, { field: 'listId' });
      lists.push(list);
    }
    return lists;
  }

  /**
   * Every recipient's message, rendered and checked. `freshStanding`: read the standing now, never
   * from the cache (creation); the contacts and their rendering may still come from it.
   */
  private async plan(target: CampaignTarget, template: string, kind: CampaignKind, translit = false, freshStanding = false) {
    const lists = await this.targetLists(target);
    const columns = unionOfColumns(lists);
    const normalised = template.replace(/\r\n?/g, '\n');
    if (!normalised.trim()) throw new AppError('VALIDATION', ru.campaigns.templateRequired, { field: 'template' });
    const syntax = templateProblem(normalised);
    if (syntax) throw new AppError('VALIDATION', syntax, { field: 'template' });
    const unknown = unknownFieldsWithoutDefault(normalised, columns);
    if (unknown.length) throw new AppError('VALIDATION', ru.campaigns.unknownFields(unknown, columns), { field: 'template' });
    // Allowed, but worth saying: likely a typo, or a saved text meant for other lists.
    const warnings = unknownFields(normalised, columns).map((f) => ru.campaignTargets.onlyDefault(f));
    const { maxParts } = await this.settings.get();
    const now = this.clock.now();

    // The lists' contacts fingerprint (any upload, erasure or edit changes it) and the compliance
    // stamp (stop-list, consents, erasures): a hit under this key is what a read would give now.
    const [contactsStamp, stamp] = await Promise.all([this.lists.contactsStamp(lists.map((l) => l.id)), this.compliance.stamp?.(now) ?? null]);
    const readKey = stamp ? `${contactsStamp}|${stamp.key}` : null;
    let read = readKey ? this.reads.get(readKey, now) : undefined;
    if (read?.validUntil && now >= read.validUntil) read = undefined;
    if (!read || freshStanding) {
      read = read
        ? { ...read, standing: await this.readStanding(lists, now), validUntil: stamp?.validUntil ?? null }
        : await this.readTarget(lists, now, stamp?.validUntil ?? null);
      if (readKey) this.reads.set(readKey, read, now);
    }
    const { contacts, standing, duplicatesAcrossLists } = read;

    // The list names and columns go in the key: a row's reason names its list.
    const planKey = readKey === null ? null : JSON.stringify([readKey, lists.map((l) => [l.name, l.columns]), normalised, translit, maxParts, this.gatewayStamp()]);
    let entry = planKey === null ? undefined : this.plans.get(planKey, now);
    if (!entry || entry.contacts !== contacts) {
      entry = { contacts, planned: this.render(lists, contacts, normalised, maxParts, translit), standing, byKind: new Map(), haystacks: [] };
      if (planKey !== null) this.plans.set(planKey, entry, now);
    }
    if (entry.standing !== standing) {
      // Read again at creation: what follows is decided on the new standing.
      entry.standing = standing;
      entry.byKind = new Map();
    }
    let forKind = entry.byKind.get(kind);
    if (!forKind) {
      forKind = { messages: applyExclusions(entry.planned, kind, (phone) => standing.get(phone)), summaries: new Map() };
      entry.byKind.set(kind, forKind);
    }
    return { messages: forKind.messages, contacts, lists, columns, duplicatesAcrossLists, warnings, entry, forKind };
  }

  /** The contacts of the lists (one per number, the first list's) and their standing, every list read side by side. */
  private async readTarget(lists: readonly ListRecord[], now: Date, validUntil: Date | null): Promise<TargetRead> {
    const [perList, standing] = await Promise.all([Promise.all(lists.map((l) => this.lists.contacts(l.id))), this.readStanding(lists, now)]);
    // One SMS per number: the first list that has it gives its fields.
    const seen = new Set<string>();
    const contacts: PlanContact[] = [];
    let duplicatesAcrossLists = 0;
    perList.forEach((listContacts, i) => {
      const listId = lists[i]!.id;
      for (const c of listContacts) {
        if (seen.has(c.phone)) {
          duplicatesAcrossLists++;
          continue;
        }
        seen.add(c.phone);
        contacts.push(lists.length > 1 ? { ...c, listId } : c);
      }
    });
    return { contacts, duplicatesAcrossLists, standing, validUntil };
  }

  /** Stop-list, erasure and consent of every number of the lists; a number in two lists: the first list's. */
  private async readStanding(lists: readonly ListRecord[], now: Date): Promise<Map<string, RecipientStanding>> {
    const perList = await Promise.all(lists.map((l) => this.compliance.standing(l.id, now)));
    if (perList.length === 1) return perList[0]!;
    const standing = new Map<string, RecipientStanding>();
    for (const facts of perList) for (const [phone, s] of facts) if (!standing.has(phone)) standing.set(phone, s);
    return standing;
  }

  /** Renders and checks every contact's message (before the law's exclusions). */
  private render(lists: readonly ListRecord[], contacts: readonly PlanContact[], normalised: string, maxParts: number, translit: boolean): PlannedMessage[] {
    // A field that one of the lists has no column for: say so, rather than "empty field", for its rows.
    const absent = new Map(lists.map((l) => [l.id, { name: l.name, fields: unknownFields(normalised, l.columns) }]));
    return contacts.map((c) => {
      const m = planMessage(normalised, c, maxParts, this.gatewayProblem, { translit });
      const list = c.listId === undefined ? undefined : absent.get(c.listId);
      const field = list?.fields.find((f) => m.missing.includes(f));
      if (field !== undefined && list) return { ...m, problem: ru.campaignTargets.missingColumn(field, list.name) };
      // Row numbers repeat across lists: the stored reason says which list the row is from.
      return list && m.problem ? { ...m, problem: ru.campaignTargets.inList(list.name, m.problem) } : m;
    });
  }
}

