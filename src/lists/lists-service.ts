import { AppError } from '../errors.js';
import { ru } from '../i18n/ru.js';
import type { Clock } from '../clock.js';
import { buildImport, detectPhoneColumn } from './import.js';
import { readSheet, SheetError } from './sheet.js';
import type { ListRecord, ListsRepo } from './lists-repo.js';

export interface ImportRequest {
  data: Buffer;
  fileName: string;
  name?: string | undefined;
  /** Column holding the phone numbers; detected when absent. */
  phoneColumn?: string | undefined;
  createdBy: string | null;
}

export class ListsService {
  constructor(
    private readonly repo: ListsRepo,
    private readonly clock: Clock,
  ) {}

  /**
   * Reads an uploaded file, normalises its numbers and stores the list in one transaction.
   * Bad files are AppErrors with a Russian message; nothing is stored for them.
   */
  async importFile(request: ImportRequest): Promise<ListRecord> {
    let sheet;
    try {
      sheet = readSheet(request.data, request.fileName);
    } catch (error) {
      if (error instanceof SheetError) throw new AppError('BAD_FILE', error.message);
      throw error;
    }
    const wanted = request.phoneColumn?.trim();
    const phoneColumn = wanted ? wanted : detectPhoneColumn(sheet);
    if (!phoneColumn) {
      throw new AppError('VALIDATION', ru.listsService.noPhoneColumn(sheet.columns), { columns: sheet.columns });
    }
    if (!sheet.columns.includes(phoneColumn)) {
      throw new AppError('VALIDATION', ru.listsService.unknownPhoneColumn(phoneColumn, sheet.columns), { columns: sheet.columns });
    }
    const result = buildImport(sheet, phoneColumn);
    const name = request.name?.trim() || request.fileName.replace(/\.[^.]+$/, '') || ru.listsService.defaultName;
    const id = await this.repo.create(
      {
        name: name.slice(0, 200),
        fileName: request.fileName.slice(0, 255),
        columns: sheet.columns,
        phoneColumn,
        duplicates: result.duplicates,
        rejected: result.rejected,
        createdBy: request.createdBy,
      },
      result.contacts,
      this.clock.now(),
    );
    return (await this.repo.get(id))!;
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
