import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { previewSearch, unionOfColumns } from '../../src/campaigns/recipients.js';
import { planMessage, summarise } from '../../src/campaigns/campaign-plan.js';

const anna = { phone: '+79123456789', fields: { Телефон: '8 912 345-67-89', Имя: 'Анна Семёновна', Город: 'Кемер' } };

describe('previewSearch', () => {
  it('finds a number whatever prefix or separators staff type', () => {
    for (const q of ['+7 912 345-67-89', '89123456789', '912 345', '(912)345-67', '4567']) assert.equal(previewSearch(q)(anna, ''), true, q);
    assert.equal(previewSearch('8 903')(anna, ''), false);
  });

  it('finds any field or the text, ignoring case and ё/е', () => {
    assert.equal(previewSearch('семеновна')(anna, ''), true);
    assert.equal(previewSearch('КЕМЕР')(anna, ''), true);
    assert.equal(previewSearch('тур готов')(anna, 'Анна, ваш ТУР ГОТОВ'), true);
    assert.equal(previewSearch('анталья')(anna, 'Анна, ваш тур готов'), false);
    assert.equal(previewSearch('   ')(anna, 'x'), false);
  });
});

describe('unionOfColumns', () => {
  it('keeps each column once by its lenient name, the first list\'s spelling and order first', () => {
    assert.deepEqual(unionOfColumns([{ columns: ['Телефон', 'Имя'] }, { columns: ['ИМЯ', 'Отель', 'телефон'] }, { columns: ['Сумма  долга', 'Сумма долга'] }]), ['Телефон', 'Имя', 'Отель', 'Сумма  долга']);
  });
});

describe('plan with translit', () => {
  const contact = { id: 1, rowNumber: 2, phone: '+79123456789', fields: { Имя: 'Иван' } };
  const long = '{{Имя}}, здравствуйте! Ваш заказ готов к выдаче в пункте на ул. Ленина, 5. Ждём вас с 10 до 20 часов ежедневно.';

  it('sends the transliterated text, counts its parts, and keeps the parts it would take without', () => {
    const m = planMessage(long, contact, 7, () => null, { translit: true });
    assert.match(m.text, /^Ivan, zdravstvuyte! Vash zakaz gotov/);
    assert.equal(m.encoding, 'gsm7');
    assert.equal(m.parts, 1);
    assert.equal(m.partsWithoutTranslit, 2);
    const summary = summarise([m, { ...m, contactId: 2, phone: '+79120000000' }], 0.06);
    assert.deepEqual(summary.translit, { partsWithout: 4, costWithout: 0.24, savedParts: 2, savedCost: 0.12 });
    assert.equal(summarise([planMessage(long, contact, 7)], 0.06).translit, undefined);
  });

  it('a row with an empty field and no default is broken, with the field named; a default fixes it', () => {
    const broken = planMessage('{{Имя}}, привет', { ...contact, fields: { Имя: ' ' } }, 7);
    assert.deepEqual(broken.missing, ['Имя']);
    assert.match(broken.problem ?? '', /Пустое поле «Имя»/);
    assert.equal(planMessage('{{Имя|клиент}}, привет', { ...contact, fields: { Имя: ' ' } }, 7).problem, null);
  });
});
