import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TokensRepo } from '../../src/auth/tokens.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { PageClient } from '../helpers/page-client.js';

interface ApiError {
  error: { code: string; message: string };
}

describe('roles, users and tokens: API roles, sessions that follow the user, the admin pages, the audit log', () => {
  let h: Harness;
  let tokens: TokensRepo;
  let admin: PageClient;
  before(async () => {
    h = await startHarness();
    tokens = new TokensRepo(h.testDb.db.knex);
    admin = new PageClient(h.service.url);
    assert.equal(await admin.login('admin', 'correct-horse-1'), 303);
  });
  after(async () => {
    await h.close();
  });

  function bearer(token: string, path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${h.service.url}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}) },
    });
  }

  async function userId(login: string): Promise<number> {
    const row = await h.testDb.db.knex('users').where({ login }).first('id');
    return Number(row.id);
  }

  async function sessionsOf(login: string): Promise<number> {
    const rows = await h.testDb.db.knex('sessions').whereRaw(`sess->>'userId' = ?`, [String(await userId(login))]).select('sid');
    return rows.length;
  }

  test('a staff token works on staff routes and gets 403 FORBIDDEN on admin routes; the admin token can do both', async () => {
    const staff = await tokens.create('crm', { role: 'staff' });
    assert.equal(staff.role, 'staff');
    assert.equal((await tokens.verify(staff.token, new Date()))?.role, 'staff');

    assert.equal((await bearer(staff.token, '/settings')).status, 200);
    assert.equal((await bearer(staff.token, '/sims')).status, 200);
    const notification = await bearer(staff.token, '/notifications', { method: 'POST', body: JSON.stringify({ phone: '+79123456789', text: 'Ваш заказ готов' }) });
    assert.equal(notification.status, 201);

    const settings = await bearer(staff.token, '/settings', { method: 'PATCH', body: JSON.stringify({ dailyLimit: 10 }) });
    assert.equal(settings.status, 403);
    const body = (await settings.json()) as ApiError;
    assert.equal(body.error.code, 'FORBIDDEN');
    assert.equal(body.error.message, 'Это может делать только администратор.');
    const sim = await bearer(staff.token, '/sims/250990000000001', { method: 'PATCH', body: JSON.stringify({ dailyLimit: 10 }) });
    assert.equal(sim.status, 403);
    assert.equal(((await sim.json()) as ApiError).error.code, 'FORBIDDEN');
    assert.equal(((await (await bearer(staff.token, '/settings')).json()) as { dailyLimit: number }).dailyLimit, 100, 'nothing changed');

    assert.equal((await h.api('/settings', { method: 'PATCH', body: JSON.stringify({ maxParts: 6 }) })).status, 200, 'the harness token is admin (the default)');
  });

  test('a token made and revoked on the «Токены API» page: it works until revoked, then gets 401 at once', async () => {
    const created = await admin.post('/tokens', { name: 'сайт', role: 'staff' });
    assert.equal(created.status, 201);
    assert.match(created.html, /Скопируйте его сейчас, больше он не будет показан/);
    const token = /data-testid="new-token">(sc_[^<]+)</.exec(created.html)?.[1];
    assert.ok(token, 'the token is on the page');
    assert.equal((await bearer(token, '/settings')).status, 200);
    assert.equal((await bearer(token, '/settings', { method: 'PATCH', body: JSON.stringify({ maxParts: 5 }) })).status, 403);

    const listed = await admin.get('/tokens');
    assert.equal(listed.status, 200);
    assert.doesNotMatch(listed.html, new RegExp(token), 'shown once only');
    const row = await h.testDb.db.knex('api_tokens').where({ name: 'сайт' }).first();
    assert.equal(row.role, 'staff');
    assert.equal(row.created_by, 'user:admin');

    const revoked = await admin.post(`/tokens/${row.id}/revoke`);
    assert.equal(revoked.status, 303);
    assert.equal(revoked.location, '/tokens');
    assert.match((await admin.get('/tokens')).html, /Токен «сайт» отозван/);
    const after = await bearer(token, '/settings');
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as ApiError).error.code, 'UNAUTHORIZED');
  });

  test('a staff user: lists and campaigns yes, admin pages 403 in Russian, no admin links; disabling them ends their session', async () => {
    const made = await admin.post('/users', { login: 'olga', role: 'staff', password: 'olga-password-1' });
    assert.equal(made.status, 303);
    assert.match((await admin.get('/users')).html, /Пользователь «olga» создан \(сотрудник\)/);
    const short = await admin.post('/users', { login: 'petr', role: 'staff', password: 'short' });
    assert.equal(short.status, 422);
    assert.match(short.html, /Пароль должен быть не короче 8 символов/);
    const taken = await admin.post('/users', { login: 'olga', role: 'staff', password: 'another-password' });
    assert.equal(taken.status, 409);

    const olga = new PageClient(h.service.url);
    assert.equal(await olga.login('olga', 'olga-password-1'), 303);
    const campaigns = await olga.get('/campaigns');
    assert.equal(campaigns.status, 200);
    assert.doesNotMatch(campaigns.html, /href="\/users"|href="\/tokens"/);
    assert.match((await admin.get('/campaigns')).html, /href="\/users"/);
    for (const path of ['/users', '/tokens']) {
      const page = await olga.get(path);
      assert.equal(page.status, 403, path);
      assert.match(page.html, /Это может делать только администратор\./);
    }
    assert.equal((await olga.post('/tokens', { name: 'x', role: 'admin' })).status, 403);
    assert.equal((await olga.post(`/users/${await userId('olga')}/role`, { role: 'admin' })).status, 403);
    assert.equal((await olga.post('/settings', { maxParts: '3' })).status, 403);

    assert.equal(await sessionsOf('olga'), 1);
    const disabled = await admin.post(`/users/${await userId('olga')}/disable`);
    assert.equal(disabled.status, 303);
    assert.equal(await sessionsOf('olga'), 0, 'her sessions are deleted with the change');
    const next = await olga.get('/campaigns');
    assert.equal(next.status, 303);
    assert.match(next.location ?? '', /^\/login/);

    const again = new PageClient(h.service.url);
    await again.get('/login');
    const refused = await again.post('/login', { login: 'olga', password: 'olga-password-1' });
    assert.equal(refused.status, 401);
    assert.match(refused.html, /Неверный логин или пароль\./);

    assert.equal((await admin.post(`/users/${await userId('olga')}/enable`)).status, 303);
    assert.equal(await again.login('olga', 'olga-password-1'), 303);
    assert.equal((await again.get('/campaigns')).status, 200);
  });

  test('a disabled user is logged out even if a session row survived (the state is read on every request)', async () => {
    const olga = new PageClient(h.service.url);
    assert.equal(await olga.login('olga', 'olga-password-1'), 303);
    await h.testDb.db.knex('users').where({ login: 'olga' }).update({ disabled_at: new Date() });
    const next = await olga.get('/lists');
    assert.equal(next.status, 303);
    assert.match(next.location ?? '', /^\/login/);
    await h.testDb.db.knex('users').where({ login: 'olga' }).update({ disabled_at: null });
  });

  test('demoting an admin makes admin pages 403 on their next request, without logging in again', async () => {
    assert.equal((await admin.post('/users', { login: 'boris', role: 'admin', password: 'boris-password-1' })).status, 303);
    const boris = new PageClient(h.service.url);
    assert.equal(await boris.login('boris', 'boris-password-1'), 303);
    assert.equal((await boris.get('/users')).status, 200);

    assert.equal((await admin.post(`/users/${await userId('boris')}/role`, { role: 'staff' })).status, 303);
    assert.match((await admin.get('/users')).html, /«boris» теперь сотрудник/);
    const forbidden = await boris.get('/users');
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.html, /Это может делать только администратор\./);
    const campaigns = await boris.get('/campaigns');
    assert.equal(campaigns.status, 200, 'still logged in, as staff now');
    assert.doesNotMatch(campaigns.html, /href="\/users"/);

    assert.equal((await admin.post(`/users/${await userId('boris')}/role`, { role: 'admin' })).status, 303);
    assert.equal((await boris.get('/users')).status, 200, 'promoted back, again without a new login');
  });

  test('a demoted admin’s admin tokens become staff tokens; a disabled user’s tokens stop working', async () => {
    assert.equal((await admin.post('/users', { login: 'vera', role: 'admin', password: 'vera-password-1' })).status, 303);
    const vera = new PageClient(h.service.url);
    assert.equal(await vera.login('vera', 'vera-password-1'), 303);
    const created = await vera.post('/tokens', { name: 'crm-веры', role: 'admin' });
    const token = /data-testid="new-token">(sc_[^<]+)</.exec(created.html)?.[1];
    assert.ok(token);
    const patch = () => fetch(`${h.service.url}/api/v1/settings`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal((await patch()).status, 200);
    assert.equal((await admin.post(`/users/${await userId('vera')}/role`, { role: 'staff' })).status, 303);
    assert.equal((await patch()).status, 403, 'the token lost the admin role with its maker');
    assert.equal((await admin.post(`/users/${await userId('vera')}/disable`)).status, 303);
    assert.equal((await patch()).status, 401, 'and stopped when its maker was disabled');
  });

  test('a password reset ends the user’s sessions; the new password works', async () => {
    const olga = new PageClient(h.service.url);
    assert.equal(await olga.login('olga', 'olga-password-1'), 303);
    assert.equal((await admin.post(`/users/${await userId('olga')}/password`, { password: 'olga-password-2' })).status, 303);
    assert.equal((await olga.get('/campaigns')).status, 303);
    assert.equal(await olga.login('olga', 'olga-password-1'), 401);
    assert.equal(await olga.login('olga', 'olga-password-2'), 303);
  });

  test('the last enabled admin cannot be disabled or demoted, with a clear message', async () => {
    assert.equal((await admin.post(`/users/${await userId('boris')}/disable`)).status, 303);
    const me = await userId('admin');
    for (const [path, form] of [[`/users/${me}/disable`, {}], [`/users/${me}/role`, { role: 'staff' }]] as const) {
      const res = await admin.post(path, form);
      assert.equal(res.status, 303);
      const page = await admin.get('/users');
      assert.equal(page.status, 200, 'still an admin, still logged in');
      assert.match(page.html, /Нельзя: это последний действующий администратор/);
    }
    const row = await h.testDb.db.knex('users').where({ id: me }).first();
    assert.equal(row.role, 'admin');
    assert.equal(row.disabled_at, null);
  });

  test('every change and every login is in the audit log, with who did it and from where', async () => {
    const bad = new PageClient(h.service.url);
    await bad.get('/login');
    await bad.post('/login', { login: 'x'.repeat(90), password: 'not-the-password' });
    await admin.post('/logout');

    const rows = await h.audit.list({ limit: 1000 });
    const seen = (action: string, target: string) => rows.filter((r) => r.action === action && r.target === target);
    assert.equal(seen('user.create', 'olga').length, 1);
    assert.deepEqual(seen('user.create', 'olga')[0]!.details, { role: 'staff' });
    assert.equal(seen('user.create', 'olga')[0]!.actor, 'user:admin');
    assert.ok(seen('user.create', 'olga')[0]!.address);
    assert.deepEqual(seen('user.update', 'boris').map((r) => r.details.role).reverse(), [{ from: 'admin', to: 'staff' }, { from: 'staff', to: 'admin' }]);
    assert.equal(seen('user.disable', 'olga').length, 1);
    assert.equal(seen('user.enable', 'olga').length, 1);
    assert.equal(seen('user.disable', 'boris').length, 1);
    assert.equal(seen('user.disable', 'admin').length, 0, 'refused changes leave no row');
    assert.equal(seen('user.password-reset', 'olga').length, 1);
    assert.equal(seen('token.create', 'сайт').length, 1);
    assert.equal(seen('token.revoke', 'сайт').length, 1);
    assert.ok(seen('user.login', 'olga').length >= 3);
    assert.equal(seen('user.logout', 'admin').length, 1);
    const failed = rows.filter((r) => r.action === 'user.login-failed');
    assert.ok(failed.some((r) => r.target === 'olga' && r.details.reason === 'disabled'));
    assert.ok(failed.some((r) => r.target === 'x'.repeat(64)), 'the typed login, cut to 64 characters');
    assert.ok(!JSON.stringify(rows).includes('not-the-password'), 'no password is ever logged');
  });
});
