import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as XLSX from 'xlsx';
import { fileMayHold } from '../../src/lists/file-mentions.js';
import { normalisePhone, normalisePhoneCell } from '../../src/lists/phone.js';
import { detectSeparator, findDataStart, findHeaderRow, looksLikePhone } from '../../src/lists/sheet.js';

describe('findHeaderRow', () => {
  it('skips a 1C title and an empty row: the header is row 3', () => {
    const rows = [
      ['Выгрузка контрагентов на 01.12.2026', '', '', '', '', ''],
      [],
      ['№', 'ФИО', 'Имя', 'Телефон', 'Сумма долга', 'Дата визита'],
      ['1', 'Иванова Анна', 'Анна', '+7 (912) 345-67-89', '1500', '01.12.2026'],
      ['2', 'Петров Борис', 'Борис', '79161234567', '0', '02.12.2026'],
    ];
    assert.equal(findHeaderRow(rows), 2);
    assert.deepEqual(findDataStart(rows), { index: 3, column: 3 });
  });

  it('skips notes between the header and the data when they do not name the phone column', () => {
    const rows = [['Имя', 'Телефон'], ['(суммы в рублях)'], ['Анна', '89123456789'], ['Борис', '89161234567']];
    assert.equal(findHeaderRow(rows), 0);
  });

  it('passes over data rows whose phone is empty to the row naming the phone column', () => {
    const rows = [['Отчёт'], ['Имя', 'Город', 'Телефон'], ['Анна', 'Пермь', ''], ['Борис', 'Омск', '89161234567'], ['Вера', 'Тула', '89031112233']];
    assert.equal(findHeaderRow(rows), 1);
  });

  it('a single-column list under a title: the title is not the header', () => {
    assert.equal(findHeaderRow([['Клиенты на 01.12'], ['Телефон'], ['89123456789'], ['89161234567']]), 1);
  });

  it('no phones at all: the first non-empty row, as before; every row empty: -1', () => {
    assert.equal(findHeaderRow([[], ['Имя', 'Город'], ['Анна', 'Пермь']]), 1);
    assert.equal(findHeaderRow([[], ['', '']]), -1);
  });

  it('the first row is data: it stays the first row (readSheet then says there is no header)', () => {
    assert.equal(findHeaderRow([['89123456789', 'Анна'], ['89161234567', 'Борис']]), 0);
  });

  it('looksLikePhone: numbers, not dates, sums or words', () => {
    for (const yes of ['89123456789', '+7 (912) 345-67-89', 'моб. 8 912 345 67 89', '8(3452)22-33-44, +7 903 111 22 33']) assert.ok(looksLikePhone(yes), yes);
    for (const no of ['01.12.2026 10:30:15', '1500,50', 'Телефон', 'ООО «Ромашка» ИНН', '12345']) assert.ok(!looksLikePhone(no), no);
  });
});

describe('detectSeparator', () => {
  it('the separator that gives a steady width wins over a title line and decimal commas', () => {
    assert.equal(detectSeparator(['Выгрузка, 1С', '', 'ФИО\tТелефон\tСумма', 'Анна\t89123456789\t1500,5', 'Борис\t89161234567\t2,25']), '\t');
    assert.equal(detectSeparator(['Телефон;Сумма', '89123456789;1500,5', '89123456780;2,25']), ';');
    assert.equal(detectSeparator(['Телефон,Имя', '89123456789,Анна']), ',');
    assert.equal(detectSeparator(['Телефон']), ';');
  });
});

describe('normalisePhoneCell', () => {
  it('several numbers: the first mobile one, the others as written', () => {
    assert.deepEqual(normalisePhoneCell('+7 903 111 22 33, 8(3452)22-33-44'), { ok: true, phone: '+79031112233', others: ['8(3452)22-33-44'] });
    assert.deepEqual(normalisePhoneCell('8(3452)22-33-44; 8 912 000-11-22'), { ok: true, phone: '+79120001122', others: ['8(3452)22-33-44'] });
    assert.deepEqual(normalisePhoneCell('моб. 8 912 345 67 89'), { ok: true, phone: '+79123456789', others: [] });
  });

  it('no mobile number among them: the reason of the first', () => {
    assert.deepEqual(normalisePhoneCell('8(3452)22-33-44, 8(3452)22-33-45'), { ok: false, reason: 'landline' });
    assert.deepEqual(normalisePhoneCell('нет'), { ok: false, reason: 'invalid' });
    assert.deepEqual(normalisePhoneCell(''), { ok: false, reason: 'empty' });
  });

  it('the fast path for clean digits agrees with libphonenumber on every 9XX range', () => {
    let compared = 0;
    for (let p = 9000; p < 10000; p++) {
      for (const tail of ['000000', '123456', '999999', '050011', '300000']) {
        const national = `${p}${tail}`;
        for (const form of [`+7${national}`, `7${national}`, `8${national}`, national]) {
          const slow = normalisePhone(form);
          const fast = normalisePhoneCell(form);
          assert.equal(fast.ok, slow.ok, form);
          if (fast.ok && slow.ok) assert.equal(fast.phone, slow.phone, form);
          compared++;
        }
      }
    }
    assert.equal(compared, 20_000);
  });
});

describe('fileMayHold (erasure of stored list files)', () => {
  const xlsx = (rows: unknown[][], bookType: XLSX.BookType = 'xlsx') => {
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['Телефон', 'Доп. телефон'], ...rows]), 'Лист1');
    return XLSX.write(wb, { type: 'buffer', bookType, compression: true }) as Buffer;
  };

  it('finds the number in any cell of a workbook, written any way', () => {
    assert.ok(fileMayHold(xlsx([['89123456789', '8 (916) 777-00-01']]), '9167770001'));
    assert.ok(fileMayHold(xlsx([[79167770001, '']]), '9167770001'));
    assert.ok(!fileMayHold(xlsx([['89123456789', '']]), '9167770001'));
    assert.ok(fileMayHold(xlsx([['89123456789', '8 916 777 00 01']], 'ods'), '9167770001'));
    assert.ok(!fileMayHold(xlsx([['89123456789', '']], 'ods'), '9167770001'));
  });

  it('CSV text (UTF-8, cp1251, UTF-16) is searched; .xls cannot be, so it may hold anything', () => {
    assert.ok(fileMayHold(Buffer.from('Телефон\n+7 916 777-00-01\n'), '9167770001'));
    assert.ok(!fileMayHold(Buffer.from('Телефон\n+7 916 777-00-02\n'), '9167770001'));
    assert.ok(fileMayHold(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Телефон\t89167770001', 'utf16le')]), '9167770001'));
    assert.ok(fileMayHold(xlsx([['89123456789', '']], 'xls'), '9167770001'));
  });

  it('the committed corpus files', () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'lists', 'corpus');
    assert.ok(fileMayHold(readFileSync(join(dir, 'two-numbers-in-cell.xlsx')), '9031112233'));
    assert.ok(!fileMayHold(readFileSync(join(dir, 'two-numbers-in-cell.xlsx')), '9990001122'));
  });
});

describe('upload fields: tags and header row as staff type them', async () => {
  const { parseHeaderRow, parseTags } = await import('../../src/lists/lists-service.js');
  it('tags: comma-separated or an array, trimmed, repeated ones (any case, ё/е) kept once', () => {
    assert.deepEqual(parseTags(' Турция , египет,, ТУРЦИЯ , Ёлки,елки '), ['Турция', 'египет', 'Ёлки']);
    assert.deepEqual(parseTags(['VIP', ' vip ', 'Зима']), ['VIP', 'Зима']);
    assert.deepEqual(parseTags(''), []);
    assert.equal(parseTags(undefined), undefined);
    for (const bad of [['x'.repeat(51)], Array.from({ length: 21 }, (_, i) => `t${i}`), [1], 'a\u0007b']) assert.throws(() => parseTags(bad), /Метки/);
  });
  it('header row: a whole number from 1, "3" or 3; empty means "find it"', () => {
    assert.equal(parseHeaderRow('3'), 3);
    assert.equal(parseHeaderRow(5), 5);
    assert.equal(parseHeaderRow(''), undefined);
    for (const bad of ['0', '-1', '2.5', 'третья', 0, 1.5]) assert.throws(() => parseHeaderRow(bad), /headerRow/);
  });
});
