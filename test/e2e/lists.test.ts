import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser, logIn, shot } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

before(async () => {
  h = await startHarness();
  browser = await launchBrowser();
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await h?.close();
});

const corpus = path.join(import.meta.dirname, '..', 'fixtures', 'lists', 'corpus');

test('upload a two-sheet workbook with a title row: the clients sheet and header row 3 are proposed; tags; another header row without a second upload', async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  const base = h.service.url;
  await logIn(page, base, 'admin', 'correct-horse-1');

  await page.goto(`${base}/lists`);
  await page.locator('input[type=file]').setInputFiles(path.join(corpus, 'two-sheets-title.xlsx'));
  await page.getByLabel('Название списка').fill('Должники');
  await page.getByTestId('upload-tags').fill('Турция, должники');
  await page.getByRole('button', { name: 'Загрузить' }).click();
  await page.waitForURL(/\/lists\/\d+$/);
  const listUrl = page.url();

  // The sheet with phones and the header under the title were taken, and the page says so.
  const readAs = (await page.getByTestId('read-as').textContent()) ?? '';
  assert.match(readAs, /лист «Клиенты» \(из 2\)/);
  assert.equal(await page.getByTestId('header-row').textContent(), '3');
  assert.match(readAs, /из колонки «Телефон»/);
  assert.equal(await page.getByTestId('imported').textContent(), '3');
  assert.equal(await page.getByTestId('rejected').textContent(), '1');
  // The cell with a mobile and an office number: the mobile taken, the office number noted.
  assert.match((await page.getByTestId('notes').textContent()) ?? '', /взят мобильный \+79031112233, не взяты 8\(3452\)22-33-44/);
  assert.match((await page.getByTestId('preview').textContent()) ?? '', /Иванова Анна Петровна/);
  assert.match((await page.getByTestId('list-tags').textContent()) ?? '', /Турция/);
  await shot(page, 'lists-1-two-sheets-report');

  // Staff pick another header row: the stored file is read again, no upload.
  await page.getByText('Не тот лист, не та строка с названиями').click();
  await shot(page, 'lists-2-reread-form');
  await page.getByLabel('Строка с названиями колонок').fill('2');
  await page.getByRole('button', { name: 'Прочитать заново' }).click();
  await page.getByTestId('reread-error').waitFor();
  assert.match((await page.getByTestId('reread-error').textContent()) ?? '', /Строка 2 пустая/);
  await page.getByLabel('Строка с названиями колонок').fill('3');
  await page.getByRole('button', { name: 'Прочитать заново' }).click();
  await page.waitForURL(listUrl);
  assert.equal(await page.getByTestId('header-row').textContent(), '3');
  assert.match((await page.getByTestId('read-as').textContent()) ?? '', /Версия 2/);

  // The lists page filters by tag.
  await page.goto(`${base}/lists`);
  await page.getByTestId('tag-filter').getByRole('link', { name: 'Турция' }).click();
  await page.waitForURL(/tag=/);
  assert.match((await page.getByTestId('lists').textContent()) ?? '', /Должники/);
  await shot(page, 'lists-3-index-by-tag');
});
