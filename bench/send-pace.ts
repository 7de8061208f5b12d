/**
 * `npm run bench:pace` — the query behind each SIM's learned pace (src/sims/send-pace-repo.ts)
 * at BENCH_PACE_MESSAGES (default 100 000) messages over BENCH_PACE_SIMS (default 16) SIMs.
 *
 * A fresh database gets, by SQL, N notification messages spread over the SIMs, mostly sent or
 * delivered (with claim and sent times), some waiting, failed or unknown, then VACUUM ANALYZE.
 * Printed: EXPLAIN ANALYZE of the query, and the median of BENCH_PACE_RUNS (default 50) calls of
 * recentSendPaces, beside the baseline of the same run: the same query with the
 * `messages_sim_pace` index dropped (what it would cost without it), and `select 1` through knex.
 */
import { performance } from 'node:perf_hooks';
import { recentSendPaces } from '../src/sims/send-pace-repo.js';
import { createTestDatabase } from '../test/helpers/test-db.js';

const N = Number(process.env.BENCH_PACE_MESSAGES ?? 100_000);
const SIMS = Number(process.env.BENCH_PACE_SIMS ?? 16);
const RUNS = Number(process.env.BENCH_PACE_RUNS ?? 50);

const db = await createTestDatabase();
const knex = db.db.knex;
try {
  await knex.raw(`insert into sims (imsi, enabled, daily_limit, monthly_limit, min_pause_seconds, max_pause_seconds, price_per_part, first_seen_at, last_seen_at)
    select '25099' || lpad(g::text, 10, '0'), true, 100, 3000, 20, 40, 0.06, now(), now() from generate_series(1, ?) g`, [SIMS]);
  await knex.raw(
    `insert into messages (phone, text, parts, state, imsi, claimed_at, sent_at, finished_at, created_at)
     select '+7912' || lpad(g::text, 7, '0'), 'Текст', 1 + (g % 7 = 0)::int,
            (array['sent','delivered','delivered','sent','failed','waiting','unknown'])[1 + g % 7],
            '25099' || lpad((1 + g % ?)::text, 10, '0'),
            c, case when g % 7 in (0, 1, 2, 3) then c + make_interval(secs => 4 + (g % 5)) end, c, c
       from generate_series(1, ?) g, lateral (select now() - make_interval(secs => (? - g) * 3) as c) t`,
    [SIMS, N, N],
  );
  await knex.raw('vacuum analyze messages');
  await knex.raw('vacuum analyze sims');

  const median = async (work: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 5; i++) await work();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await work();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1]!;
  };
  const explain = async () =>
    ((await knex.raw(`explain (analyze, buffers) select s.imsi, m.seconds, m.parts from sims s cross join lateral (
        select extract(epoch from x.sent_at - x.claimed_at)::float8 as seconds, x.parts from messages x
         where x.imsi = s.imsi and x.sent_at is not null and x.claimed_at is not null and x.state in ('sent', 'delivered')
         order by x.sent_at desc limit 50) m`)).rows as Array<{ 'QUERY PLAN': string }>).map((r) => r['QUERY PLAN']);

  const paces = await recentSendPaces(knex);
  console.log(`${N} messages, ${SIMS} SIMs; paces learned for ${[...paces.values()].filter((p) => p.learned).length} SIMs (e.g. ${JSON.stringify([...paces.values()][0])})`);
  console.log('\nEXPLAIN ANALYZE with messages_sim_pace:\n  ' + (await explain()).join('\n  '));
  const select1 = await median(() => knex.raw('select 1'));
  const withIndex = await median(() => recentSendPaces(knex));
  await knex.raw('drop index messages_sim_pace');
  await knex.raw('analyze messages');
  const plan = await explain();
  console.log('\nEXPLAIN ANALYZE without it (baseline):\n  ' + plan.join('\n  '));
  const withoutIndex = await median(() => recentSendPaces(knex));
  console.log(`\nrecentSendPaces, median of ${RUNS}: ${withIndex.toFixed(2)} ms with the index | ${withoutIndex.toFixed(2)} ms without it | select 1: ${select1.toFixed(2)} ms`);
} finally {
  await db.drop();
}
