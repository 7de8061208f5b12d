/**
 * `npm run bench:report` — the campaign report at BENCH_REPORT_MESSAGES (default 100 000) messages.
 *
 * A fresh database (the whole service: startHarness, with the simulator's two modems) gets, by SQL,
 * one list of N contacts (Телефон, Имя, Город, Заказ) and one paused campaign of N messages in
 * mixed states (waiting, sent, delivered, failed, skipped), the search words set as CampaignsRepo.create
 * sets them, then VACUUM ANALYZE (autovacuum's job on a real server). Then, over HTTP with a logged-in
 * session or the API token, BENCH_REPORT_RUNS (default 60) requests per case after 5 warm-ups:
 *   the campaign page; its live update at the first, middle and last page, with a state filter,
 *   with a search by a number's last digits and by a field word; the messages API the same way
 *   and by `after` cursor;
 * beside the baselines of the same run: `select 1` through knex, and GET /api/v1/settings (an
 * HTTP round trip through the same middleware that reads one small row).
 * Then: the CSV and XLSX export of all N messages (time, and the process's RSS growth sampled
 * every 20 ms while it streams), and the cost of the counts trigger on a dispatcher-like single-row
 * state update (the same statement with triggers off via session_replication_role = replica).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pageSession, startHarness } from '../test/helpers/harness.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const N = Number(process.env.BENCH_REPORT_MESSAGES ?? 100_000);
const RUNS = Number(process.env.BENCH_REPORT_RUNS ?? 60);
const PAGE = 50;

const h = await startHarness();
const knex = h.testDb.db.knex;
const t0 = performance.now();
await knex.raw(`insert into lists (name, file_name, columns, phone_column, imported, duplicates, rejected, created_at)
  values ('Клиенты', 'клиенты.xlsx', '["Телефон","Имя","Город","Заказ"]', 'Телефон', ?, '[]', '[]', now())`, [N]);
const listId = (await knex('lists').max('id as id').first())!.id as number;
await knex.raw(`insert into list_contacts (list_id, row_number, phone, fields)
  select ?, g + 1, '+7912' || lpad(g::text, 7, '0'),
    jsonb_build_object('Телефон', '8 912 ' || lpad(g::text, 7, '0'),
                       'Имя', (array['Анна','Иван','Мария','Сергей','Ольга','Дмитрий'])[1 + g % 6] || ' ' || (array['Иванова','Петров','Смирнова','Кузнецов','Попова'])[1 + g % 5],
                       'Город', (array['Москва','Тюмень','Казань','Сургут'])[1 + g % 4],
                       'Заказ', (80000 + g)::text)
  from generate_series(1, ?) g`, [listId, N]);
await knex.raw(`insert into campaigns (name, list_id, template, kind, status, price_per_part, max_parts, created_at, started_at)
  values ('Большая', ?, '{{Имя}}, заказ {{Заказ}} готов', 'service', 'paused', 0.06, 3, now(), now())`, [listId]);
const campaignId = (await knex('campaigns').max('id as id').first())!.id as number;
await knex.raw(`insert into messages (campaign_id, contact_id, row_number, phone, text, parts, state, modem, sent_at, finished_at, error, created_at, search_words)
  select ?, c.id, c.row_number, c.phone, (c.fields->>'Имя') || ', заказ ' || (c.fields->>'Заказ') || ' готов', 1 + (c.id % 2)::int, s.state,
    case when s.state in ('sent','delivered','failed') then 'dongle' || (c.id % 2) end,
    case when s.state in ('sent','delivered','failed') then now() - interval '1 hour' end,
    case when s.state in ('delivered','failed','skipped') then now() - interval '50 minutes' end,
    case s.state when 'failed' then 'оператор отклонил' when 'skipped' then 'номер в стоп-листе' end,
    now(), to_tsvector('simple', c.fields)
  from list_contacts c cross join lateral (select (array['waiting','sent','delivered','delivered','failed','skipped'])[1 + (c.id % 6)::int] as state) s
  where c.list_id = ? order by c.id`, [campaignId, listId]);
await knex.raw('vacuum analyze');
console.log(`seeded ${N} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s (${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)})`);

const page = await pageSession(h);
const base = h.service.url;
const cookie = (page as unknown as { cookie: string }).cookie;
const pages = Math.ceil(N / PAGE);
const apiPages = Math.ceil(N / 100);
const sample = await knex('messages').where({ campaign_id: campaignId }).orderBy('id').offset(Math.floor(N / 2)).first('id', 'phone');

type Case = [name: string, run: () => Promise<unknown>];
const get = (path: string, auth: 'page' | 'api') => async () => {
  const res = await fetch(base + path, { headers: auth === 'page' ? { cookie, accept: 'application/json' } : { authorization: `Bearer ${h.token}` } });
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return res.arrayBuffer();
};
const live = (q: string) => get(`/campaigns/${campaignId}/live?${q}`, 'page');
const api = (q: string) => get(`/api/v1/campaigns/${campaignId}/messages?${q}`, 'api');
const tail = sample.phone.slice(-6);
const cases: Case[] = [
  ['baseline: select 1 (knex)', () => knex.raw('select 1')],
  ['baseline: GET /api/v1/settings', get('/api/v1/settings', 'api')],
  ['campaign page (HTML)', async () => {
    const res = await fetch(`${base}/campaigns/${campaignId}`, { headers: { cookie } });
    if (res.status !== 200) throw new Error(String(res.status));
    return res.text();
  }],
  ['live: page 1', live('page=1')],
  [`live: page ${pages / 2} (middle)`, live(`page=${pages / 2}`)],
  [`live: page ${pages} (last)`, live(`page=${pages}`)],
  ['live: state delivered, page 500', live('state=delivered&page=500')],
  [`live: search number tail «${tail}»`, live(`q=${tail}`)],
  ['live: search field «тюмень петров»', live(`q=${encodeURIComponent('тюмень петров')}`)],
  ['live: search «анна» + state failed, p.2', live(`q=${encodeURIComponent('анна')}&state=failed&page=2`)],
  ['API: page 1', api('page=1')],
  [`API: page ${apiPages / 2} (middle)`, api(`page=${apiPages / 2}`)],
  [`API: page ${apiPages} (last)`, api(`page=${apiPages}`)],
  ['API: state failed, page 100', api('state=failed&page=100')],
  [`API: search «${tail}»`, api(`q=${tail}`)],
  ['API: search «80123»', api('q=80123')],
  ['API: after cursor (middle)', api(`after=${sample.id}`)],
];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
console.log(`\n${'case'.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
for (const [name, run] of cases) {
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  console.log(`${name.padEnd(44)} ${pct(times, 50).toFixed(1).padStart(8)} ${pct(times, 95).toFixed(1).padStart(8)}`);
}

console.log('');
for (const format of ['csv', 'xlsx'] as const) {
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  let peak = rss0;
  let heapPeak = heap0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 20);
  const start = performance.now();
  const res = await fetch(`${base}/api/v1/campaigns/${campaignId}/export?format=${format}`, { headers: { authorization: `Bearer ${h.token}` } });
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  const ms = performance.now() - start;
  clearInterval(timer);
  console.log(`export ${format} of ${N} messages: ${(ms / 1000).toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB, peak growth while streaming: RSS ${((peak - rss0) / 1e6).toFixed(1)} MB, JS heap ${((heapPeak - heap0) / 1e6).toFixed(1)} MB (client and server in this process, garbage included)`);
}

// The counts trigger on the dispatcher's kind of statement: one message's state, by id.
const ids: number[] = (await knex('messages').where({ campaign_id: campaignId, state: 'waiting' }).orderBy('id').limit(400).pluck('id')).map(Number);
const conn = await knex.client.acquireConnection();
const q = (sql: string, b: unknown[] = []) => knex.raw(sql, b as never).connection(conn);
// Off and on alternate message by message, so that the machine's load drifts over both alike.
const off: number[] = [];
const on: number[] = [];
for (const [i, id] of ids.entries()) {
  const triggers = i % 2 === 1;
  await q(`set session_replication_role = ${triggers ? 'origin' : 'replica'}`);
  const start = performance.now();
  await q(`update messages set state = 'sending', claimed_at = now() where id = ? and state = 'waiting'`, [id]);
  await q(`update messages set state = 'waiting', claimed_at = null where id = ?`, [id]);
  (triggers ? on : off).push((performance.now() - start) / 2);
}
await q('set session_replication_role = origin');
for (const [label, times] of [['counts trigger off', off], ['counts trigger on', on]] as const) {
  console.log(`single-row state update, ${label.padEnd(20)} p50 ${pct(times, 50).toFixed(2)} ms, p95 ${pct(times, 95).toFixed(2)} ms`);
}
await knex.client.releaseConnection(conn);
const deltas = await knex('campaign_counts').where({ campaign_id: campaignId }).count<{ n: number }[]>('* as n');
console.log(`campaign_counts rows for the campaign after the updates: ${deltas[0]!.n} (folded by the next read past 64)`);
await h.close();
