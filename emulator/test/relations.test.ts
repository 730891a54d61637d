/**
 * The relation index (relations.ts) behind "does this table exist" and "which columns are TIMESTAMP_TZ":
 * every DDL change is seen by the next statement, from any session, without a catalog scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: unknown }) => String(e.code),
  );

describe('relation index', () => {
  let emu: TestEmulator;
  let a: Conn;
  let b: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    a = await connect(emu);
    await exec(a, 'create database reldb');
    await exec(a, 'use schema reldb.public');
    b = await connect(emu, { database: 'RELDB', schema: 'PUBLIC' });
  });
  afterAll(async () => {
    await destroy(a);
    await destroy(b);
    await emu.close();
  });

  it('sees tables created, renamed, swapped and dropped by another session', async () => {
    expect(await code(exec(b, 'select * from t1'))).toBe('002003');
    await exec(a, 'create table t1 (id int)');
    await exec(a, 'insert into t1 values (1)');
    expect(await exec(b, 'select id from t1')).toEqual([{ ID: 1 }]);
    await exec(a, 'alter table t1 rename to t2');
    expect(await code(exec(b, 'select * from t1'))).toBe('002003');
    expect(await exec(b, 'select id from t2')).toEqual([{ ID: 1 }]);
    await exec(a, 'create table t3 (id int)');
    await exec(a, 'alter table t2 swap with t3');
    expect(await exec(b, 'select count(*) as n from t2')).toEqual([{ N: 0 }]);
    expect(await exec(b, 'select id from t3')).toEqual([{ ID: 1 }]);
    await exec(a, 'drop table t3');
    expect(await code(exec(b, 'select * from t3'))).toBe('002003');
    await exec(a, 'create view v as select * from t2');
    expect(await exec(b, 'select count(*) as n from v')).toEqual([{ N: 0 }]);
  });

  it('forgets the tables of a dropped schema or database', async () => {
    await exec(a, 'create schema reldb.s2');
    await exec(a, 'create table reldb.s2.x (id int)');
    expect(await exec(b, 'select count(*) as n from reldb.s2.x')).toEqual([{ N: 0 }]);
    await exec(a, 'drop schema reldb.s2');
    expect(await code(exec(b, 'select * from reldb.s2.x'))).toBe('002003');
    await exec(a, 'create database other');
    await exec(a, 'create table other.public.y (id int)');
    expect(await exec(b, 'select count(*) as n from other.public.y')).toEqual([{ N: 0 }]);
    await exec(a, 'drop database other');
    await exec(a, 'use schema reldb.public');
    expect(await code(exec(b, 'select * from other.public.y'))).toBe('002003');
  });

  it('looks up names that look like file names without reading a file', async () => {
    await exec(a, 'create table reldb.public."rows.csv" (id int)');
    expect(await exec(b, 'select count(*) as n from "rows.csv"')).toEqual([{ N: 0 }]);
    await exec(a, 'drop table reldb.public."rows.csv"');
    expect(await code(exec(b, 'select * from "rows.csv"'))).toBe('002003');
  });

  it('compares a TIMESTAMP_TZ column added to a known table by instant', async () => {
    await exec(a, 'create table ev (id int)');
    expect(await exec(b, 'select count(*) as n from ev')).toEqual([{ N: 0 }]);
    await exec(a, 'alter table ev add column happened timestamp_tz');
    await exec(
      a,
      `insert into ev values (1, '2024-01-01 10:00:00 +05:45'::timestamp_tz), (2, '2024-01-01 04:15:00 +00:00'::timestamp_tz)`,
    );
    const rows = await exec(
      b,
      `select id from ev where happened = '2024-01-01 04:15:00 +00:00'::timestamp_tz order by id`,
    );
    expect(rows).toEqual([{ ID: 1 }, { ID: 2 }]);
  });
});
