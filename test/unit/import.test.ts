import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildImport, detectPhoneColumn } from '../../src/lists/import.js';
import { readSheet, SheetError, type SheetData } from '../../src/lists/sheet.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'lists');

describe('detectPhoneColumn', () => {
  const rows = [
    ['Анна', '84315', '8 912 345-67-89'],
    ['Борис', '84316', '79161234567'],
  ];

  const byHeader: Array<[string[], string]> = [
    [['Имя', 'Заказ', 'Телефон'], 'Телефон'],
    [['Имя', 'Заказ', 'Тел.'], 'Тел.'],
    [['Имя', 'Заказ', 'Моб. тел'], 'Моб. тел'],
    [['Имя', 'Заказ', 'Mobile phone'], 'Mobile phone'],
    [['Имя', 'Заказ', 'Сотовый'], 'Сотовый'],
  ];
  for (const [columns, expected] of byHeader) {
    it(`finds «${expected}» by its header`, () => assert.equal(detectPhoneColumn({ columns, rows }), expected));
  }

  it('does not take "Номер заказа" for a phone, but finds the phones by content', () => {
    assert.equal(detectPhoneColumn({ columns: ['Имя', 'Номер заказа', 'Контакт'], rows }), 'Контакт');
  });

  it('takes a "Номер" column whose values are phones', () => {
    assert.equal(detectPhoneColumn({ columns: ['Имя', 'Счёт', 'Номер'], rows }), 'Номер');
  });

  it('does not match Cyrillic words that merely contain "тел" or "моб"', () => {
    const sheet = { columns: ['Отель', 'Автомобиль', 'Куда'], rows: [['Анна', 'Лада', 'Сочи']] };
    assert.equal(detectPhoneColumn(sheet), null);
  });

  it('returns null when nothing looks like phones', () => {
    assert.equal(detectPhoneColumn({ columns: ['Имя', 'Город'], rows: [['Анна', 'Пермь']] }), null);
  });
});

describe('buildImport', () => {
  const sheet: SheetData = {
    columns: ['Телефон', 'Имя', 'Заказ'],
    rows: [
      ['8 (912) 345-67-89', 'Анна', '1'],
      ['8 (495) 123-45-67', 'Офис', '2'],
      ['уточнить', 'Борис', '3'],
      ['+7 912 345 67 89', 'Анна повтор', '4'],
      ['', 'Без номера', '5'],
      ['79161234567', 'Виктор', '6'],
    ],
    rowNumbers: [2, 3, 5, 6, 7, 9],
  };

  it('takes, rejects and merges rows with spreadsheet row numbers', () => {
    const result = buildImport(sheet, 'Телефон');
    assert.deepEqual(result.contacts, [
      { rowNumber: 2, phone: '+79123456789', fields: { Телефон: '8 (912) 345-67-89', Имя: 'Анна', Заказ: '1' } },
      { rowNumber: 9, phone: '+79161234567', fields: { Телефон: '79161234567', Имя: 'Виктор', Заказ: '6' } },
    ]);
    assert.deepEqual(
      result.rejected.map((r) => [r.row, r.value, r.code]),
      [
        [3, '8 (495) 123-45-67', 'landline'],
        [5, 'уточнить', 'invalid'],
        [7, '', 'empty'],
      ],
    );
    for (const r of result.rejected) assert.match(r.reason, /[А-Яа-я]{4,}/);
    assert.deepEqual(result.duplicates, [{ row: 6, phone: '+79123456789', firstRow: 2 }]);
  });

  it('numbers rows i + 2 when the sheet has no rowNumbers', () => {
    const result = buildImport({ columns: ['Телефон'], rows: [['x'], ['89123456789']] }, 'Телефон');
    assert.equal(result.rejected[0]?.row, 2);
    assert.equal(result.contacts[0]?.rowNumber, 3);
  });

  it('keeps a column named __proto__ as a plain field', () => {
    const result = buildImport({ columns: ['Телефон', '__proto__'], rows: [['89123456789', 'x']] }, 'Телефон');
    const fields = result.contacts[0]!.fields;
    assert.equal(Object.hasOwn(fields, '__proto__'), true);
    assert.equal(fields['__proto__'], 'x');
  });

  it('refuses a phone column the sheet does not have', () => {
    assert.throws(() => buildImport(sheet, 'Мобильный'), (e: unknown) => e instanceof SheetError && e.code === 'unknown-column' && /Мобильный/.test(e.message));
  });

  for (const file of ['clients.xlsx', 'clients-cp1251.csv']) {
    it(`imports the ${file} fixture: 5 taken, landline and junk rejected, 1 duplicate`, () => {
      const sample = readSheet(readFileSync(join(fixtures, file)), file);
      const column = detectPhoneColumn(sample);
      assert.equal(column, 'Телефон');
      const result = buildImport(sample, column);
      assert.deepEqual(
        result.contacts.map((c) => c.phone),
        ['+79123456789', '+79161234567', '+79031112233', '+79261234567', '+79257654321'],
      );
      assert.deepEqual(
        result.rejected.map((r) => r.code),
        ['landline', 'invalid'],
      );
      assert.equal(result.duplicates.length, 1);
      assert.equal(result.duplicates[0]?.firstRow, 2);
      assert.equal(result.contacts[0]?.fields['Имя'], 'Анна');
    });
  }

  // Speed lives in bench/import.ts; here only that no row of a large sheet goes missing.
  it('accounts for every one of 100k rows', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [`8 9${String(i).padStart(9, '0')}`, `Имя ${i}`]);
    const result = buildImport({ columns: ['Телефон', 'Имя'], rows }, 'Телефон');
    assert.equal(result.contacts.length + result.rejected.length + result.duplicates.length, 100_000);
  });
});
