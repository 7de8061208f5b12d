/** Pages' forms through real HTTP: sessions, CSRF. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pageSession, startHarness, type Harness } from '../helpers/harness.js';

describe('page forms', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(() => h.close());

  test('a bad CSRF token is a 403 page, also one with non-ASCII characters of the same length (was a 500)', async () => {
    const s = await pageSession(h);
    assert.ok(s.csrfToken.length > 10);
    const settings = { window_from: '09:00', window_to: '21:00' };
    for (const bad of ['', 'x'.repeat(s.csrfToken.length), 'Я'.repeat(s.csrfToken.length), `${s.csrfToken.slice(0, -1)}Я`, '\u{1F600}'.repeat(16)]) {
      const res = await s.post('/settings', { ...settings, _csrf: bad });
      assert.equal(res.status, 403, `token ${JSON.stringify(bad)}`);
      assert.match(res.html, /Страница устарела/);
    }
  });

  test('the settings page saves the stop words (one per line) and the opt-out confirmation; a bad list is refused in Russian', async () => {
    const s = await pageSession(h);
    await s.get('/settings');
    const form = { _checkboxes: '1', stopPhrases: 'СТОП\r\nотписаться\r\n\r\nне пишите', optOutConfirmationEnabled: 'on', optOutConfirmationText: 'Вы отписаны.' };
    const saved = await s.post('/settings', form);
    assert.equal(saved.status, 303);
    const settings = (await (await h.api('/settings')).json()) as { stopPhrases: string[]; optOutConfirmation: { enabled: boolean; text: string } };
    assert.deepEqual(settings.stopPhrases, ['СТОП', 'отписаться', 'не пишите']);
    assert.deepEqual(settings.optOutConfirmation, { enabled: true, text: 'Вы отписаны.' });
    await s.get('/settings');
    const bad = await s.post('/settings', { ...form, stopPhrases: 'спасибо' });
    assert.equal(bad.status, 422);
    assert.match(bad.html, /вежливое слово/);
  });
});
