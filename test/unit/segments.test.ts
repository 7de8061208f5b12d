import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countSegments, hasOverlongFirstPart, isGsm7, maxPartsProblem, messageLineBytes, MAX_PARTS_THAT_FIT, segmentProblem, type SegmentCount } from '../../src/templates/segments.js';

const a = (n: number) => 'a'.repeat(n);
const ya = (n: number) => 'Я'.repeat(n);
const emoji = '😀'; // one code point, two UTF-16 units

// Expected values follow chan_dongle's pdu_build_mult() (see segments.ts): GSM-7 parts hold ≤159
// septets when the text is ≤160, ≤152 when longer; UCS-2 parts hold 70, or 67 when concatenated.
const table: Array<[string, string, SegmentCount]> = [
  ['empty text builds no parts', '', { encoding: 'gsm7', length: 0, characters: 0, parts: 0, perPart: 159 }],
  ['one Latin character', 'a', { encoding: 'gsm7', length: 1, characters: 1, parts: 1, perPart: 159 }],
  ['one Cyrillic character', 'Я', { encoding: 'ucs2', length: 1, characters: 1, parts: 1, perPart: 70 }],
  ['70 Cyrillic: one SMS', ya(70), { encoding: 'ucs2', length: 70, characters: 70, parts: 1, perPart: 70 }],
  ['71 Cyrillic: two parts of 67', ya(71), { encoding: 'ucs2', length: 71, characters: 71, parts: 2, perPart: 67 }],
  ['67*2 Cyrillic: two parts', ya(134), { encoding: 'ucs2', length: 134, characters: 134, parts: 2, perPart: 67 }],
  ['67*2+1 Cyrillic: three parts', ya(135), { encoding: 'ucs2', length: 135, characters: 135, parts: 3, perPart: 67 }],
  ['469 Cyrillic: seven parts', ya(469), { encoding: 'ucs2', length: 469, characters: 469, parts: 7, perPart: 67 }],
  ['159 GSM-7: one SMS', a(159), { encoding: 'gsm7', length: 159, characters: 159, parts: 1, perPart: 159 }],
  // chan_dongle: split = 160 and a part takes septets while `septets + 1 < 160` → 159 + 1.
  ['160 GSM-7: two parts in chan_dongle', a(160), { encoding: 'gsm7', length: 160, characters: 160, parts: 2, perPart: 159 }],
  ['161 GSM-7: two parts', a(161), { encoding: 'gsm7', length: 161, characters: 161, parts: 2, perPart: 152 }],
  ['152*2 GSM-7: two parts', a(304), { encoding: 'gsm7', length: 304, characters: 304, parts: 2, perPart: 152 }],
  // Textbook says 2 parts of 153; chan_dongle fills 152 per part → 152 + 152 + 2.
  ['153*2 GSM-7: three parts in chan_dongle', a(306), { encoding: 'gsm7', length: 306, characters: 306, parts: 3, perPart: 152 }],
  ['€ costs two septets', '€', { encoding: 'gsm7', length: 2, characters: 1, parts: 1, perPart: 159 }],
  ['extension characters cost two', '[]{}^~\\|', { encoding: 'gsm7', length: 16, characters: 8, parts: 1, perPart: 159 }],
  ['157 + € = 159 septets: one SMS', a(157) + '€', { encoding: 'gsm7', length: 159, characters: 158, parts: 1, perPart: 159 }],
  ['158 + € = 160 septets: two parts', a(158) + '€', { encoding: 'gsm7', length: 160, characters: 159, parts: 2, perPart: 159 }],
  // Part 1 takes 151 septets; "[" would make 153, which is not < 153, so it opens part 2 (2+150),
  // and the last "a" needs a third part.
  ['extension character never straddles a part', a(151) + '[' + a(151), { encoding: 'gsm7', length: 304, characters: 303, parts: 3, perPart: 152 }],
  ['newline is GSM-7', 'a\nb', { encoding: 'gsm7', length: 3, characters: 3, parts: 1, perPart: 159 }],
  ['mixed Latin and Cyrillic goes UCS-2', 'Hello, Мир!', { encoding: 'ucs2', length: 11, characters: 11, parts: 1, perPart: 70 }],
  ['emoji: two units, one character', emoji, { encoding: 'ucs2', length: 2, characters: 1, parts: 1, perPart: 70 }],
  ['emoji ending exactly at 70 units', ya(68) + emoji, { encoding: 'ucs2', length: 70, characters: 69, parts: 1, perPart: 70 }],
  // 66 + emoji crosses the 67-unit cut: chan_dongle splits the surrogate pair; the count is by units.
  ['emoji at the 67 boundary', ya(66) + emoji + ya(5), { encoding: 'ucs2', length: 73, characters: 72, parts: 2, perPart: 67 }],
  ['ASCII + emoji goes UCS-2', a(69) + emoji, { encoding: 'ucs2', length: 71, characters: 70, parts: 2, perPart: 67 }],
  ['Ç is in chan_dongle GSM-7 table', 'Ç', { encoding: 'gsm7', length: 1, characters: 1, parts: 1, perPart: 159 }],
  ['ç is not (UCS-2)', 'ç', { encoding: 'ucs2', length: 1, characters: 1, parts: 1, perPart: 70 }],
  ['a tab forces UCS-2', 'a\tb', { encoding: 'ucs2', length: 3, characters: 3, parts: 1, perPart: 70 }],
  ['№ and « » force UCS-2', 'Order №5', { encoding: 'ucs2', length: 8, characters: 8, parts: 1, perPart: 70 }],
  ['Greek capitals are GSM-7', 'ΔΦΓΛΩΠΨΣΘΞ', { encoding: 'gsm7', length: 10, characters: 10, parts: 1, perPart: 159 }],
];

describe('countSegments (agrees with chan_dongle pdu_build_mult)', () => {
  for (const [name, text, expected] of table) {
    it(name, () => assert.deepEqual(countSegments(text), expected));
  }

  it('a realistic Russian campaign text', () => {
    const text = 'Анна, компания АБВ сообщает, что Ваш заказ №84315 выполнен, к оплате 1500 рублей.';
    const count = countSegments(text);
    assert.equal(count.encoding, 'ucs2');
    assert.equal(count.length, text.length);
    assert.equal(count.parts, 2);
  });
});

describe('helpers', () => {
  it('isGsm7', () => {
    assert.equal(isGsm7('Hello {name} €'), true);
    assert.equal(isGsm7('Привет'), false);
  });

  it('flags exactly 160 septets, which chan_dongle sends as an overlong first part', () => {
    assert.equal(hasOverlongFirstPart(countSegments(a(160))), true);
    assert.equal(hasOverlongFirstPart(countSegments(a(158) + '€')), true);
    assert.equal(hasOverlongFirstPart(countSegments(a(159))), false);
    assert.equal(hasOverlongFirstPart(countSegments(a(161))), false);
    assert.equal(hasOverlongFirstPart(countSegments(ya(160))), false);
  });

  it('maxPartsProblem and segmentProblem speak Russian', () => {
    assert.equal(maxPartsProblem(7, 7), null);
    assert.match(maxPartsProblem(8, 7) ?? '', /8 SMS.*7/);
    assert.match(segmentProblem(a(160), countSegments(a(160)), 7) ?? '', /160/);
    assert.equal(segmentProblem(a(100), countSegments(a(100)), 7), null);
  });

  it('a text longer than one AMI line can carry is flagged, counting escaped bytes (\\ and line breaks take 2)', () => {
    // 1000 Latin characters = 7 parts, within maxParts 7, but a 1009-byte Message line.
    const long = a(1000);
    assert.equal(countSegments(long).parts, 7);
    assert.match(segmentProblem(long, countSegments(long), 7) ?? '', /слишком длинный для передачи в Asterisk: 1009 байт/);
    assert.equal(messageLineBytes(a(991)), 1000);
    assert.equal(segmentProblem(a(991), countSegments(a(991)), 7), null);
    // Line breaks and backslashes are escaped to two bytes each.
    const broken = 'a\n'.repeat(330) + 'aa';
    assert.equal(messageLineBytes(broken), 'Message: '.length + 330 * 3 + 2); // 'a' + '\\n' per line
    assert.match(segmentProblem(broken, countSegments(broken), 7) ?? '', /Asterisk/);
    // 469 Cyrillic letters = 7 full parts = 947 bytes: the largest setting always fits.
    assert.equal(MAX_PARTS_THAT_FIT, 7);
    assert.equal(segmentProblem(ya(469), countSegments(ya(469)), MAX_PARTS_THAT_FIT), null);
  });
});
