import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisePhone, phoneRejectionText, type PhoneRejection } from '../../src/lists/phone.js';

describe('normalisePhone', () => {
  const accepted: Array<[unknown, string]> = [
    ['8 (912) 345-67-89', '+79123456789'],
    ['+7 912 345 67 89', '+79123456789'],
    ['+7(912)345-67-89', '+79123456789'],
    ['79123456789', '+79123456789'],
    ['89123456789', '+79123456789'],
    ['9123456789', '+79123456789'],
    ['912.345.67.89', '+79123456789'],
    ['  8-912-345-67-89 ', '+79123456789'],
    ['8\u00a0912\u00a0345\u00a067\u00a089', '+79123456789'],
    ['+7 (912) 345–67–89', '+79123456789'], // en dashes from Word
    [79123456789, '+79123456789'], // Excel number
    [89123456789, '+79123456789'],
    [9123456789, '+79123456789'],
    ['79123456789.0', '+79123456789'], // a number written out as text by an export
    ['8.9123456789E10', '+79123456789'], // scientific text that still has every digit
    ['7,9123456789E+10', '+79123456789'],
  ];
  for (const [input, phone] of accepted) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      assert.deepEqual(normalisePhone(input), { ok: true, phone });
    });
  }

  const rejected: Array<[unknown, PhoneRejection]> = [
    ['', 'empty'],
    ['   ', 'empty'],
    [null, 'empty'],
    [undefined, 'empty'],
    ['нет телефона', 'invalid'],
    ['2255775', 'invalid'],
    ['+7 912 345 67 8', 'invalid'], // a digit short
    ['8912345678912', 'invalid'], // too long
    [9123456789.5, 'invalid'],
    [{}, 'invalid'],
    ['7,91235E+11', 'truncated'], // Excel General format: digits lost
    ['8.91235E+10', 'truncated'],
    ['8(845)-2-255-775', 'landline'],
    ['+7 (495) 123-45-67', 'landline'],
    ['912 345 67 89 доб. 12', 'landline'],
    ['8 800 555-35-35', 'not-mobile'],
    ['+7 701 234 5678', 'foreign'], // Kazakhstan shares +7
    ['87012345678', 'foreign'],
    ['+380501234567', 'foreign'],
    ['+44 7911 123456', 'foreign'],
    ['+7 912 345-67-89, 8 913 111-22-33', 'several'],
  ];
  for (const [input, reason] of rejected) {
    it(`rejects ${JSON.stringify(input)} as ${reason}`, () => {
      assert.deepEqual(normalisePhone(input), { ok: false, reason });
    });
  }

  it('has a Russian explanation for every reason', () => {
    const reasons: PhoneRejection[] = ['empty', 'invalid', 'truncated', 'several', 'landline', 'not-mobile', 'foreign'];
    for (const reason of reasons) assert.match(phoneRejectionText(reason), /[А-Яа-я]{3,}/);
  });

  // Speed lives in bench/import.ts; here only that every one of a large batch is read right.
  it('normalises 100k written numbers, each to its own +7 form', () => {
    for (let i = 0; i < 100_000; i++) {
      const tail = `${String(i).padStart(3, '0').slice(-3)}${String(i % 100).padStart(2, '0')}89`;
      const result = normalisePhone(`8 (912) ${tail.slice(0, 3)}-${tail.slice(3, 5)}-89`);
      assert.ok(result.ok && result.phone === `+7912${tail}`, `row ${i}`);
    }
  });
});

it('refuses an over-long cell without feeding it to the parser (bounded work per cell)', () => {
  assert.deepEqual(normalisePhone('9'.repeat(100_000)), { ok: false, reason: 'invalid' });
  assert.deepEqual(normalisePhone(`8 912 345-67-89, ${'1 '.repeat(50_000)}`), { ok: false, reason: 'invalid' });
});
