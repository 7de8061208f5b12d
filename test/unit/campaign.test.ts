import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costOf, nextStatus, type CampaignAction, type CampaignStatus } from '../../src/campaigns/campaign.js';
import { planMessage, summarise } from '../../src/campaigns/campaign-plan.js';

test('campaign status transitions', () => {
  const table: Array<[CampaignStatus, CampaignAction, CampaignStatus | null]> = [
    ['draft', 'start', 'running'],
    ['running', 'start', null],
    ['running', 'pause', 'paused'],
    ['paused', 'resume', 'running'],
    ['paused', 'pause', null],
    ['draft', 'cancel', 'cancelled'],
    ['running', 'cancel', 'cancelled'],
    ['finished', 'cancel', null],
    ['cancelled', 'resume', null],
    ['finished', 'start', null],
  ];
  for (const [from, action, to] of table) assert.equal(nextStatus(from, action), to, `${from} ${action}`);
});

test('cost is rounded to kopecks', () => {
  assert.equal(costOf(3, 0.06), 0.18);
  assert.equal(costOf(1000, 0.0575), 57.5);
  assert.equal(costOf(0, 0.06), 0);
});

const contact = (fields: Record<string, string>, rowNumber = 2) => ({ id: rowNumber, rowNumber, phone: '+79123456789', fields });

test('planMessage renders the row and flags missing fields, empty text and too many parts', () => {
  const ok = planMessage('{{Имя}}, заказ №{{Заказ}} готов', contact({ Имя: 'Анна', Заказ: '84315' }), 7);
  assert.equal(ok.text, 'Анна, заказ №84315 готов');
  assert.equal(ok.parts, 1);
  assert.equal(ok.encoding, 'ucs2');
  assert.equal(ok.problem, null);

  const missing = planMessage('{{Имя}}, заказ готов', contact({ Имя: '  ' }), 7);
  assert.match(missing.problem ?? '', /«Имя»/);

  const empty = planMessage('{{Имя}}', contact({ Имя: 'x' }), 7);
  assert.equal(empty.problem, null);

  const long = planMessage('Я'.repeat(70 * 2), contact({}), 2);
  assert.equal(long.parts, 3);
  assert.match(long.problem ?? '', /3/);
});

test('summarise counts only sendable rows towards parts and cost', () => {
  const messages = [
    planMessage('Привет, {{Имя}}', contact({ Имя: 'Анна' }, 2), 7),
    planMessage('Привет, {{Имя}}', contact({ Имя: '' }, 3), 7),
    planMessage('Привет, {{Имя}}! ' + 'ж'.repeat(60), contact({ Имя: 'Олег' }, 4), 7),
  ];
  const s = summarise(messages, 0.06);
  assert.equal(s.recipients, 3);
  assert.equal(s.sendable, 2);
  assert.equal(s.parts, 3);
  assert.equal(s.cost, 0.18);
  assert.deepEqual(s.problems.map((p) => p.row), [3]);
});
