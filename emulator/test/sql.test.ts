import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('DDL, DML and queries', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database sqldb');
    await exec(conn, 'create schema sqldb.work');
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('returns Snowflake DML result columns and binds ? and :1', async () => {
    await exec(conn, 'create or replace table sqldb.work.t (id int, name varchar(10))');
    const ins = await exec(conn, 'insert into sqldb.work.t values (?, ?), (:3, :4)', [1, 'a', 2, 'b']);
    expect(ins).toEqual([{ 'number of rows inserted': 2 }]);
    const upd = await exec(conn, 'update sqldb.work.t set name = :1 where id = :2', ['z', 2]);
    expect(upd).toEqual([{ 'number of rows updated': 1, 'number of multi-joined rows updated': 0 }]);
    const del = await exec(conn, 'delete from sqldb.work.t where id = ?', [1]);
    expect(del).toEqual([{ 'number of rows deleted': 1 }]);
    expect(await exec(conn, 'select id, name from sqldb.work.t')).toEqual([{ ID: 2, NAME: 'z' }]);
  });

  it('inserts array binds as one statement', async () => {
    await exec(conn, 'create or replace table sqldb.work.arr (id int, label string)');
    const rows = Array.from({ length: 500 }, (_, i) => [i, `l${i}`]);
    const res = await exec(conn, 'insert into sqldb.work.arr (id, label) values (?, ?)', rows);
    expect(res[0]['number of rows inserted']).toBe(500);
    expect(await exec(conn, 'select count(*) as n, max(label) as m from sqldb.work.arr')).toEqual([
      { N: 500, M: 'l99' },
    ]);
  });

  it('MERGE reports inserted/updated/deleted counts', async () => {
    await exec(conn, 'use schema sqldb.work');
    await exec(conn, 'create or replace table tgt (id int, v int)');
    await exec(conn, 'insert into tgt values (1, 10), (2, 20), (3, 30)');
    const res = await exec(
      conn,
      `merge into tgt using (select 1 as id, 11 as v union all select 3, null union all select 4, 40) s
      on tgt.id = s.id
      when matched and s.v is null then delete
      when matched then update set v = s.v
      when not matched then insert (id, v) values (s.id, s.v)`,
    );
    expect(res).toEqual([{ 'number of rows inserted': 1, 'number of rows updated': 1, 'number of rows deleted': 1 }]);
    expect(await exec(conn, 'select id, v from tgt order by id')).toEqual([
      { ID: 1, V: 11 },
      { ID: 2, V: 20 },
      { ID: 4, V: 40 },
    ]);
  });

  it('commits and rolls back per session', async () => {
    await exec(conn, 'create or replace table sqldb.work.tx (id int)');
    const other = await connect(emu, { database: 'SQLDB', schema: 'WORK' });
    await exec(conn, 'begin');
    await exec(conn, 'insert into sqldb.work.tx values (1)');
    expect(await exec(other, 'select count(*) as n from tx')).toEqual([{ N: 0 }]);
    await exec(conn, 'rollback');
    expect(await exec(conn, 'select count(*) as n from sqldb.work.tx')).toEqual([{ N: 0 }]);
    await exec(conn, 'begin transaction');
    await exec(conn, 'insert into sqldb.work.tx values (2)');
    await exec(conn, 'commit');
    expect(await exec(other, 'select id from tx')).toEqual([{ ID: 2 }]);
    await destroy(other);
  });

  it('translates analyst functions, QUALIFY and windows', async () => {
    const rows = await exec(
      conn,
      `select iff(1 > 0, 'y', 'n') as a, nvl(null, 5) as b, dateadd(day, 1, '2024-02-28'::date)::date as c,
        datediff(day, '2024-01-01'::date, '2024-03-01'::date) as d, date_trunc('month', '2024-03-15'::timestamp) as e,
        to_number('12.5', 10, 1) as f, to_varchar(42) as g`,
    );
    expect(rows[0].A).toBe('y');
    expect(rows[0].B).toBe(5);
    expect((rows[0].C as Date).toISOString().slice(0, 10)).toBe('2024-02-29');
    expect(rows[0].D).toBe(60);
    expect((rows[0].E as Date).getTime()).toBe(Date.UTC(2024, 2, 1));
    expect(rows[0].F).toBe(12.5);
    expect(rows[0].G).toBe('42');
    const q = await exec(conn, `select id, v from tgt qualify row_number() over (order by v desc) = 1`);
    expect(q).toEqual([{ ID: 4, V: 40 }]);
  });

  it('ALTER TABLE, TRUNCATE and DROP behave like Snowflake', async () => {
    await exec(conn, 'create or replace table sqldb.work.alt (a int)');
    await exec(conn, 'alter table sqldb.work.alt add column b varchar(5)');
    await exec(conn, 'alter table sqldb.work.alt rename column a to a2');
    await exec(conn, "insert into sqldb.work.alt values (1, 'x')");
    expect(await exec(conn, 'select * from sqldb.work.alt')).toEqual([{ A2: 1, B: 'x' }]);
    await exec(conn, 'truncate table sqldb.work.alt');
    expect(await exec(conn, 'select count(*) as n from sqldb.work.alt')).toEqual([{ N: 0 }]);
    await exec(conn, 'drop table sqldb.work.alt');
    expect((await execError(conn, 'select * from sqldb.work.alt')).code).toBe('002003');
    expect(await exec(conn, 'drop table if exists sqldb.work.alt')).toHaveLength(1);
  });

  it('refuses what it cannot translate with a Snowflake error', async () => {
    const e = await execError(conn, "select * from table(flatten(input => parse_json('[1]')))");
    expect(e.code).toBe('002040');
  });
});
