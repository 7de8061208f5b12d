import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { Clock } from '../clock.js';
import type { ListsRepo } from '../lists/lists-repo.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { templateProblem, unknownFields } from '../templates/render.js';
import { allowedFrom, nextStatus, type CampaignAction, type CampaignKind } from './campaign.js';
import { applyExclusions, planMessage, summarise, type PlanSummary, type PlannedMessage, type RecipientStanding } from './campaign-plan.js';
import type { CampaignRecord, CampaignsRepo, ReportQuery, TestSendRecord } from './campaigns-repo.js';
import { requireMobile } from '../lists/phone.js';

/** Test sends go ahead of campaign traffic (0) and notifications (10); only opt-out confirmations (20), owed by law, go first. */
export const testSendPriority = 15;

/** Why a number gets nothing now (stop-list, erased), or null; service.ts gives the one notifications use. */
export type TestExclusion = (phone: string, now: Date) => Promise<string | null>;

export interface CampaignDraft {
  name: string;
  listId: number;
  template: string;
  kind: CampaignKind;
  createdBy: string | null;
  /** Service campaigns only: send outside the sending window too. */
  ignoreWindow?: boolean | undefined;
  /** Send only through these SIMs (IMSI); absent or empty: every SIM. */
  sims?: string[] | undefined | null;
}

/** What campaigns need from compliance (ComplianceRepo provides it). */
export interface CampaignCompliance {
  /** Each phone of the list: stop-listed, erased, consented now. */
  standing(listId: number, now: Date): Promise<Map<string, RecipientStanding>>;
  /** At Start/Resume: waiting messages the law now leaves out become `skipped`. */
  skipExcludedWaiting(db: Knex | Knex.Transaction, campaignId: number, advertising: boolean, now: Date): Promise<{ stopList: number; noConsent: number }>;
}

export interface Preview {
  summary: PlanSummary;
  /** The first rows of the list, rendered. */
  rows: PlannedMessage[];
}

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
  private readonly compliance: CampaignCompliance;

  constructor(deps: {
    repo: CampaignsRepo;
    lists: ListsRepo;
    settings: SettingsRepo;
    clock: Clock;
    /** IMSIs of the SIMs we know, to check a campaign's SIM choice. */
    knownSims?: () => Promise<string[]>;
    /** What the installed gateway cannot send; flagged in the preview, before Start. */
    gatewayProblem?: (text: string) => string | null;
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
  }

  /** Renders the template for the whole list; nothing is stored. */
  async preview(listId: number, template: string, rowsShown = 10, kind: CampaignKind = 'service'): Promise<Preview> {
    const { messages } = await this.plan(listId, template, kind);
    const { pricePerPart } = await this.settings.get();
    return { summary: summarise(messages, pricePerPart), rows: messages.slice(0, rowsShown) };
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
    const { messages } = await this.plan(draft.listId, draft.template, draft.kind);
    const summary = summarise(messages, settings.pricePerPart);
    const id = await this.repo.create(
      {
        name,
        listId: draft.listId,
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

  reportColumns(listId: number): Promise<string[]> {
    return this.repo.columnsOf(listId);
  }

  listSummary(listId: number) {
    return this.repo.listSummary(listId);
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

  private async plan(listId: number, template: string, kind: CampaignKind): Promise<{ messages: PlannedMessage[] }> {
    if (!Number.isInteger(listId) || listId < 1 || listId > 2_147_483_647) {
      throw new AppError('VALIDATION', ru.campaigns.chooseList, { field: 'listId' });
    }
    const list = await this.lists.get(listId);
    if (!list) throw new AppError('NOT_FOUND', ru.listsService.notFound, { field: 'listId' });
    const normalised = template.replace(/\r\n?/g, '\n');
    if (!normalised.trim()) throw new AppError('VALIDATION', ru.campaigns.templateRequired, { field: 'template' });
    const syntax = templateProblem(normalised);
    if (syntax) throw new AppError('VALIDATION', syntax, { field: 'template' });
    const unknown = unknownFields(normalised, list.columns);
    if (unknown.length) throw new AppError('VALIDATION', ru.campaigns.unknownFields(unknown, list.columns), { field: 'template' });
    const { maxParts } = await this.settings.get();
    const contacts = await this.lists.contacts(listId);
    const standing = await this.compliance.standing(listId, this.clock.now());
    const planned = contacts.map((c) => planMessage(normalised, c, maxParts, this.gatewayProblem));
    return { messages: applyExclusions(planned, kind, (phone) => standing.get(phone)) };
  }
}
