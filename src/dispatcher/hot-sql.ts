import type { Knex } from 'knex';
import pg from 'pg';

export type Row = Record<string, unknown>;
/**
 * Runs one statement (`?` placeholders, as in knex.raw) and returns its rows. A statement PREPARE
 * accepts: select, insert, update, delete, values (no DDL, no transaction control).
 */
export type Run = (text: string, values: readonly unknown[]) => Promise<Row[]>;

/** A statement with `?` placeholders and its values. */
export interface Statement {
  text: string;
  values: readonly unknown[];
}

export interface SqlTransaction {
  /**
   * One statement of the transaction. `{ commit: true }`: the transaction's last statement — the
   * transaction commits with it, and nothing may follow it.
   */
  run(text: string, values: readonly unknown[], options?: { commit?: boolean }): Promise<Row[]>;
  /**
   * Statements that run one after the other, each a statement of its own (in READ COMMITTED, each
   * sees what committed before it began, and a lock one takes holds for the next), in one round
   * trip to PostgreSQL: the rows of each.
   */
  runInOrder(statements: readonly Statement[]): Promise<Row[][]>;
  /** When `work` returns, the transaction rolls back instead of committing: what it wrote is undone. */
  rollbackAtEnd(): void;
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
      transaction: async <T>(work: (trx: SqlTransaction) => Promise<T>): Promise<T> => {
        try {
          return await knex.transaction(async (trx) => {
            let committed = false;
            let rollback = false;
            const runOne = async (text: string, values: readonly unknown[]) => (await trx.raw(text, values as Knex.RawBinding[])).rows as Row[];
            const result = await work({
              knex: trx,
              // `commit` only marks the last statement, as on PostgreSQL.
              run: async (text, values, options) => {
                if (committed) throw new Error('hot-sql: a statement after the one that committed the transaction');
                if (options?.commit) committed = true;
                return runOne(text, values);
              },
              runInOrder: async (statements) => {
                const rows: Row[][] = [];
                for (const st of statements) rows.push(await runOne(st.text, st.values));
                return rows;
              },
              rollbackAtEnd: () => {
                if (committed) throw new Error('hot-sql: a rollback after the statement that committed the transaction');
                rollback = true;
              },
            });
            if (rollback) throw new RolledBack(result);
            return result;
          });
        } catch (error) {
          if (error instanceof RolledBack) return error.result as T;
          throw error;
        }
      },
    };
  }
  const client = knex.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<unknown> };
  let seq = 0;
  /** False once a prepared statement went missing (see `isLostStatement`): from then on, statements as they are. */
  let preparing = true;
  /** knex's events, so that the bench's statement counts stay whole (BEGIN and COMMIT count). */
  const emitted = async (text: string, values: readonly unknown[], send: () => Promise<Row[]>): Promise<Row[]> => {
    const uid = `hot-sql-${++seq}`;
    knex.emit('query', { __knexQueryUid: uid, sql: text, bindings: values });
    const rows = await send();
    knex.emit('query-response', rows, { __knexQueryUid: uid, sql: text, bindings: values });
    return rows;
  };
  /** BEGIN, COMMIT or ROLLBACK on its own. */
  const control = (conn: PgConnection, word: string) => emitted(word, [], async () => ((await conn.query(word)) as PgResult).rows);
  /**
   * Statements in one message to PostgreSQL, with the transaction's BEGIN before them and its
   * COMMIT after them when given: each one `execute` of the statement prepared on this connection
   * (see `executable`). A value without a literal form: the statements one by one, with
   * parameters (planned afresh, as any statement sent with parameters is).
   */
  const send = async (conn: PgConnection, statements: readonly Statement[], before = '', after = ''): Promise<Row[][]> => {
    const executables = statements.map((st) => executable(conn, st.text, st.values, preparing));
    if (executables.some((e) => e === null)) {
      if (before) await control(conn, before);
      const rows: Row[][] = [];
      for (const { text, values } of statements) {
        const positional = toPositional(text);
        rows.push(await emitted(positional, values, async () => ((await conn.query(positional, values)) as PgResult).rows));
      }
      if (after) await control(conn, after);
      return rows;
    }
    const ready = executables as Array<NonNullable<(typeof executables)[number]>>;
    // (A statement twice in one message is prepared once.)
    const prepares = ready.filter((e, i) => e.prepare && ready.findIndex((other) => other.prepare === e.prepare) === i);
    const messages = [...prepares.map((e) => e.prepare), before, ...ready.map((e) => e.execute), after].filter(Boolean);
    // For the bench's counts and timings, as if each statement had gone on its own.
    const uids = statements.map(() => `hot-sql-${++seq}`);
    if (before) await emitted(before, [], async () => []);
    statements.forEach((st, i) => knex.emit('query', { __knexQueryUid: uids[i], sql: toPositional(st.text), bindings: st.values }));
    let results: PgResult | PgResult[];
    try {
      results = await conn.query(messages.join('; '));
    } catch (error) {
      // Whether a PREPARE ran before the failure cannot be told (prepared statements outlive a
      // failed transaction): the pool drops the connection rather than guess. So too when a
      // migration (another instance's upgrade) changed the columns a prepared statement returns,
      // or a prepared statement went missing (then statements go unprepared from now on).
      if (prepares.length > 0 || isStalePlan(error) || isLostStatement(error)) conn.__knex__disposed = error;
      if (isLostStatement(error)) preparing = false;
      throw error;
    }
    for (const e of prepares) e.prepared();
    const all = Array.isArray(results) ? results : [results];
    // Each statement's result: a PREPARE and BEGIN before it give results of their own.
    const first = prepares.length + (before ? 1 : 0);
    const rows = statements.map((_, i) => all[first + i]!.rows);
    statements.forEach((st, i) => knex.emit('query-response', rows[i], { __knexQueryUid: uids[i], sql: toPositional(st.text), bindings: st.values }));
    if (after) await emitted(after, [], async () => []);
    return rows;
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
    run: async (text, values) => {
      const once = () => withConnection(async (conn) => (await send(conn, [{ text, values }]))[0]!);
      try {
        return await once();
      } catch (error) {
        // Refused before it ran (its prepared plan stale, or the statement missing): once more, on a
        // new connection (prepared afresh, or no longer prepared).
        if (isStalePlan(error) || isLostStatement(error)) return once();
        throw error;
      }
    },
    transaction: (work) =>
      withConnection(async (conn) => {
        // Each statement is a round trip to PostgreSQL, and a round trip costs the PBX more CPU
        // than anything else the dispatcher does per SMS (bench/dispatch.ts): BEGIN travels with
        // the transaction's first statement, COMMIT with the one its caller marks as the last.
        let begun = false;
        let committed = false;
        let rollback = false;
        const sendInTransaction = (statements: readonly Statement[], commit: boolean) => {
          if (committed) throw new Error('hot-sql: a statement after the one that committed the transaction');
          const first = !begun;
          begun = true;
          if (commit) committed = true;
          return send(conn, statements, first ? 'begin' : '', commit ? 'commit' : '');
        };
        const trx: SqlTransaction = {
          knex,
          run: async (text, values, options) => (await sendInTransaction([{ text, values }], options?.commit === true))[0]!,
          runInOrder: (statements) => sendInTransaction(statements, false),
          rollbackAtEnd: () => {
            if (committed) throw new Error('hot-sql: a rollback after the statement that committed the transaction');
            rollback = true;
          },
        };
        try {
          const result = await work(trx);
          if (begun && !committed) await control(conn, rollback ? 'rollback' : 'commit');
          return result;
        } catch (error) {
          // A connection whose rollback failed may still be inside the transaction: the pool drops it.
          // (After a failed BEGIN or COMMIT, or outside a transaction, ROLLBACK only warns.)
          if (begun) {
            await control(conn, 'rollback').catch((rollbackError: unknown) => {
              conn.__knex__disposed = rollbackError;
            });
          }
          throw error;
        }
      }),
  };
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns a schema change altered
 * (`select s.*` after a column was added): "cached plan must not change result type". The
 * statement did not run.
 */
function isStalePlan(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '0A000' && /cached plan must not change result type/.test(String((error as Error).message));
}

/**
 * A statement prepared on this connection is not there: something between us and PostgreSQL
 * hands our messages to other server connections (a pooler such as PgBouncer in transaction
 * mode), or someone ran DEALLOCATE. The EXECUTE did not run.
 */
function isLostStatement(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '26000';
}

/**
 * knex commits when the transaction's handler returns and rolls back when it throws: a rollback
 * asked for (`rollbackAtEnd`) throws this, with the result, past knex.
 */
class RolledBack {
  constructor(readonly result: unknown) {}
}

// pg's own (its index exports `utils`; @types/pg does not declare it).
const { escapeLiteral, prepareValue } = (pg as unknown as { utils: { escapeLiteral(s: string): string; prepareValue(v: unknown): unknown } }).utils;
/** Per connection, the statements prepared on it (PostgreSQL keeps them for the session). */
const preparedOn = new WeakMap<PgConnection, Set<string>>();
/** Statement text → the name it is prepared under, the same on every connection. */
const statementNames = new Map<string, string>();

/**
 * The statement as simple-protocol SQL: `execute <name>(<values as literals>)`, and, the first
 * time on this connection, the `prepare <name> as <statement>` to send before it (`prepared()`
 * records it once it ran). Prepared, the statement is parsed once per connection and, after a
 * few runs, planned once: parsing and planning the dispatcher's statements afresh were half of
 * what PostgreSQL spent per SMS (bench/dispatch.ts, pg_stat_statements: 1.1 ms of 2.2). The
 * literals are exactly what the extended protocol would send as untyped parameters (pg's own
 * `prepareValue` text, quoted by pg's `escapeLiteral`; PostgreSQL types them by the prepared
 * statement's parameters). Null when a value has no text form (a Buffer). With `prepare` false
 * (a prepared statement went missing: `isLostStatement`), the statement itself, the literals in
 * place of its `?`.
 */
function executable(
  conn: PgConnection,
  text: string,
  values: readonly unknown[],
  prepare: boolean,
): { prepare: string; execute: string; prepared(): void } | null {
  const args: string[] = [];
  for (const v of values) {
    const value = prepareValue(v);
    if (value === null) args.push('NULL');
    else if (typeof value === 'string') args.push(escapeLiteral(value));
    else return null;
  }
  if (!prepare) return { prepare: '', execute: inlined(text, args), prepared: () => {} };
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `simcast_hot_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  let prepared = preparedOn.get(conn);
  if (prepared === undefined) {
    prepared = new Set();
    preparedOn.set(conn, prepared);
  }
  const known = prepared;
  const statementName = name;
  return {
    prepare: known.has(name) ? '' : `prepare ${name} as ${toPositional(text)}`,
    execute: args.length === 0 ? `execute ${name}` : `execute ${name}(${args.join(', ')})`,
    prepared: () => known.add(statementName),
  };
}

const partsCache = new Map<string, string[]>();

/** The statement with each `?` replaced by its literal: planned afresh each time, as before statements were prepared. */
function inlined(text: string, args: readonly string[]): string {
  let parts = partsCache.get(text);
  if (parts === undefined) {
    parts = text.split('?');
    partsCache.set(text, parts);
  }
  if (parts.length !== args.length + 1) throw new Error(`hot-sql: ${parts.length - 1} placeholders, ${args.length} values`);
  let out = parts[0]!;
  for (let i = 0; i < args.length; i++) out += args[i]! + parts[i + 1]!;
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
