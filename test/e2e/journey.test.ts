import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, shot } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

// Issue #9's journey as office staff walk it, in one browser: the file the accounting program
// exported → the proposed sheet and header row → a text with a default → the preview searched for
// one person → a test SMS → «Старт» → the report moving by itself → the export.

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

before(async () => {
  h = await startHarness({ delayPerPartMs: 150 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

const workbook = path.join(import.meta.dirname, '..', 'fixtures', 'lists', 'corpus', 'two-sheets-title.xlsx');

test('from a two-sheet 1C export to an exported report, through the pages', async () => {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const base = h.service.url;
  await logIn(page, base, 'admin', 'correct-horse-1');

  // Upload: the clients sheet (the second) and the header under the title are proposed.
  await page.goto(`${base}/lists`);
  await page.locator('input[type=file]').setInputFiles(workbook);
  await page.getByLabel('Название списка').fill('Должники');
  await page.getByRole('button', { name: 'Загрузить' }).click();
  await page.waitForURL(/\/lists\/\d+$/);
  assert.match((await page.getByTestId('read-as').textContent()) ?? '', /лист «Клиенты» \(из 2\)/);
  assert.equal(await page.getByTestId('header-row').textContent(), '3');
  assert.equal(await page.getByTestId('imported').textContent(), '3');

  // Staff confirm by going on: a campaign from this list, a text with a default for the empty name.
  await page.getByRole('link', { name: 'Создать рассылку по этому списку' }).click();
  await page.waitForURL(/\/campaigns\/new/);
  await page.getByLabel('Название рассылки').fill('Долги декабрь');
  await page.locator('#template').fill('{{Имя|Уважаемый клиент}}, ваш долг {{Сумма долга}} руб. Оплатите до 10.12.');
  await page.getByTestId('preview-button').click();
  await page.getByTestId('preview').waitFor();
  // Петров Борис has no name in the file: the search finds him by his surname, with the default.
  await page.getByTestId('preview-search').fill('Петров');
  await page.getByTestId('preview-search-button').click();
  await page.getByTestId('preview-matches').waitFor();
  await page.getByTestId('preview').getByText('Уважаемый клиент, ваш долг 0 руб. Оплатите до 10.12.').waitFor();
  await shot(page, 'journey-1-preview-search');
  await page.getByTestId('preview-search').fill('');
  await page.getByTestId('create-button').click();
  await page.waitForURL(/\/campaigns\/\d+$/);

  // A test to a staff phone first: it arrives with Анна's text and is not a campaign message.
  await page.getByTestId('test-phone').fill('8 900 555-00-11');
  await page.getByTestId('test-button').click();
  await page.getByText('Тестовое SMS поставлено в очередь').waitFor();
  await page.locator('#test-rows td.state-delivered, #test-rows td.state-sent').first().waitFor({ timeout: 15_000 });
  assert.equal(h.simulator.sent.find((s) => s.number === '+79005550011')?.text, 'Анна, ваш долг 1500 руб. Оплатите до 10.12.');
  assert.equal(await page.getByTestId('count-sent').textContent(), '0');

  // «Старт»: the counters move without a reload until all three are through.
  await page.getByTestId('start-button').click();
  await page.waitForFunction(() => document.querySelectorAll('#report-rows td.state-delivered, #report-rows td.state-sent').length === 3, undefined, { timeout: 30_000 });
  await page.waitForTimeout(600); // the progress bar's 0.4 s transition, for the picture
  await shot(page, 'journey-2-report');
  const got = h.simulator.sent.filter((s) => s.number !== '+79005550011').map((s) => `${s.number} ${s.text}`).sort();
  assert.deepEqual(got, [
    '+79031112233 Анна, ваш долг 1500 руб. Оплатите до 10.12.',
    '+79123456789 Вера, ваш долг 250 руб. Оплатите до 10.12.',
    '+79161234567 Уважаемый клиент, ваш долг 0 руб. Оплатите до 10.12.',
  ]);

  // The export the page links to, as Russian Excel opens it: BOM, «;», one line per row.
  const href = await page.getByTestId('export-csv').getAttribute('href');
  const response = await page.request.get(`${base}${href}`);
  assert.equal(response.status(), 200);
  const csv = (await response.body()).toString('utf8');
  assert.ok(csv.startsWith('\uFEFF'), 'UTF-8 with BOM');
  const lines = csv.slice(1).trimEnd().split('\r\n');
  assert.equal(lines.length, 4, 'a header and three rows');
  assert.match(lines[0]!, /^Строка;Номер;/);
  assert.ok(lines.some((l) => l.includes('Уважаемый клиент, ваш долг 0 руб.')));
});
