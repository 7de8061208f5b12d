import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, shot } from '../helpers/browser.js';
import { startHarness, uploadList, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

before(async () => {
  h = await startHarness();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

test('new campaign page: two lists and a tag, fields follow the choice, a default, translit saving, preview search, a saved text', async () => {
  const upload = async (rows: unknown[][], name: string) => ((await (await uploadList(h, rows, name)).json()) as { id: number }).id;
  const turkey = await upload([['Телефон', 'Имя', 'Город'], ['+79120000001', 'Анна', 'Анталья'], ['+79120000002', '', 'Кемер']], 'Турция');
  const egypt = await upload([['Телефон', 'ИМЯ', 'Отель'], ['+79120000002', 'Борис', 'Хилтон'], ['+79120000003', 'Вера', 'Риксос']], 'Египет');
  const misc = await upload([['Телефон', 'Имя', 'Скидка'], ['+79120000004', 'Глеб', '10%']], 'Разное');
  await h.service.db.knex('lists').where({ id: misc }).update({ tags: ['Лето'] });
  await h.api('/templates', { method: 'POST', body: JSON.stringify({ name: 'Тур готов', text: '{{Имя|клиент}}, ваш тур готов! Ждём вас в офисе на ул. Ленина, 5 с 10 до 20 часов, возьмите паспорт.' }) });

  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const base = h.service.url;
  await logIn(page, base, 'admin', 'correct-horse-1');
  await page.goto(`${base}/campaigns/new?list=${turkey}`);
  const chips = () => page.locator('#field-chips button[data-field]').allTextContents();
  assert.deepEqual(await chips(), ['Телефон', 'Имя', 'Город']);
  // Ticking Египет (above Турция: its fields come first) and the tag «Лето» adds their columns, each once (ИМЯ is Имя).
  await page.locator(`input[name=listIds][value="${egypt}"]`).check();
  await page.locator('input[name=tags][data-tag="лето"]').check();
  assert.deepEqual(await chips(), ['Телефон', 'ИМЯ', 'Отель', 'Город', 'Скидка']);
  await page.locator(`input[name=listIds][value="${turkey}"]`).uncheck();
  assert.deepEqual(await chips(), ['Телефон', 'ИМЯ', 'Отель', 'Скидка']);
  await page.locator(`input[name=listIds][value="${turkey}"]`).check();
  await page.getByTestId('template-help').getByText('{{Имя|клиент}}').first().waitFor();

  // The saved text, then translit and the preview.
  await page.getByTestId('saved-template').selectOption({ label: 'Тур готов' });
  await page.getByTestId('load-template').click();
  assert.equal(await page.locator('#template').inputValue(), '{{Имя|клиент}}, ваш тур готов! Ждём вас в офисе на ул. Ленина, 5 с 10 до 20 часов, возьмите паспорт.');
  await page.getByLabel('Название рассылки').fill('Лето');
  await page.getByTestId('translit').check();
  await page.getByTestId('preview-button').click();
  await page.getByTestId('preview').waitFor();
  assert.match((await page.getByTestId('translit-saving').textContent()) ?? '', /Транслит экономит 4 части и 0,24/, '4 recipients, 2 parts each in Cyrillic, 1 in Latin');
  await page.getByTestId('duplicates-across-lists').waitFor();
  await page.getByTestId('preview-search').fill('анталья');
  await page.getByTestId('preview-search-button').click();
  await page.getByTestId('preview-matches').waitFor();
  await page.getByText('Anna, vash tur gotov! Zhdyom vas v ofise na ul. Lenina, 5 s 10 do 20 chasov, vozmite pasport.').waitFor();
  await shot(page, '10-campaign-targets-preview');

  // A field Египет has no column for: its rows are listed, with what to do, and will not be sent.
  const text = await page.locator('#template').inputValue();
  await page.locator('#template').fill('{{Имя}}, ваш тур в {{Город}} готов');
  await page.getByTestId('preview-search').fill('');
  await page.getByTestId('preview-button').click();
  const problems = page.getByTestId('preview-problems');
  await problems.waitFor();
  assert.match((await problems.textContent()) ?? '', /В списке «Египет» нет колонки «Город»: добавьте значение по умолчанию, например \{\{Город\|клиент\}\}/);
  await shot(page, '10b-campaign-targets-broken-rows');
  await page.locator('#template').fill(text);

  await page.getByTestId('create-button').click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await page.getByTestId('campaign-translit').waitFor();
  await page.getByText('Списки:').waitFor();
  await shot(page, '11-campaign-targets-draft');
});
