import type { Knex } from 'knex';
import { paceWindow, sendPace, type SendPace, type SendSample } from '../scheduling/send-pace.js';

/**
 * Every SIM's pace (src/scheduling/send-pace.ts) from its last `paceWindow` messages that really
 * left the modem, in one query: a lateral lookup per SIM on the `messages_sim_pace` index, so the
 * cost grows with the number of SIMs, not of messages (100 000 messages: see the migration).
 * Only `sent`/`delivered` count — a `failed` after a late report did leave, but a failure's timing
 * is not the modem's usual pace; `unknown` never said when it left.
 */
export async function recentSendPaces(knex: Knex): Promise<Map<string, SendPace>> {
  const result = await knex.raw(
    `select s.imsi, m.seconds, m.parts
       from sims s
       cross join lateral (
         select extract(epoch from x.sent_at - x.claimed_at)::float8 as seconds, x.parts
           from messages x
          where x.imsi = s.imsi and x.sent_at is not null and x.claimed_at is not null
            and x.state in ('sent', 'delivered')
          order by x.sent_at desc
          limit ?
       ) m`,
    [paceWindow],
  );
  const samples = new Map<string, SendSample[]>();
  for (const row of result.rows as Array<{ imsi: string; seconds: number; parts: number }>) {
    let list = samples.get(row.imsi);
    if (!list) samples.set(row.imsi, (list = []));
    list.push({ seconds: Number(row.seconds), parts: Number(row.parts) });
  }
  const paces = new Map<string, SendPace>();
  for (const [imsi, list] of samples) paces.set(imsi, sendPace(list));
  return paces;
}

/** A SIM's pace from `recentSendPaces`, the default when it has no history at all. */
export function paceOf(paces: ReadonlyMap<string, SendPace>, imsi: string): SendPace {
  return paces.get(imsi) ?? sendPace([]);
}
