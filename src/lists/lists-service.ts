import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { Clock } from '../clock.js';
import { ComplianceRepo } from '../compliance/compliance-repo.js';
import { readConsentColumn } from '../compliance/consent-import.js';
import { dropSuppressed, type SuppressedAmong } from './drop-suppressed.js';
import { prepareImportInWorker } from './prepare-import-in-worker.js';
import type { ListRecord, ListsRepo } from './lists-repo.js';

export interface ImportRequest {
  data: Buffer;
  fileName: string;
  name?: string | undefined;
  /** Column holding the phone numbers; detected when absent. */
  phoneColumn?: string | undefined;
  createdBy: string | null;
  /** A column saying whether (and when) each person consented to advertising, and where such consents come from. */
  consent?: { column: string; source: string } | undefined;
}

/** Names are for people to tell lists apart; a page of text is a mistake (or an attack on the pages). */
export const MAX_LIST_NAME = 200;

export class ListsService {
  constructor(
    private readonly repo: ListsRepo,
    private readonly clock: Clock,
    /** Numbers erased on request (152-FZ): an upload drops them. Absent: nothing is dropped. */
    private readonly suppressedAmong: SuppressedAmong = async () => new Set(),
  ) {}

  /**
   * Reads an uploaded file (in a worker thread), normalises its numbers and stores the list in one
   * transaction. Bad files are AppErrors with a Russian message; nothing is stored for them.
   */
  async importFile(request: ImportRequest): Promise<ListRecord> {
    // Checked before the file is read: a bad name should not cost a parse.
    if ((request.name?.trim().length ?? 0) > MAX_LIST_NAME) {
      throw new AppError('VALIDATION', ru.listsService.nameTooLong(MAX_LIST_NAME), { field: 'name' });
    }
    const prepared = await prepareImportInWorker(request.data, request.fileName, request.phoneColumn);
    if (prepared.kind === 'bad-file') throw new AppError('BAD_FILE', prepared.message);
    if (prepared.kind === 'no-phone-column') {
      throw new AppError('VALIDATION', ru.listsService.noPhoneColumn(prepared.columns), { columns: prepared.columns });
    }
    if (prepared.kind === 'unknown-phone-column') {
      throw new AppError('VALIDATION', ru.listsService.unknownPhoneColumn(prepared.column, prepared.columns), { columns: prepared.columns });
    }
    const { columns, phoneColumn } = prepared;
    const result = await dropSuppressed(prepared.result, this.suppressedAmong);
    const now = this.clock.now();
    const consents = request.consent ? this.readConsents(request.consent, columns, result.contacts, request.fileName, now) : [];
    const name = request.name?.trim() || request.fileName.replace(/\.[^.]+$/, '') || ru.listsService.defaultName;
    const id = await this.repo.create(
      {
        name: name.slice(0, MAX_LIST_NAME),
        fileName: request.fileName.slice(0, 255),
        columns,
        phoneColumn,
        duplicates: result.duplicates,
        rejected: result.rejected,
        suppressed: result.suppressed,
        createdBy: request.createdBy,
      },
      result.contacts,
      now,
      consents.length === 0 ? undefined : (trx) =>
        new ComplianceRepo(trx).addConsents(trx, consents.map((c) => ({ ...c, action: 'given' as const, recordedBy: request.createdBy ?? 'import' })), now),
    );
    return (await this.repo.get(id))!;
  }

  private readConsents(consent: { column: string; source: string }, columns: string[], contacts: Parameters<typeof readConsentColumn>[0], fileName: string, now: Date) {
    const column = consent.column.trim();
    if (!columns.includes(column)) throw new AppError('VALIDATION', ru.compliance.consentColumnUnknown(column, columns), { field: 'consentColumn', columns });
    const source = consent.source.trim();
    if (!source || source.length > 100) throw new AppError('VALIDATION', ru.compliance.consentColumnNeedsSource, { field: 'consentSource' });
    const { consents, errors } = readConsentColumn(contacts, column, source, fileName, now);
    if (errors.length > 0) throw new AppError('VALIDATION', ru.compliance.consentColumnErrors(errors.slice(0, 5), errors.length), { field: 'consentColumn', columns });
    return consents;
  }

  async get(id: number): Promise<ListRecord> {
    const list = await this.repo.get(id);
    if (!list) throw new AppError('NOT_FOUND', ru.listsService.notFound);
    return list;
  }

  all(): Promise<ListRecord[]> {
    return this.repo.all();
  }

  contacts(listId: number, limit: number, offset = 0) {
    return this.repo.contacts(listId, { limit, offset });
  }
}
