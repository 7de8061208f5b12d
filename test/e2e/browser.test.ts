import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser, shot } from '../helpers/browser.js';
import { startHarness, xlsxBuffer, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

before(async () => {
  h = await startHarness({ delayPerPartMs: 150 });
  browser = await launchBrowser();
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await h?.close();
});

test('log in, upload an .xlsx, write a template, preview, «Старт», watch every row reach «отправлено» without reloading', async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  const base = h.service.url;

  await page.goto(`${base}/campaigns`);
  assert.match(page.url(), /\/login/);
  await shot(page, '1-login');
  await page.getByLabel('Логин').fill('admin');
  await page.getByLabel('Пароль').fill('wrong-password');
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.getByText('Неверный логин или пароль.').waitFor();
  await page.getByLabel('Пароль').fill('correct-horse-1');
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL(/\/campaigns$/);

  // Upload a real .xlsx with Cyrillic headers, a number stored as a number, a landline and a duplicate.
  const dir = mkdtempSync(path.join(tmpdir(), 'simcast-upload-'));
  const file = path.join(dir, 'Клиенты.xlsx');
  writeFileSync(
    file,
    xlsxBuffer([
      ['Телефон', 'Имя', 'Заказ', 'Сумма'],
      ['8 (912) 345-67-89', 'Анна', '84315', '1460'],
      [79161234567, 'Сергей Михайлович', '84316', '990'],
      ['+7 903 111-22-33', 'Ольга', '84317', '2500'],
      ['8(845)-2-255-775', 'Саратов', '1', '1'],
      ['89123456789', 'Анна', '84315', '1460'],
    ]),
  );
  await page.goto(`${base}/lists`);
  await shot(page, '2-lists');
  await page.locator('input[type=file]').setInputFiles(file);
  await page.getByRole('button', { name: 'Загрузить' }).click();
  await page.waitForURL(/\/lists\/\d+$/);
  assert.equal(await page.getByTestId('imported').textContent(), '3');
  assert.equal(await page.getByTestId('rejected').textContent(), '1');
  assert.equal(await page.getByTestId('duplicates').textContent(), '1');
  await shot(page, '3-list-report');
  rmSync(dir, { recursive: true, force: true });

  await page.getByRole('link', { name: 'Создать рассылку по этому списку' }).click();
  await page.getByLabel('Название рассылки').fill('Заказы готовы');
  const template = page.locator('#template');
  await template.fill(', ваш заказ №{{Заказ}} готов, к оплате {{Сумма}} руб.');
  // Insert the first field with its button, at the start, as staff would.
  await template.evaluate((el) => (el as HTMLTextAreaElement).setSelectionRange(0, 0));
  await page.locator('button[data-field="Имя"]').click();
  assert.equal(await template.inputValue(), '{{Имя}}, ваш заказ №{{Заказ}} готов, к оплате {{Сумма}} руб.');
  await page.getByTestId('preview-button').click();
  await page.getByTestId('preview').waitFor();
  await page.getByText('Сергей Михайлович, ваш заказ №84316 готов, к оплате 990 руб.').waitFor();
  await shot(page, '4-new-campaign-preview');
  await page.getByTestId('create-button').click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await shot(page, '5-campaign-draft');

  await page.getByTestId('start-button').click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  // From here on the page must update by itself: count navigations to prove no reload happens.
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  await page.locator('#count-sent', { hasText: /^3$/ }).waitFor({ timeout: 20_000 });
  await page.locator('#campaign-status', { hasText: 'завершена' }).waitFor({ timeout: 10_000 });
  const states = await page.locator('#report-rows tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.state));
  assert.deepEqual(states, ['sent', 'sent', 'sent']);
  await page.getByText('Анна, ваш заказ №84315 готов, к оплате 1460 руб.').waitFor();
  assert.equal(navigations, 0, 'the report filled in without a reload');
  assert.equal(await page.getByTestId('start-button').isVisible(), false);
  await shot(page, '6-campaign-sent');

  await page.goto(`${base}/modems`);
  await page.getByTestId('sims').getByRole('cell', { name: '250990000000001' }).waitFor();
  await shot(page, '7-modems');
  await page.goto(`${base}/settings`);
  await shot(page, '8-settings');
});

test('the admin changes a SIM’s limits on the modems page; a campaign shows its forecast and why it waits', async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  const base = h.service.url;
  await page.goto(`${base}/modems`);
  const row = page.locator('tr[data-imsi="250990000000002"]');
  await row.getByLabel('Лимит в сутки').fill('7');
  await row.getByLabel('Пауза от').fill('30');
  await row.getByLabel('Пауза до').fill('10');
  await row.getByRole('button', { name: 'Сохранить' }).click();
  await page.getByText('Наибольшая пауза не может быть меньше наименьшей.').waitFor();
  await row.getByLabel('Лимит в сутки').fill('7');
  await row.getByLabel('Пауза до').fill('60');
  await row.getByLabel('Пауза от').fill('30');
  await row.getByRole('button', { name: 'Сохранить' }).click();
  await page.getByText('SIM-карта 250990000000002: сохранено.').waitFor();
  assert.equal(await row.getByLabel('Лимит в сутки').inputValue(), '7');
  assert.equal(await row.getByLabel('Пауза до').inputValue(), '60');

  // A window that is closed right now: the draft campaign says when it would start.
  const now = new Date();
  const hh = (h: number) => String(h).padStart(2, '0');
  const moscowHour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', hour: '2-digit', hourCycle: 'h23' }).format(now));
  await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ window: { from: `${hh((moscowHour + 2) % 24)}:00`, to: `${hh((moscowHour + 3) % 24)}:00` } }) });
  await page.goto(`${base}/campaigns/new`);
  await page.getByLabel('Название рассылки').fill('Вечерняя');
  await page.locator('#template').fill('{{Имя}}, ждём вас');
  await page.getByTestId('create-button').click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  assert.match((await page.getByTestId('forecast').textContent()) ?? '', /окончание|сегодня|завтра/, 'the draft shows when it would finish');
  await page.getByTestId('start-button').click();
  await page.locator('#waiting-text', { hasText: 'Ждёт начала окна отправки' }).waitFor({ timeout: 10_000 });
  assert.match((await page.getByTestId('forecast').textContent()) ?? '', /окончание|сегодня|завтра/);
  await shot(page, '9-campaign-waiting');
  await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ window: { from: '00:00', to: '00:00' } }) });
});
