import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCyrillic, transliterate } from '../../src/templates/translit.js';
import { countSegments, isGsm7Basic } from '../../src/templates/segments.js';

const alphabet = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюя';

describe('transliterate', () => {
  it('renders the issue example readably', () => {
    assert.equal(transliterate('Иван, ваш заказ готов'), 'Ivan, vash zakaz gotov');
  });

  it('follows the documented table letter by letter', () => {
    assert.equal(transliterate(alphabet), 'abvgdeyozhziyklmnoprstufhtschshschyeyuya');
    assert.equal(transliterate('ёлка, йогурт, щука, подъезд, соль'), 'yolka, yogurt, schuka, podezd, sol');
  });

  it('keeps capitals: first letter of a word, and whole words in capitals', () => {
    assert.equal(transliterate('Щука Ёж Юля Я'), 'Schuka Yozh Yulya Ya');
    assert.equal(transliterate('ЩИ ООО «ЖКХ»'), 'SCHI OOO "ZHKH"');
    assert.equal(transliterate('Подъезд ЪЬ'), 'Podezd ');
  });

  it('makes typography plain, leaves Latin, digits and unknown characters alone', () => {
    assert.equal(transliterate('Заказ №5 — «готов»… 1 000\u00a0₽'), 'Zakaz N5 - "gotov"... 1 000 ₽');
    assert.equal(transliterate('Order #12: ok!'), 'Order #12: ok!');
  });

  it('every output character of Cyrillic text and common typography is GSM-7 basic', () => {
    const input = `${alphabet}${alphabet.toUpperCase()} іїєґў ІЇЄҐЎ «»„“”‘’–—…№\u00a0 0123456789 .,!?:;()"'-+%`;
    const out = transliterate(input);
    const bad = [...out].filter((ch) => !isGsm7Basic(ch));
    assert.deepEqual(bad, []);
    assert.equal(countSegments(out).encoding, 'gsm7');
    assert.equal(hasCyrillic(out), false);
  });

  it('at least halves the parts of a Cyrillic text (chan_dongle counting)', () => {
    const text = 'Здравствуйте, Иван Петрович! Ваш заказ №84316 готов к выдаче. Ждём вас в пункте выдачи по адресу ул. Ленина, 5 с 10 до 20 часов.';
    const cyrillic = countSegments(text);
    const latin = countSegments(transliterate(text));
    assert.equal(cyrillic.encoding, 'ucs2');
    assert.equal(latin.encoding, 'gsm7');
    assert.equal(cyrillic.parts, 2);
    assert.equal(latin.parts, 1);
  });
});
