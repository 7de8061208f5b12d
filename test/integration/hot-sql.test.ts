import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hotSql } from '../../src/dispatcher/hot-sql.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbedded, openPostgres } from '../../src/db/knex.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

/**
 * The dispatcher's statements are prepared once per connection and run by `execute` with the
 * values as literals; its transactions send BEGIN with their first statement and COMMIT with the
 * one marked last, in one simple-protocol message. These tests hold that path to the
 * parameterised one: the same values come back, quotes and backslashes cannot escape their
 * literal, a failure anywhere leaves nothing written, and a connection never holds a prepared
 * statement it does not know of.
 */
let testDb: TestDatabase;

before(async () => {
  testDb = await createTestDatabase({ migrate: false });
  await testDb.db.knex.raw('create table hot (id int primary key, note text, at timestamptz, n numeric, tags text[])');
});
after(async () => {
  await testDb.drop();
});

const tricky = [
  "O'Brien", 'back\\slash', "\\'; drop table hot; --", 'Привет, «мир» 😀', '', 'tab\there', 'line\nbreak', '?', '$1', "E'x'",
];

describe('hot-sql transactions on PostgreSQL', () => {
  /** `work` with hot-sql on a pool of one connection (what is prepared on it can be seen), closed after. */
  async function onOneConnection(work: (sql: ReturnType<typeof hotSql>, one: ReturnType<typeof openPostgres>) => Promise<void>): Promise<void> {
    const one = openPostgres(testDb.url, { min: 0, max: 1 });
    try {
      await work(hotSql(one.knex), one);
    } finally {
      await one.close();
    }
  }

  it('a value inlined with BEGIN and COMMIT reads back exactly as the same value sent as a parameter', async () => {
    const sql = hotSql(testDb.db.knex);
    const at = new Date('2026-12-02T05:59:59.123Z');
    for (const [i, note] of tricky.entries()) {
      const rows = await sql.transaction(async (trx) => {
        // First statement: goes with BEGIN, values inlined; marked last: goes with COMMIT too.
        return trx.run('insert into hot (id, note, at, n, tags) values (?, ?, ?, ?, ?) returning note, at, n, tags', [i, note, at, 12.5, [note, 'b']], { commit: true });
      });
      assert.deepEqual(rows, [{ note, at, n: 12.5, tags: [note, 'b'] }], JSON.stringify(note));
      const viaParameters = await sql.run('select note, at, n, tags from hot where id = ?', [i]);
      assert.deepEqual(viaParameters, rows);
    }
    assert.equal(Number((await sql.run('select count(*) as n from hot', []))[0]!.n), tricky.length, 'the table is still there');
  });

  it('untyped literals are typed by their context, as parameters are (= any(int[]), arrays, null, booleans)', async () => {
    const sql = hotSql(testDb.db.knex);
    const rows = await sql.transaction(async (trx) => {
      const first = await trx.run('select 5 = any(?::int[]) as hit, ? as nothing, ?::boolean as yes', [[1, 5], null, true]);
      const last = await trx.run('select (?::text[])[2] as second, ? + 1 as sum', [['a', "b'c"], 41], { commit: true });
      return [...first, ...last];
    });
    assert.deepEqual(rows, [{ hit: true, nothing: null, yes: true }, { second: "b'c", sum: 42 }]);
  });

  it('a failing last statement rolls the whole transaction back, and the connection serves the next one', async () => {
    const sql = hotSql(testDb.db.knex);
    await assert.rejects(
      sql.transaction(async (trx) => {
        await trx.run('insert into hot (id, note) values (?, ?)', [100, 'written first']);
        await trx.run('insert into hot (id, note) values (?, ?)', [0, 'duplicate key'], { commit: true });
      }),
      /duplicate key/,
    );
    assert.deepEqual(await sql.run('select id from hot where id = ?', [100]), []);
    await assert.rejects(
      sql.transaction(async (trx) => {
        // Fails in the message that also carries BEGIN.
        await trx.run('insert into hot (id, note) values (?, ?)', [0, 'duplicate key']);
      }),
      /duplicate key/,
    );
    const ok = await sql.transaction(async (trx) => {
      await trx.run('insert into hot (id, note) values (?, ?)', [101, 'after the failures']);
      return trx.run('select note from hot where id = ?', [101]);
    });
    assert.deepEqual(ok, [{ note: 'after the failures' }]);
  });

  it('an error thrown between statements rolls back what the first one wrote', async () => {
    const sql = hotSql(testDb.db.knex);
    await assert.rejects(
      sql.transaction(async (trx) => {
        await trx.run('insert into hot (id, note) values (?, ?)', [200, 'then a bug']);
        throw new Error('bug');
      }),
      /bug/,
    );
    assert.deepEqual(await sql.run('select id from hot where id = ?', [200]), []);
  });

  it('nothing may follow the statement that committed', async () => {
    const sql = hotSql(testDb.db.knex);
    await assert.rejects(
      sql.transaction(async (trx) => {
        await trx.run('insert into hot (id, note) values (?, ?)', [300, 'committed'], { commit: true });
        await trx.run('insert into hot (id, note) values (?, ?)', [301, 'too late']);
      }),
      /after the one that committed/,
    );
    assert.deepEqual(await sql.run('select id from hot where id >= ? order by id', [300]), [{ id: 300 }]);
  });

  it('a Buffer value (no literal form) travels as a parameter, BEGIN and COMMIT as their own statements', async () => {
    const sql = hotSql(testDb.db.knex);
    const rows = await sql.transaction((trx) => trx.run('select length(?::bytea) as n', [Buffer.from([0, 1, 2, 39, 92])], { commit: true }));
    assert.deepEqual(rows, [{ n: 5 }]);
  });

  it('a schema change under a prepared statement: run alone, it is prepared again on a new connection; in a transaction, that one fails and the next works', async () => {
    await onOneConnection(async (sql) => {
    await testDb.db.knex.raw('create table grows (id int primary key)');
    await sql.run('insert into grows (id) values (?)', [1]);
    const read = 'select g.* from grows g where g.id = ?';
    assert.deepEqual(await sql.run(read, [1]), [{ id: 1 }]);
    // Another instance's upgrade adds a column.
    await testDb.db.knex.raw('alter table grows add column note text');
    assert.deepEqual(await sql.run(read, [1]), [{ id: 1, note: null }]);
    await sql.transaction((trx) => trx.run(read, [1], { commit: true }));
    await testDb.db.knex.raw('alter table grows add column more int');
    await assert.rejects(sql.transaction((trx) => trx.run(read, [1], { commit: true })), /cached plan must not change result type/);
    assert.deepEqual(await sql.transaction((trx) => trx.run(read, [1], { commit: true })), [{ id: 1, note: null, more: null }]);
    });
  });

  it('a prepared statement gone missing (a pooler in transaction mode, DEALLOCATE): the statement runs, and statements are no longer prepared', async () => {
    await onOneConnection(async (sql, one) => {
    const read = 'select note from hot where id = ?';
    assert.deepEqual(await sql.run(read, [0]), [{ note: tricky[0] }]);
    // What a pooler does: the next EXECUTE reaches a server connection that never saw the PREPARE.
    const client = one.knex.client as { acquireConnection(): Promise<{ query(q: string): Promise<unknown> }>; releaseConnection(c: unknown): Promise<unknown> };
    const conn = await client.acquireConnection();
    await conn.query('deallocate all');
    await client.releaseConnection(conn);
    assert.deepEqual(await sql.run(read, [0]), [{ note: tricky[0] }]);
    assert.deepEqual(await sql.transaction((trx) => trx.run(read, [0], { commit: true })), [{ note: tricky[0] }]);
    assert.deepEqual(await sql.run(preparedLike, ['%']), [], 'nothing prepared any more');
    });
  });

  it('statements in order in one message: each sees what the one before wrote; a rollback at the end undoes them all', async () => {
    const sql = hotSql(testDb.db.knex);
    const insert = 'insert into hot (id, note) values (?, ?)';
    const rows = await sql.transaction(async (trx) => {
      const [inserted, counted, again] = await trx.runInOrder([
        { text: `${insert} returning id`, values: [500, 'first'] },
        { text: 'select count(*)::int as n from hot where id >= ?', values: [500] },
        { text: `${insert} returning id`, values: [501, 'the same statement again'] },
      ]);
      assert.deepEqual([inserted, counted, again], [[{ id: 500 }], [{ n: 1 }], [{ id: 501 }]]);
      return trx.run('select note from hot where id >= ? order by id', [500], { commit: true });
    });
    assert.deepEqual(rows, [{ note: 'first' }, { note: 'the same statement again' }]);
    const undone = await sql.transaction(async (trx) => {
      await trx.runInOrder([{ text: insert, values: [502, 'undone'] }, { text: 'update hot set note = ? where id = ?', values: ['changed', 500] }]);
      trx.rollbackAtEnd();
      return 'the result, all the same';
    });
    assert.equal(undone, 'the result, all the same');
    assert.deepEqual(await sql.run('select id, note from hot where id >= ? order by id', [500]), [{ id: 500, note: 'first' }, { id: 501, note: 'the same statement again' }]);
  });

  /** This connection's prepared statements whose text is like the value (less this very statement). */
  const preparedLike = `select statement, generic_plans + custom_plans as runs from pg_prepared_statements
                         where statement like ? and statement not like '%pg_prepared_statements%'`;

  it('a statement is prepared once per connection, then only executed', async () => {
    await onOneConnection(async (sql) => {
    const text = 'select note from hot where id = ? and ? = ?';
    for (let i = 0; i < 3; i++) assert.deepEqual(await sql.run(text, [0, 'x', 'x']), [{ note: tricky[0] }]);
    await sql.transaction((trx) => trx.run(text, [0, 'x', 'x'], { commit: true }));
    const prepared = await sql.run(preparedLike, ['%and $2 = $3%']);
    assert.equal(prepared.length, 1, JSON.stringify(prepared));
    assert.equal(Number(prepared[0]!.runs), 4);
    });
  });

  it('a failure in the message that prepared the statement drops the connection; the next one prepares it again', async () => {
    await onOneConnection(async (sql) => {
    const backend = async () => Number((await sql.run('select pg_backend_pid() as pid', []))[0]!.pid);
    const before = await backend();
    const insert = 'insert into hot (id, note) values (?, ?) returning id';
    // The first use of the statement fails at execution, in the message that also prepares it
    // (and begins the transaction).
    await assert.rejects(sql.transaction((trx) => trx.run(insert, [0, 'duplicate key'])), /duplicate key/);
    const after = await backend();
    assert.notEqual(after, before, 'the connection was replaced');
    assert.deepEqual(await sql.transaction((trx) => trx.run(insert, [400, 'prepared again'], { commit: true })), [{ id: 400 }]);
    // Once prepared, a failing execution keeps the connection and its statement.
    const prepared = await backend();
    await assert.rejects(sql.run(insert, [400, 'duplicate key']), /duplicate key/);
    assert.equal(await backend(), prepared, 'the same connection');
    assert.deepEqual(await sql.run(preparedLike, ['%insert into hot%']).then((rows) => rows.map((r) => Number(r.runs))), [2]);
    // A statement PostgreSQL cannot prepare fails with its own error, every time.
    for (let i = 0; i < 2; i++) await assert.rejects(sql.run('select no_such_column from hot where id = ?', [i]), /no_such_column/);
    });
  });
});

describe('hot-sql on the embedded database (PGlite: knex runs the statements)', () => {
  it('statements in order, a rollback at the end, a commit marker: as on PostgreSQL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'simcast-hot-sql-'));
    const db = openEmbedded(dir);
    try {
      await db.knex.raw('create table hot (id int primary key, note text)');
      const sql = hotSql(db.knex);
      const insert = 'insert into hot (id, note) values (?, ?)';
      const undone = await sql.transaction(async (trx) => {
        const [, counted] = await trx.runInOrder([{ text: insert, values: [1, 'undone'] }, { text: 'select count(*)::int as n from hot', values: [] }]);
        assert.deepEqual(counted, [{ n: 1 }]);
        trx.rollbackAtEnd();
        return 'rolled back';
      });
      assert.equal(undone, 'rolled back');
      await sql.transaction((trx) => trx.run(insert, [2, 'kept'], { commit: true }));
      await assert.rejects(
        sql.transaction(async (trx) => {
          await trx.run(insert, [3, 'committed'], { commit: true });
          trx.rollbackAtEnd();
        }),
        /a rollback after the statement that committed/,
      );
      assert.deepEqual(await sql.run('select id, note from hot order by id', []), [{ id: 2, note: 'kept' }]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
