import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseTemplate,
  renderTemplate,
  resolveField,
  TemplateError,
  templateFields,
  templateProblem,
  unknownFields,
} from '../../src/templates/render.js';

const seed = '{{Имя}}, компания АБВ сообщает, что Ваш заказ №{{Заказ}} выполнен, к оплате {{Сумма}} рублей.';

describe('parseTemplate', () => {
  it('splits text and fields, trimming names', () => {
    assert.deepEqual(parseTemplate('Здравствуйте, {{ Имя }}! Заказ {{Номер заказа}}.'), [
      { type: 'text', text: 'Здравствуйте, ' },
      { type: 'field', name: 'Имя', source: '{{ Имя }}' },
      { type: 'text', text: '! Заказ ' },
      { type: 'field', name: 'Номер заказа', source: '{{Номер заказа}}' },
      { type: 'text', text: '.' },
    ]);
  });

  it('keeps single braces as text', () => {
    assert.deepEqual(parseTemplate('a {b} c'), [{ type: 'text', text: 'a {b} c' }]);
  });

  it('normalises CRLF to LF', () => {
    assert.deepEqual(parseTemplate('a\r\nb\rc'), [{ type: 'text', text: 'a\nb\nc' }]);
  });

  const errors: Array<[string, string, RegExp]> = [
    ['{{Имя}, здравствуйте', 'unclosed', /«\{\{Имя\}»/],
    ['Привет, {{Имя', 'unclosed', /«\{\{Имя»/],
    ['{{Имя} и {{Заказ}}', 'unclosed', /«\{\{Имя\}»/],
    ['Привет, Имя}}!', 'stray-close', /Имя\}\}/],
    ['{Имя}}', 'stray-close', /\{Имя\}\}/],
    ['{{}}', 'empty', /пустое поле/],
    ['{{   }}', 'empty', /пустое поле/],
    ['{{{Имя}}}', 'brace-in-name', /лишняя фигурная скобка/],
    ['{{Имя}}}', 'brace-in-name', /лишняя фигурная скобка/],
    ['{{Имя\nФамилия}}', 'newline-in-name', /не закрыто/],
  ];
  for (const [template, code, message] of errors) {
    it(`reports ${code} in ${JSON.stringify(template)}`, () => {
      assert.throws(
        () => parseTemplate(template),
        (error: unknown) => error instanceof TemplateError && error.code === code && message.test(error.message),
      );
      assert.match(templateProblem(template) ?? '', message);
    });
  }

  it('templateProblem is null for a good template', () => {
    assert.equal(templateProblem(seed), null);
    assert.equal(templateProblem('Без полей'), null);
  });
});

describe('templateFields / unknownFields', () => {
  it('lists each field once, in order', () => {
    assert.deepEqual(templateFields('{{Имя}} {{Заказ}} {{ Имя }}'), ['Имя', 'Заказ']);
  });

  it('unknownFields names fields that match no column', () => {
    assert.deepEqual(unknownFields(seed, ['Телефон', 'Имя', 'Заказ']), ['Сумма']);
    assert.deepEqual(unknownFields(seed, ['Телефон', 'Имя', 'Заказ', 'Сумма']), []);
  });

  it('matches names leniently (case, ё, spaces) but not ambiguously', () => {
    assert.equal(resolveField('имя', ['Имя']), 'Имя');
    assert.equal(resolveField('Номер  заказа', ['Номер заказа']), 'Номер заказа');
    assert.equal(resolveField('Ещё', ['Еще']), 'Еще');
    assert.equal(resolveField('имя', ['Имя', 'ИМЯ']), undefined);
    assert.equal(resolveField('ИМЯ', ['Имя', 'ИМЯ']), 'ИМЯ');
    assert.deepEqual(unknownFields('{{имя}}', ['Имя']), []);
  });
});

describe('renderTemplate', () => {
  it('renders the seed example', () => {
    const result = renderTemplate(seed, { Телефон: '+79123456789', Имя: 'Анна', Заказ: '84315', Сумма: '1500' });
    assert.deepEqual(result, {
      text: 'Анна, компания АБВ сообщает, что Ваш заказ №84315 выполнен, к оплате 1500 рублей.',
      missing: [],
    });
  });

  it('reports absent and blank fields but still renders', () => {
    const result = renderTemplate(seed, { Имя: '  ', Заказ: '7' });
    assert.equal(result.text, '  , компания АБВ сообщает, что Ваш заказ №7 выполнен, к оплате  рублей.');
    assert.deepEqual(result.missing, ['Имя', 'Сумма']);
  });

  it('inserts values verbatim: no escaping, no template syntax inside values', () => {
    const result = renderTemplate('Привет, {{Имя}}!', { Имя: '<b>&"{{Заказ}}"</b>\nвторая строка' });
    assert.equal(result.text, 'Привет, <b>&"{{Заказ}}"</b>\nвторая строка!');
  });

  it('works with Cyrillic names with spaces and a lenient match', () => {
    assert.equal(renderTemplate('{{ номер заказа }}', { 'Номер заказа': '42' }).text, '42');
  });

  it('a column named __proto__ is just a column', () => {
    const fields = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    assert.deepEqual(renderTemplate('{{__proto__}}', fields), { text: 'x', missing: [] });
    assert.deepEqual(renderTemplate('{{constructor}}', {}), { text: '', missing: ['constructor'] });
  });

  it('throws TemplateError on a broken template', () => {
    assert.throws(() => renderTemplate('{{Имя}', { Имя: 'А' }), TemplateError);
  });
});

describe('defaults: {{Имя|клиент}}', () => {
  it('parses the default after the first |, trimmed; the name stays the field', () => {
    assert.deepEqual(parseTemplate('{{ Имя | дорогой клиент }}!'), [
      { type: 'field', name: 'Имя', source: '{{ Имя | дорогой клиент }}', fallback: 'дорогой клиент' },
      { type: 'text', text: '!' },
    ]);
    assert.deepEqual(templateFields('{{Имя|клиент}} {{Имя}}'), ['Имя']);
    assert.ok(templateProblem('{{|клиент}}'));
  });

  it('uses the default only when the cell is empty, and then the field is not missing', () => {
    assert.deepEqual(renderTemplate('{{Имя|клиент}}, привет', { Имя: 'Анна' }), { text: 'Анна, привет', missing: [] });
    assert.deepEqual(renderTemplate('{{Имя|клиент}}, привет', { Имя: '  ' }), { text: 'клиент, привет', missing: [] });
    assert.deepEqual(renderTemplate('{{Имя|клиент}}, привет', {}), { text: 'клиент, привет', missing: [] });
    assert.deepEqual(renderTemplate('Долг {{Сумма долга|}} руб.', { 'Сумма долга': '' }), { text: 'Долг  руб.', missing: [] });
    assert.deepEqual(renderTemplate('{{Имя}} {{Город|Москва}}', { Имя: '', Город: '' }), { text: ' Москва', missing: ['Имя'] });
  });

  it('matches columns by name whatever the case and spacing', () => {
    assert.deepEqual(renderTemplate('{{ имя }}: {{Сумма  долга}}', { Имя: 'Иван', 'Сумма долга': '500' }), { text: 'Иван: 500', missing: [] });
    assert.deepEqual(unknownFields('{{ИМЯ|x}} {{сумма   ДОЛГА}}', ['Имя', 'Сумма долга']), []);
  });
});
