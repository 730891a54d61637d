/**
 * Array binds (snowflake-sdk sends one array per bind marker): text into VARCHAR columns reaches DuckDB
 * as list parameters, every other INSERT as literals. Both give the same rows, counts and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

let emu: TestEmulator;
let conn: Conn;
beforeAll(async () => {
  emu = await startTestEmulator();
  conn = await connect(emu);
  await exec(conn, 'create database binds');
  await exec(conn, 'use schema binds.public');
});
afterAll(async () => {
  await destroy(conn);
  await emu.close();
});

/** Texts a literal path could get wrong: quotes, backslashes, an empty string, NULL, non-ASCII, a `?`. */
const TEXTS: (string | null)[] = ["it's", 'back\\slash', '', null, 'ünï 中文 😀', '?', "'; drop table x; --"];

describe('array binds of text', () => {
  it('insert text into VARCHAR columns exactly, with the row count, in column-list order', async () => {
    await exec(conn, 'create or replace table txt (a varchar, b varchar(20), c string)');
    const rows = TEXTS.map((t, i) => [t, String(i), `r${i}`]);
    const res = await exec(conn, 'insert into txt (c, a, b) values (?, ?, ?)', rows);
    expect(res).toEqual([{ 'number of rows inserted': TEXTS.length }]);
    const got = await exec<{ A: string | null; B: string | null; C: string | null }>(
      conn,
      'select a, b, c from txt order by a',
    );
    expect(got).toEqual(rows.map(([c, a, b]) => ({ A: a, B: b, C: c })));
  });

  it('without a column list fill the columns in order; :n markers name their bind', async () => {
    await exec(conn, 'create or replace table pos (a varchar, b varchar)');
    await exec(conn, 'insert into pos values (:2, :1)', [
      ['x1', 'y1'],
      ['x2', null],
    ]);
    expect(await exec(conn, 'select a, b from pos order by b nulls last')).toEqual([
      { A: 'y1', B: 'x1' },
      { A: null, B: 'x2' },
    ]);
  });

  it('convert into other column types as single-row binds do, and fail with the same error', async () => {
    await exec(conn, 'create or replace table typed (n number(10,2), d date, s varchar)');
    await exec(conn, 'insert into typed values (?, ?, ?)', [
      ['1.25', '2024-01-15', 'a'],
      ['-3', '2024-02-29', null],
    ]);
    expect(await exec(conn, 'select n, to_varchar(d) as d, s from typed order by n')).toEqual([
      { N: -3, D: '2024-02-29', S: null },
      { N: 1.25, D: '2024-01-15', S: 'a' },
    ]);
    const single = await execError(conn, 'insert into typed values (?, ?, ?)', ['oops', '2024-01-15', 'a']);
    const array = await execError(conn, 'insert into typed values (?, ?, ?)', [
      ['1', '2024-01-15', 'a'],
      ['oops', '2024-01-15', 'a'],
    ]);
    expect({ code: array.code, message: array.message }).toEqual({ code: single.code, message: single.message });
    expect(await exec(conn, 'select count(*) as n from typed')).toEqual([{ N: 2 }]);
  });

  it('name a missing table or column as the single-row INSERT does', async () => {
    await exec(conn, 'create or replace table one (a varchar)');
    for (const sql of ['insert into nope (a) values (?)', 'insert into one (zz) values (?)']) {
      const single = await execError(conn, sql, ['x']);
      const array = await execError(conn, sql, [['x'], ['y']]);
      expect({ code: array.code, message: array.message }).toEqual({ code: single.code, message: single.message });
    }
  });

  it('run in the session transaction when AUTOCOMMIT is off: ROLLBACK removes the rows', async () => {
    const mine = await connect(emu);
    try {
      await exec(mine, 'create or replace table binds.public.tx (a varchar)');
      await exec(mine, 'alter session set autocommit = false');
      await exec(mine, 'insert into binds.public.tx values (?)', [['a'], ['b']]);
      expect(await exec(mine, 'select count(*) as n from binds.public.tx')).toEqual([{ N: 2 }]);
      expect(await exec(conn, 'select count(*) as n from tx')).toEqual([{ N: 0 }]);
      await exec(mine, 'rollback');
      expect(await exec(mine, 'select count(*) as n from binds.public.tx')).toEqual([{ N: 0 }]);
    } finally {
      await destroy(mine);
    }
  });

  it('move LAST_ALTERED and keep the table visible to later statements and metadata', async () => {
    await exec(conn, 'create or replace table seen (a varchar)');
    const [before] = await exec<{ T: string }>(
      conn,
      `select to_varchar(last_altered) as t from information_schema.tables where table_name = 'SEEN'`,
    );
    await new Promise((r) => setTimeout(r, 20));
    await exec(conn, 'insert into seen values (?)', [['a'], ['b']]);
    const [after] = await exec<{ T: string; C: number }>(
      conn,
      `select to_varchar(last_altered) as t, row_count as c from information_schema.tables where table_name = 'SEEN'`,
    );
    expect(after.C).toBe(2);
    expect(after.T > before.T).toBe(true);
  });
});
