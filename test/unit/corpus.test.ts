import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { prepareImport } from '../../src/lists/prepare-import.js';
import type { Expected } from '../fixtures/lists/make-fixtures.js';

// The corpus of issue #9: every file with the import result written down by hand in make-fixtures.ts.
const dir = join(import.meta.dirname, '..', 'fixtures', 'lists', 'corpus');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected[];

describe('the spreadsheet corpus imports as expected', () => {
  for (const e of expected) {
    it(`${e.file}${e.options ? ` ${JSON.stringify(e.options)}` : ''}: ${e.what}`, () => {
      const prepared = prepareImport(readFileSync(join(dir, e.file)), e.file, e.options ?? {});
      if (e.error) {
        const code = prepared.kind === 'bad-file' ? prepared.code : prepared.kind;
        assert.equal(code, e.error);
        if (prepared.kind === 'bad-file') assert.match(prepared.message, /[А-Яа-я]{4,}/, 'a Russian message');
        return;
      }
      assert.equal(prepared.kind, 'ok', JSON.stringify(prepared).slice(0, 500));
      if (prepared.kind !== 'ok') return;
      if (e.sheet !== undefined) assert.equal(prepared.sheet, e.sheet);
      if (e.sheets) assert.deepEqual(prepared.sheets, e.sheets);
      assert.equal(prepared.headerRow, e.headerRow);
      if (e.columns) assert.deepEqual(prepared.columns, e.columns);
      assert.equal(prepared.phoneColumn, e.phoneColumn);
      assert.deepEqual(prepared.result.contacts.map((c) => c.phone), e.phones);
      assert.deepEqual(prepared.result.rejected.map((r) => r.code), e.rejected);
      assert.equal(prepared.result.duplicates.length, e.duplicates);
      assert.deepEqual(prepared.result.notes.map((n) => [n.row, n.kind]), e.notes);
      for (const [field, value] of Object.entries(e.firstFields ?? {})) assert.equal(prepared.result.contacts[0]!.fields[field], value, field);
    });
  }

  it('covers every case the issue names', () => {
    const files = new Set(expected.map((e) => e.file));
    for (const f of ['1c-title-rows.xlsx', 'header-row-5.xlsx', 'two-sheets.xlsx', 'two-numbers-in-cell.xlsx', 'numbers-as-numbers.xlsx', 'cp1251-tabs.csv', 'clients.ods', 'clients.xls', 'clients.txt', 'empty-sheet.xlsx', 'zip-bomb.xlsx']) {
      assert.ok(files.has(f), f);
    }
  });
});
