import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchPlainBrowser, logIn, shot, viewport } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let browser: Browser;

before(async () => {
  h = await startHarness();
  browser = await launchPlainBrowser();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

/** A fresh browser profile (own cookies) logged in as `login`. */
async function loggedIn(login: string, password: string): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'ru-RU' });
  const page = await context.newPage();
  await logIn(page, h.service.url, login, password);
  return page;
}

test('the admin makes a staff user and an API token on the pages; the token works with the API; the staff user sees no admin pages', async () => {
  const admin = await loggedIn('admin', 'correct-horse-1');
  const base = h.service.url;

  // The admin finds the pages in the navigation.
  await admin.getByRole('navigation').getByRole('link', { name: 'Пользователи' }).click();
  await admin.waitForURL(/\/users$/);
  const form = admin.getByTestId('new-user');
  await form.getByLabel('Логин').fill('olga');
  await form.getByLabel('Пароль').fill('olga-password-1');
  await form.getByRole('button', { name: 'Создать пользователя' }).click();
  await admin.getByText('Пользователь «olga» создан (сотрудник).').waitFor();
  assert.equal(await admin.locator('tr[data-login="olga"] [data-testid=role]').textContent(), 'сотрудник');
  await shot(admin, '10-users');

  await admin.getByRole('navigation').getByRole('link', { name: 'Токены API' }).click();
  await admin.waitForURL(/\/tokens$/);
  const tokenForm = admin.getByTestId('new-token-form');
  await tokenForm.getByLabel('Для чего он').fill('crm');
  await tokenForm.getByRole('radio', { name: /администратор/ }).check();
  await tokenForm.getByRole('button', { name: 'Создать токен' }).click();
  await admin.getByText('Скопируйте его сейчас, больше он не будет показан.').waitFor();
  const token = (await admin.getByTestId('new-token').textContent())?.trim() ?? '';
  assert.match(token, /^sc_/);
  await shot(admin, '11-token-created');

  const settings = await fetch(`${base}/api/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(settings.status, 200);
  const patched = await fetch(`${base}/api/v1/settings`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ maxParts: 6 }) });
  assert.equal(patched.status, 200, 'an admin token may change settings');

  // Shown once: the list has it, used just now, but never its value again.
  await admin.goto(`${base}/tokens`);
  const row = admin.locator('tr[data-name="crm"]');
  await row.getByText('действует').waitFor();
  assert.doesNotMatch(await admin.content(), new RegExp(token));
  assert.doesNotMatch((await row.textContent()) ?? '', /ещё не использовался/);

  // Revoked on the page: it stops working at once.
  await row.getByRole('button', { name: 'Отозвать' }).click();
  await admin.getByText('Токен «crm» отозван: он больше не работает.').waitFor();
  assert.equal((await fetch(`${base}/api/v1/settings`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  await shot(admin, '12-tokens');

  // The staff user: no admin links, and /users answers with the Russian 403 page.
  const staff = await loggedIn('olga', 'olga-password-1');
  const nav = staff.getByRole('navigation');
  await nav.getByRole('link', { name: 'Рассылки' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Пользователи' }).count(), 0);
  assert.equal(await nav.getByRole('link', { name: 'Токены API' }).count(), 0);
  const response = await staff.goto(`${base}/users`);
  assert.equal(response?.status(), 403);
  await staff.getByText('Это может делать только администратор.').waitFor();
  await shot(staff, '13-staff-forbidden');
  assert.equal((await staff.goto(`${base}/tokens`))?.status(), 403);

  // Disabled by the admin: her next click lands on the login page.
  await admin.goto(`${base}/users`);
  await admin.locator('tr[data-login="olga"]').getByRole('button', { name: 'Отключить' }).click();
  await admin.getByText('«olga» отключён').waitFor();
  await staff.goto(`${base}/campaigns`);
  assert.match(staff.url(), /\/login/);
});
