/**
 * The compliance pages in real Chromium: the inbox with an opt-out by reply, the stop-list, the
 * consent register, the admin-only journal, the rules page; a staff user sees no journal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, logIn as logInAt, shot } from '../helpers/browser.js';
import { hashPassword } from '../../src/auth/password.js';
import { UsersRepo } from '../../src/auth/users-repo.js';
import { campaignFinished, startHarness, uploadList, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

before(async () => {
  h = await startHarness({ delayPerPartMs: 20 });
  browser = await launchBrowser();
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await h?.close();
});

async function logIn(page: Page, login: string, password: string): Promise<void> {
  await logInAt(page, h.service.url, login, password);
}

/** Resolves when the service has stored `count` incoming SMS. */
async function inboxCount(count: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { items } = (await (await h.api('/inbox')).json()) as { items: unknown[] };
    if (items.length >= count) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`fewer than ${count} incoming SMS`);
}

test('inbox with an opt-out, stop-list, consents, journal and rules, as the admin', async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  const base = h.service.url;

  // A campaign reached +79161234567 first, so the inbox can show who wrote and after what.
  const list = (await (await uploadList(h, [['Телефон', 'Имя', 'Заказ'], ['+79161234567', 'Сергей Михайлович', '84316'], ['+79031112233', 'Ольга', '84317']], 'Клиенты — март')).json()) as { id: number };
  const campaign = (await (await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Заказы готовы', listId: list.id, template: '{{Имя}}, заказ №{{Заказ}} готов', kind: 'service' }) })).json()) as { id: number };
  await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' });
  await campaignFinished(h.service, campaign.id);

  h.simulator.injectIncomingSms('dongle0', '+79161234567', 'СТОП');
  h.simulator.injectIncomingSms('dongle1', '+79031112233', 'Спасибо, заберу завтра.\nМожно после 18:00?');
  await inboxCount(2);

  await logIn(page, 'admin', 'correct-horse-1');
  // The nav counts what nobody has handled yet.
  assert.equal((await page.locator('header .count-badge').textContent())?.trim(), '2');

  await page.getByRole('link', { name: /Входящие/ }).click();
  await page.waitForURL(/\/inbox$/);
  const rows = page.getByTestId('inbound');
  assert.equal(await rows.count(), 2);
  const optOut = rows.filter({ hasText: '+79161234567' });
  const ordinary = rows.filter({ hasText: '+79031112233' });
  assert.equal(await optOut.getByTestId('opt-out-badge').textContent(), 'отписка');
  assert.match((await optOut.textContent()) ?? '', /стоп-фраза «СТОП»/);
  assert.match((await optOut.textContent()) ?? '', /Клиенты — март/);
  assert.match((await optOut.textContent()) ?? '', /Сергей Михайлович/);
  await optOut.getByRole('link', { name: 'Заказы готовы' }).waitFor();
  assert.equal(await ordinary.getByTestId('opt-out-badge').count(), 0);
  // Multi-line text keeps its lines.
  assert.equal(await ordinary.locator('.sms-text').evaluate((el) => (el as HTMLElement).innerText), 'Спасибо, заберу завтра.\nМожно после 18:00?');
  await shot(page, '10-inbox');

  await page.getByTestId('filter-optout').click();
  await page.waitForURL(/show=optout/);
  assert.equal(await rows.count(), 1);
  assert.match((await rows.first().textContent()) ?? '', /\+79161234567/);
  await rows.first().getByRole('button', { name: 'Отметить обработанным' }).click();
  await page.waitForURL(/\/inbox\?show=optout$/);
  await page.getByText('Отмечено как обработанное.').waitFor();
  await rows.first().getByText('✓ обработано').waitFor();
  await page.getByTestId('filter-unhandled').click();
  await page.waitForURL(/show=unhandled/);
  assert.equal(await rows.count(), 1);
  assert.match((await rows.first().textContent()) ?? '', /\+79031112233/);
  assert.equal((await page.locator('header .count-badge').textContent())?.trim(), '1');

  // The stop-list: the reply put the number there.
  await page.getByRole('link', { name: 'Стоп-лист' }).click();
  await page.waitForURL(/\/stop-list$/);
  const listed = page.getByTestId('stop-list').locator('tr[data-phone="+79161234567"]');
  assert.equal(await listed.getByTestId('source').textContent(), 'ответ SMS');
  // A bad number: the service's Russian message, nothing stored.
  await page.getByLabel('Номер телефона').fill('8 (845) 2-255-775');
  await page.getByRole('button', { name: 'Добавить в стоп-лист' }).click();
  assert.match((await page.getByTestId('add-error').textContent()) ?? '', /^Номер: Это городской/);
  await page.getByLabel('Номер телефона').fill('8 912 345-67-89');
  await page.getByLabel('Причина', { exact: false }).first().fill('попросил по телефону');
  await page.getByRole('button', { name: 'Добавить в стоп-лист' }).click();
  await page.waitForURL(/\/stop-list$/);
  await page.getByText('Номер добавлен в стоп-лист.').waitFor();
  const manual = page.getByTestId('stop-list').locator('tr[data-phone="+79123456789"]');
  assert.equal(await manual.getByTestId('source').textContent(), 'вручную');
  assert.match((await manual.textContent()) ?? '', /попросил по телефону/);
  assert.match((await manual.textContent()) ?? '', /admin/);
  await shot(page, '11-stop-list');
  await manual.getByText('Убрать', { exact: true }).click();
  await manual.getByLabel('Почему этому номеру снова можно писать?').fill('клиент попросил вернуть рассылку, заявление №3');
  await manual.getByRole('button', { name: 'Убрать из стоп-листа' }).click();
  await page.getByText('Номер убран из стоп-листа.').waitFor();
  assert.equal(await page.getByTestId('stop-list').locator('tr[data-phone="+79123456789"]').count(), 0);

  // Consents: record one, see the state and the history.
  await page.getByRole('link', { name: 'Согласия' }).click();
  await page.waitForURL(/\/consents$/);
  const form = page.locator('form[method=post][action="/consents"]');
  await form.getByLabel('Номер телефона').fill('+7 903 111-22-33');
  await form.getByLabel('Откуда согласие').selectOption('бумажная анкета');
  await form.getByLabel('Документ').fill('анкета №17');
  await form.getByRole('button', { name: 'Записать согласие' }).click();
  await page.waitForURL(/\/consents\?phone=/);
  await page.getByText('Согласие записано.').waitFor();
  const today = new Intl.DateTimeFormat('ru-RU', { timeZone: 'Europe/Moscow', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date());
  assert.equal((await page.getByTestId('consent-state').textContent())?.replace(/\s+/g, ' ').trim(), `+79031112233: есть согласие с ${today}`);
  const history = page.getByTestId('consent-history');
  assert.match((await history.textContent()) ?? '', /согласие дано.*бумажная анкета.*анкета №17.*admin/s);
  await page.getByTestId('recent-consents').getByText('анкета №17').waitFor();
  await shot(page, '12-consents');

  // The journal: the admin sees every change, in Russian.
  await page.getByRole('link', { name: 'Журнал' }).click();
  await page.waitForURL(/\/audit$/);
  const audit = page.getByTestId('audit');
  await audit.getByText('номер убран из стоп-листа').waitFor();
  await audit.getByText('согласие записано').waitFor();
  await audit.getByText('входящее обработано').waitFor();
  await page.locator('select[name=action]').selectOption('stop-list.add');
  await page.getByRole('button', { name: 'Показать' }).click();
  await page.waitForURL(/action=stop-list.add/);
  const actions = await audit.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.action));
  assert.ok(actions.length >= 2 && actions.every((a) => a === 'stop-list.add'), String(actions));
  assert.match((await audit.textContent()) ?? '', /источник: ответ SMS/);
  await page.goto(`${base}/audit`);
  await shot(page, '13-audit');

  await page.getByRole('link', { name: 'Закон' }).click();
  await page.waitForURL(/\/rules$/);
  await page.getByText('simcast — инструмент. За содержание рассылок, наличие согласий и соблюдение закона отвечает компания, которая отправляет SMS.').waitFor();
  await shot(page, '14-rules');

  await page.locator('form.logout button').click();
  await page.waitForURL(/\/login/);
});

test('a staff user works with the stop-list and consents but has no journal', async () => {
  await new UsersRepo(h.testDb.db.knex).upsert('olga', await hashPassword('staff-password-1'), 'staff');
  const page = context.pages()[0] ?? (await context.newPage());
  await context.clearCookies();
  await logIn(page, 'olga', 'staff-password-1');
  assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Журнал' }).count(), 0);
  await page.locator('header nav').getByRole('link', { name: 'Стоп-лист' }).waitFor();
  await page.locator('header nav').getByRole('link', { name: 'Согласия' }).waitFor();
  const res = await page.goto(`${h.service.url}/audit`);
  assert.equal(res?.status(), 403);
  await page.getByText('Это может делать только администратор.').waitFor();

  await page.goto(`${h.service.url}/stop-list`);
  await page.getByLabel('Номер телефона').fill('+79035550011');
  await page.getByRole('button', { name: 'Добавить в стоп-лист' }).click();
  await page.getByText('Номер добавлен в стоп-лист.').waitFor();
  assert.match((await page.getByTestId('stop-list').locator('tr[data-phone="+79035550011"]').textContent()) ?? '', /olga/);

  // A file of refusals: a bare column of numbers, one of them bad, one already listed.
  const dir = mkdtempSync(path.join(tmpdir(), 'simcast-stop-'));
  const file = path.join(dir, 'отказы.csv');
  writeFileSync(file, '+7 903 555-00-22\n8 (845) 2-255-775\n+79035550011\n');
  await page.locator('input[type=file]').setInputFiles(file);
  await page.getByRole('button', { name: 'Загрузить номера' }).click();
  const report = page.getByTestId('import-report');
  await report.waitFor();
  assert.match((await report.textContent())?.replace(/\s+/g, ' ') ?? '', /1 номер добавлен.*1 уже был в стоп-листе.*1 строка отклонена/);
  assert.match((await page.getByTestId('rejected-rows').textContent()) ?? '', /городской/);
  assert.equal(await page.getByTestId('stop-list').locator('tr[data-phone="+79035550022"]').getByTestId('source').textContent(), 'из файла');
  rmSync(dir, { recursive: true, force: true });
  await page.locator('form.logout button').click();
  await page.waitForURL(/\/login/);
});

test('an admin erases a person on the page: the report keeps its counts and shows the marker', async () => {
  const page = await context.newPage();
  const base = h.service.url;
  const list = (await (await uploadList(h, [['Телефон', 'Имя'], ['+79165554433', 'Аполлинария Зотова'], ['+79165554434', 'Остаётся']], 'Для удаления')).json()) as { id: number };
  const campaign = (await (await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Перед удалением', listId: list.id, template: '{{Имя}}, ждём вас', kind: 'service' }) })).json()) as { id: number };
  await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' });
  await campaignFinished(h.service, campaign.id);

  await logIn(page, 'admin', 'correct-horse-1');
  await page.goto(`${base}/campaigns/${campaign.id}`);
  await page.getByTestId('report').getByText('Аполлинария Зотова, ждём вас').waitFor();
  const sentBefore = (await page.getByTestId('count-sent').textContent())?.trim();

  await page.getByRole('link', { name: 'Удаление данных' }).click();
  await page.getByLabel('Номер телефона').fill('8 916 555-44-33');
  await page.getByLabel(/Я понимаю/).check();
  await page.getByRole('button', { name: 'Удалить данные' }).click();
  await page.getByText('Данные удалены').waitFor();
  await shot(page, '15-erasure');

  await page.goto(`${base}/campaigns/${campaign.id}`);
  const report = page.getByTestId('report');
  await report.getByText('[удалено по запросу]').waitFor();
  assert.equal(await report.getByText('Аполлинария').count(), 0);
  assert.equal(await report.getByText('+79165554433').count(), 0);
  assert.equal((await page.getByTestId('count-sent').textContent())?.trim(), sentBefore, 'the counts stay right');
  await page.close();
});
