import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_STOP_PHRASES,
  FILLER_WORDS,
  isOptOut,
  matchedStopPhrase,
  MAX_STOP_PHRASES,
  normaliseForMatching,
  stopPhrasesProblem,
} from '../../src/compliance/opt-out.js';

describe('normaliseForMatching', () => {
  const table: Array<[string, string, string[]]> = [
    ['lower-cases', 'СТОП', ['стоп']],
    ['ё is е', 'Ещё', ['еще']],
    ['Latin look-alikes become Cyrillic', 'CTOП', ['стоп']],
    ['upper-case H, B, M, K, T via lower-casing', 'HET BAM MK T', ['нет', 'вам', 'мк', 'т']],
    ['Latin STOP normalises like the phrase STOP', 'STOP', normaliseForMatching('stop')],
    ['digit look-alikes inside a word', 'CT0П 3a', ['стоп', 'за']],
    ['numbers stay numbers', 'в 10:30 или 03', ['в', '10', '30', 'или', '03']],
    ['punctuation, emoji and line breaks separate', 'стоп!!!🙏\r\nне—пишите…', ['стоп', 'не', 'пишите']],
    ['stress accent and decomposed й', 'сто\u0301п пожалуи\u0306ста', ['стоп', 'пожалуйста']],
    ['fullwidth letters', 'ＳＴＯＰ', normaliseForMatching('stop')],
    ['empty', '', []],
    ['emoji only', '😡👎', []],
  ];
  for (const [name, text, expected] of table) {
    it(name, () => assert.deepEqual(normaliseForMatching(text), expected));
  }

  it('reads at most 2000 characters', () => {
    assert.equal(normaliseForMatching('а '.repeat(5000)).length, 1000);
  });
});

describe('isOptOut with the default phrases', () => {
  // [reply, the phrase that fired]
  const optOut: Array<[string, string]> = [
    ['СТОП', 'СТОП'],
    ['стоп!!!', 'СТОП'],
    ['Stop', 'STOP'],
    ['STOP.', 'STOP'],
    ['CTOП', 'СТОП'], // Latin C, T, O
    ['CT0П', 'СТОП'], // and a zero
    ['Стоп\nспасибо', 'СТОП'],
    ['СТОП. Надоели уже', 'СТОП'],
    ['Отписаться', 'ОТПИСАТЬСЯ'],
    ['Пожалуйста, не присылайте мне больше смс', 'не присылайте'],
    ['не пишите мне', 'не пишите'],
    ['НЕ ПИШИТЕ', 'не пишите'],
    ['Хватит!', 'хватит'],
    ['хватит писать', 'хватит'],
    ['Нет', 'НЕТ'],
    ['нет, спасибо', 'НЕТ'],
    ['  стоп  ', 'СТОП'],
    ['ОТПИСКА от рассылки', 'ОТПИСКА'],
    ['stop sms', 'STOP'],
    ['стоп стоп стоп', 'СТОП'],
    ['нет! стоп', 'НЕТ'],
    ['Больше не пишите!', 'не пишите'],
    ['Спасибо! Стоп', 'СТОП'], // a sentence of filler words is skipped
    ['Добрый день. Не присылайте мне рассылку', 'не присылайте'],
    ['!!! стоп', 'СТОП'], // empty first sentence
    ['🙏\nстоп', 'СТОП'],
    ['Стоп 😡', 'СТОП'],
  ];
  for (const [text, phrase] of optOut) {
    it(`opts out: ${JSON.stringify(text)}`, () => {
      assert.equal(isOptOut(text, DEFAULT_STOP_PHRASES), true);
      assert.equal(matchedStopPhrase(text, DEFAULT_STOP_PHRASES), phrase);
    });
  }

  const notOptOut: Array<[string, string]> = [
    ['Спасибо, получил', 'thanks are not a stop phrase'],
    ['Спасибо!', 'filler words alone'],
    ['Нет проблем, приду', '«проблем», «приду» are not filler'],
    ['хватит ли места на парковке?', '«ли», «места» are not filler'],
    ['Приду в 10, не пишите после 9 вечера', 'the first sentence says more than a stop phrase'],
    ['Стоплинг', 'a word that starts with стоп is not стоп'],
    ['Я нет дома', 'нет inside a sentence'],
    ['Спасибо, получил. Стоп', 'only the first meaningful sentence counts'],
    ['С Т О П', 'letter-spaced words are not joined'],
    ['не', 'half of a two-word phrase'],
    ['пишите', 'the other half'],
    ['пишите не', 'words of a phrase in the wrong order'],
    ['Отпишите меня', '«отпишите» is not in the default list'],
    ['', 'empty text'],
    ['   \n  ', 'whitespace only'],
    ['😡👎', 'emoji only'],
    ['нетто', 'a longer word'],
    ['stopper', 'a longer Latin word'],
  ];
  for (const [text, why] of notOptOut) {
    it(`does not opt out: ${JSON.stringify(text)} (${why})`, () => {
      assert.equal(isOptOut(text, DEFAULT_STOP_PHRASES), false);
      assert.equal(matchedStopPhrase(text, DEFAULT_STOP_PHRASES), null);
    });
  }
});

describe('isOptOut with a configured list', () => {
  it('phrases are normalised like the text', () => {
    assert.equal(isOptOut('стоп', ['CTOП']), true);
    assert.equal(isOptOut('Отпишите меня', ['отпишите']), true);
    assert.equal(isOptOut('ОТПИШИТЕ МЕНЯ ОТ ВСЕХ РАССЫЛОК', [' Отпишите ']), true);
  });

  it('an empty list or phrases without letters never opt out', () => {
    assert.equal(isOptOut('стоп', []), false);
    assert.equal(isOptOut('!!!', ['!!!']), false);
  });

  it('returns the phrase as configured', () => {
    assert.equal(matchedStopPhrase('Stop', ['stop', 'СТОП']), 'stop');
  });

  it('stays fast on a long hostile text', () => {
    const text = 'не '.repeat(100_000) + 'пишите';
    const started = process.hrtime.bigint();
    assert.equal(isOptOut(text, DEFAULT_STOP_PHRASES), false);
    assert.ok(process.hrtime.bigint() - started < 200_000_000n, 'took more than 200 ms');
  });
});

describe('stopPhrasesProblem', () => {
  it('the default list is valid', () => assert.equal(stopPhrasesProblem([...DEFAULT_STOP_PHRASES]), null));

  const table: Array<[string, string[], RegExp]> = [
    ['empty list', [], /пуст/],
    ['too many phrases', Array.from({ length: MAX_STOP_PHRASES + 1 }, (_, i) => `стоп${i}`), /51.*50/],
    ['a phrase without letters', ['СТОП', '123'], /«123».*нет ни одной буквы/],
    ['a blank phrase', ['СТОП', '  '], /нет ни одной буквы/],
    ['a phrase longer than 50 characters', ['СТОП', 'а'.repeat(51)], /длиннее 50/],
    ['a filler word as a phrase', ['СТОП', 'Спасибо'], /«Спасибо».*вежливое/],
  ];
  for (const [name, phrases, expected] of table) {
    it(name, () => assert.match(stopPhrasesProblem(phrases) ?? '', expected));
  }

  it('50 phrases of 50 characters are fine', () => {
    const phrases = Array.from({ length: MAX_STOP_PHRASES }, (_, i) => `${'я'.repeat(48)}${String(i).padStart(2, '0')}`);
    assert.equal(stopPhrasesProblem(phrases), null);
  });

  it('filler words never opt out by themselves', () => {
    for (const word of FILLER_WORDS) assert.equal(isOptOut(word, DEFAULT_STOP_PHRASES), false, word);
  });
});
