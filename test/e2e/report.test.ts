import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as XLSX from 'xlsx';
import { launchBrowser, logIn, shot } from '../helpers/browser.js';
import { startHarness, uploadList, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

before(async () => {
  h = await startHarness({ delayPerPartMs: 100 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

test('campaign page: send a test, «Старт», the report updates by itself, search a field, export', async () => {
  const rows: unknown[][] = [['Телефон', 'Имя', 'Город']];
  for (let i = 0; i < 12; i++) rows.push([`8912${String(i).padStart(7, '0')}`, `Клиент${i}`, i % 2 ? 'Тюмень' : 'Москва']);
  const list = (await (await uploadList(h, rows)).json()) as { id: number };
  const created = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Акция', listId: list.id, template: '{{Имя}}, ждём вас в {{Город}}.', kind: 'service' }) });
  const { id } = (await created.json()) as { id: number };

  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await logIn(page, h.service.url, 'admin', 'correct-horse-1');
  await page.goto(`${h.service.url}/campaigns/${id}`);
  // A landline: refused with what to do, in the page's own words.
  await page.getByTestId('test-phone').fill('8 (3452) 22-33-44');
  await page.getByTestId('test-button').click();
  await page.getByText(/^Телефон сотрудника: /).waitFor();
  await page.getByTestId('test-phone').fill('8 900 111-22-33');
  await page.getByTestId('test-row').fill('3');
  await page.getByTestId('test-button').click();
  await page.getByText('Тестовое SMS поставлено в очередь').waitFor();
  // The test's state moves on the page without a reload.
  await page.locator('#test-rows td.state-delivered, #test-rows td.state-sent').first().waitFor({ timeout: 15_000 });
  assert.equal(h.simulator.sent.find((s) => s.number === '+79001112233')?.text, 'Клиент1, ждём вас в Тюмень.');
  assert.equal(await page.getByTestId('count-sent').textContent(), '0', 'the test is not a campaign message');

  await page.getByTestId('start-button').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=count-sent]')?.textContent === '12' || document.querySelectorAll('#report-rows td.state-delivered, #report-rows td.state-sent').length === 12, undefined, { timeout: 30_000 });
  await page.getByTestId('report-search').fill('тюмень');
  await page.waitForFunction(() => document.querySelectorAll('#report-rows tr').length === 6 && document.getElementById('page-info')?.textContent?.includes('всего 6'));
  const cities = await page.locator('#report-rows tr td:nth-child(5)').allTextContents();
  assert.deepEqual([...new Set(cities)], ['Тюмень'], 'the fields are columns of the report, and the search found by one');
  await shot(page, 'report-1-search');

  // The link the page offers, fetched with the page's own session.
  const href = await page.getByTestId('export-xlsx').getAttribute('href');
  const response = await page.request.get(`${h.service.url}${href}`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-disposition'] ?? '', /attachment/);
  const book = XLSX.read(await response.body(), { type: 'buffer' });
  const table = XLSX.utils.sheet_to_json<string[]>(book.Sheets[book.SheetNames[0]!]!, { header: 1, defval: '' });
  assert.equal(table.length, 13);
  assert.deepEqual(table[0]!.slice(0, 5), ['Строка', 'Номер', 'Телефон', 'Имя', 'Город']);
});
