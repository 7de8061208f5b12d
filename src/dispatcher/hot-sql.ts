import type { Knex } from 'knex';
import pg from 'pg';

export type Row = Record<string, unknown>;
/** Runs one statement (`?` placeholders, as in knex.raw) and returns its rows. */
export type Run = (text: string, values: readonly unknown[]) => Promise<Row[]>;

export interface SqlTransaction {
  /**
   * One statement of the transaction. `{ commit: true }`: the transaction's last statement — the
   * transaction commits with it, and nothing may follow it.
   */
  run(text: string, values: readonly unknown[], options?: { commit?: boolean }): Promise<Row[]>;
  /** For helpers that take a knex handle (read-only, outside this transaction on PostgreSQL). */
  knex: Knex | Knex.Transaction;
}

export interface HotSql {
  /** Statements go to a pool: a helper may use another connection meanwhile (not so on PGlite). */
  pooled: boolean;
  run: Run;
  transaction<T>(work: (trx: SqlTransaction) => Promise<T>): Promise<T>;
}

/** The pieces of pg's client the hot path uses (knex's pooled connection on PostgreSQL). */
interface PgConnection {
  query(text: string, values?: readonly unknown[]): Promise<PgResult | PgResult[]>;
  __knex__disposed?: unknown;
}
interface PgResult {
  rows: Row[];
}

/**
 * The dispatcher's statements, run a few times per SMS. On PostgreSQL they go to pg's own
 * `query` on a connection from knex's pool: knex's query building, bindings and events cost
 * ~0.4 ms of CPU per statement (measured: 0.53 ms per knex.raw, 0.14 ms per pg query), on the
 * PBX's CPU. The SQL is the same text either way; knex's 'query'/'query-response' events are
 * still emitted so the bench's statement counts stay whole. On the embedded database (PGlite,
 * one connection) knex runs them as before.
 */
export function hotSql(knex: Knex): HotSql {
  if (knex.client.config.client !== 'pg') {
    const run: Run = async (text, values) => (await knex.raw(text, values as Knex.RawBinding[])).rows as Row[];
    return {
      pooled: false,
      run,
      transaction: (work) =>
        knex.transaction((trx) => {
          let committed = false;
          return work({
            knex: trx,
            // knex commits when `work` returns: `commit` only marks the last statement, as on PostgreSQL.
            run: async (text, values, options) => {
              if (committed) throw new Error('hot-sql: a statement after the one that committed the transaction');
              if (options?.commit) committed = true;
              return (await trx.raw(text, values as Knex.RawBinding[])).rows as Row[];
            },
          });
        }),
    };
  }
  const client = knex.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<unknown> };
  let seq = 0;
  /** knex's events, so that the bench's statement counts stay whole (BEGIN and COMMIT count). */
  const emitted = async (text: string, values: readonly unknown[], send: () => Promise<Row[]>): Promise<Row[]> => {
    const uid = `hot-sql-${++seq}`;
    knex.emit('query', { __knexQueryUid: uid, sql: text, bindings: values });
    const rows = await send();
    knex.emit('query-response', rows, { __knexQueryUid: uid, sql: text, bindings: values });
    return rows;
  };
  const on = (conn: PgConnection): Run => (text, values) => {
    const positional = toPositional(text);
    return emitted(positional, values, async () => ((await conn.query(positional, values)) as PgResult).rows);
  };
  const withConnection = async <T>(work: (conn: PgConnection) => Promise<T>): Promise<T> => {
    const conn = await client.acquireConnection();
    try {
      return await work(conn);
    } finally {
      await client.releaseConnection(conn);
    }
  };
  return {
    pooled: true,
    run: (text, values) => withConnection((conn) => on(conn)(text, values)),
    transaction: (work) =>
      withConnection(async (conn) => {
        const run = on(conn);
        // Each statement is a round trip to PostgreSQL, and a round trip costs the PBX more CPU
        // than anything else the dispatcher does per SMS (bench/dispatch.ts): BEGIN travels with
        // the transaction's first statement, COMMIT with the one its caller marks as the last
        // (both in one simple-protocol message, the values inlined as literals: see `inlined`).
        let begun = false;
        let committed = false;
        const together = async (text: string, values: readonly unknown[], before: string, after: string): Promise<Row[]> => {
          const sql = inlined(text, values);
          if (sql === null) {
            // A value that cannot travel as a literal: the statements one by one.
            if (before) await run(before, []);
            const rows = await run(text, values);
            if (after) await run(after, []);
            return rows;
          }
          if (before) await emitted(before, [], async () => []);
          const results = (await emitted(toPositional(text), values, async () => {
            const r = await conn.query(`${before ? `${before}; ` : ''}${sql}${after ? `; ${after}` : ''}`);
            return (Array.isArray(r) ? r : [r])[before ? 1 : 0]!.rows;
          }));
          if (after) await emitted(after, [], async () => []);
          return results;
        };
        const trx: SqlTransaction = {
          knex,
          run: async (text, values, options) => {
            if (committed) throw new Error('hot-sql: a statement after the one that committed the transaction');
            const first = !begun;
            begun = true;
            if (options?.commit) committed = true;
            if (!first && !options?.commit) return run(text, values);
            return together(text, values, first ? 'begin' : '', options?.commit ? 'commit' : '');
          },
        };
        try {
          const result = await work(trx);
          if (begun && !committed) await run('commit', []);
          return result;
        } catch (error) {
          // A connection whose rollback failed may still be inside the transaction: the pool drops it.
          // (After a failed BEGIN or COMMIT, or outside a transaction, ROLLBACK only warns.)
          if (begun) {
            await run('rollback', []).catch((rollbackError: unknown) => {
              conn.__knex__disposed = rollbackError;
            });
          }
          throw error;
        }
      }),
  };
}

// pg's own (its index exports `utils`; @types/pg does not declare it).
const { escapeLiteral, prepareValue } = (pg as unknown as { utils: { escapeLiteral(s: string): string; prepareValue(v: unknown): unknown } }).utils;
const partsCache = new Map<string, string[]>();

/**
 * The statement with each `?` replaced by its value as a quoted literal — exactly what the
 * extended protocol would send as an untyped parameter (pg's own `prepareValue` text, PostgreSQL
 * infers the type from the context either way), quoted by pg's `escapeLiteral`. Null when a value
 * has no text form (a Buffer): the caller then sends the statement with parameters.
 */
function inlined(text: string, values: readonly unknown[]): string | null {
  let parts = partsCache.get(text);
  if (parts === undefined) {
    parts = text.split('?');
    partsCache.set(text, parts);
  }
  if (parts.length !== values.length + 1) throw new Error(`hot-sql: ${parts.length - 1} placeholders, ${values.length} values`);
  let out = parts[0]!;
  for (let i = 0; i < values.length; i++) {
    const value = prepareValue(values[i]);
    if (value === null) out += 'NULL';
    else if (typeof value === 'string') out += escapeLiteral(value);
    else return null;
    out += parts[i + 1]!;
  }
  return out;
}

const positionalCache = new Map<string, string>();

/** `?` → `$1, $2, …` (the statements here have no `?` operators or `?` inside literals). */
function toPositional(text: string): string {
  let out = positionalCache.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    positionalCache.set(text, out);
  }
  return out;
}
