/**
 * Snowflake semantics a lenient emulator could hide from floe: division by zero, missing objects,
 * typed binds as the drivers send them, describe-only requests, AUTOCOMMIT, and metadata results.
 * Through snowflake-sdk where it can say it, otherwise with the request bodies the Python connector,
 * JDBC and Go drivers send.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  destroy,
  exec,
  execError,
  startTestEmulator,
  wireSession,
  type Conn,
  type TestEmulator,
} from './helpers.js';

let emu: TestEmulator;
let conn: Conn;

beforeAll(async () => {
  emu = await startTestEmulator();
  conn = await connect(emu);
  await exec(conn, 'create database sem');
});

afterAll(async () => {
  await destroy(conn);
  await emu.close();
});

describe('identifier resolution', () => {
  it('folds unquoted names to upper case and matches every name exactly', async () => {
    await exec(conn, 'use schema sem.public');
    await exec(conn, 'create table "casey" (a int)');
    await exec(conn, 'create table CASEY (a int)'); // another object
    await exec(conn, 'insert into "casey" values (1)');
    expect(await exec(conn, 'select count(*) as n from casey')).toEqual([{ N: 0 }]);
    expect(await exec(conn, 'select count(*) as n from "casey"')).toEqual([{ N: 1 }]);
    await exec(conn, 'create table "MixedCase" ("MixedCol" int, lowcol int)');
    await exec(conn, `insert into "MixedCase" values (7, 8)`);
    expect((await execError(conn, 'select * from mixedcase')).code).toBe('002003');
    expect((await execError(conn, 'select mixedcol from "MixedCase"')).code).toBe('000904');
    expect((await execError(conn, 'select "lowcol" from "MixedCase"')).code).toBe('000904');
    expect(await exec(conn, 'select "MixedCol", "LOWCOL", LowCol from "MixedCase"')).toEqual([
      { MixedCol: 7, LOWCOL: 8 },
    ]);
    expect((await execError(conn, 'select x.a from (select 1 as a) "x"')).code).toBe('000904');
    expect(await exec(conn, 'select 1 as "lc", 2 as uc')).toEqual([{ lc: 1, UC: 2 }]);
    await exec(conn, 'create schema "lower"');
    expect((await execError(conn, 'use schema lower')).code).toBe('002003');
    await exec(conn, 'use schema "lower"');
    expect(await exec(conn, 'select current_schema() as s')).toEqual([{ S: 'lower' }]);
    await exec(conn, 'use schema sem.public');
    const names = await exec<{ TABLE_NAME: string }>(
      conn,
      `select table_name from sem.information_schema.tables where table_schema = 'PUBLIC' and lower(table_name) in ('casey', 'mixedcase') order by 1`,
    );
    expect(names.map((r) => r.TABLE_NAME).sort()).toEqual(['CASEY', 'MixedCase', 'casey']);
    await exec(conn, 'alter table "casey" rename column a to "b"');
    expect(await exec(conn, 'select "b" from "casey"')).toEqual([{ b: 1 }]);
    expect((await execError(conn, 'select b from "casey"')).code).toBe('000904');
  });
});

describe('errors', () => {
  it('fails a division by zero with 100051, in constants and in rows, and keeps NULL divisors NULL', async () => {
    for (const sql of ['select 1/0', 'select 10 / (2 - 2)', 'select 1.5 / 0.0']) {
      const err = await execError(conn, sql);
      expect({ sql, code: err.code, sqlState: err.sqlState }).toEqual({ sql, code: '100051', sqlState: '22012' });
    }
    await exec(conn, 'create table div (a int, b int)');
    await exec(conn, 'insert into div values (6, 3), (1, 0)');
    expect((await execError(conn, 'select a / b from div')).code).toBe('100051');
    expect(await exec(conn, 'select a / b as q from div where b <> 0')).toEqual([{ Q: 2 }]);
    expect(await exec(conn, 'select iff(b = 0, null, a / b) as q from div order by a')).toEqual([
      { Q: null },
      { Q: 2 },
    ]);
    expect(await exec(conn, 'select 7 / (3 - 1) * 2 as x, 6 / -2 as y, 1 / null as z')).toEqual([
      { X: 7, Y: -3, Z: null },
    ]);
  });

  it('answers a missing object with 002003 and SQLSTATE 42S02', async () => {
    for (const sql of ['select * from sem.public.nothing', 'drop table sem.public.nothing', 'desc table nothing']) {
      const err = await execError(conn, sql);
      expect({ sql, code: err.code, sqlState: err.sqlState }).toEqual({ sql, code: '002003', sqlState: '42S02' });
    }
  });
});

describe('binds and describe-only requests as the other drivers send them', () => {
  it('reads DATE, TIME, TIMESTAMP_NTZ/LTZ/TZ and BINARY binds in their wire encodings', async () => {
    const wire = await wireSession(emu, { databaseName: 'SEM' });
    const r = await wire.query({
      sqlText: `select to_varchar(?) as d, to_varchar(?, 'HH24:MI:SS.FF6') as t, to_varchar(?, 'YYYY-MM-DD HH24:MI:SS.FF6') as ntz,
                to_varchar(?, 'YYYY-MM-DD HH24:MI:SS TZHTZM') as ltz, to_varchar(?) as tz, ? as b`,
      bindings: {
        '1': { type: 'DATE', value: String(Date.UTC(2024, 1, 29)) },
        '2': { type: 'TIME', value: String((13n * 3600n + 5n * 60n + 7n) * 1_000_000_000n + 123_456_000n) },
        '3': { type: 'TIMESTAMP_NTZ', value: '1704164645123456000' }, // 2024-01-02 03:04:05.123456
        '4': { type: 'TIMESTAMP_LTZ', value: '1704164645000000000' },
        '5': { type: 'TIMESTAMP_TZ', value: `1704164645000000000 ${1440 + 330}` }, // +05:30
        '6': { type: 'BINARY', value: 'CAFE01' },
      },
    });
    expect(r.message).toBeNull();
    expect(r.data.rowset).toEqual([
      [
        '2024-02-29',
        '13:05:07.123456',
        '2024-01-02 03:04:05.123456',
        '2024-01-02 03:04:05 +0000',
        '2024-01-02 08:34:05.000 +0530',
        'CAFE01',
      ],
    ]);
  });

  it('describes a statement with unbound markers without running it', async () => {
    await exec(conn, 'create table sem.public.shape (id number(10,0) not null, name varchar(20))');
    const wire = await wireSession(emu, { databaseName: 'SEM' });
    const q = await wire.query({ sqlText: 'select id, name from shape where id = ?', describeOnly: true });
    expect(q.success).toBe(true);
    expect(q.data.rowtype?.map((c) => [c.name, c.type])).toEqual([
      ['ID', 'fixed'],
      ['NAME', 'text'],
    ]);
    const ins = await wire.query({ sqlText: 'insert into shape values (?, ?)', describeOnly: true });
    expect(ins.success).toBe(true);
    expect(await exec(conn, 'select count(*) as n from sem.public.shape')).toEqual([{ N: 0 }]);
  });
});

describe('AUTOCOMMIT', () => {
  const count = async (c: Conn) => (await exec<{ N: number }>(c, 'select count(*) as n from sem.public.ac'))[0].N;

  it('ALTER SESSION SET AUTOCOMMIT = FALSE opens a transaction at the first DML, ended by COMMIT, ROLLBACK or DDL', async () => {
    await exec(conn, 'create or replace table sem.public.ac (a int)');
    const mine = await connect(emu, { database: 'SEM', schema: 'PUBLIC' });
    try {
      await exec(mine, 'alter session set autocommit = false');
      await exec(mine, 'insert into ac values (1)');
      expect(await count(mine)).toBe(1);
      expect(await count(conn)).toBe(0); // not committed
      await exec(mine, 'rollback');
      expect(await count(mine)).toBe(0);
      await exec(mine, 'insert into ac values (2)');
      await exec(mine, 'commit');
      expect(await count(conn)).toBe(1);
      await exec(mine, 'insert into ac values (3)');
      await exec(mine, 'create table ac_other (a int)'); // DDL commits the open transaction
      expect(await count(conn)).toBe(2);
      await exec(mine, 'insert into ac values (4)');
      await exec(mine, 'alter session set autocommit = true'); // turning it on commits
      expect(await count(conn)).toBe(3);
      await exec(mine, 'insert into ac values (5)');
      expect(await count(conn)).toBe(4);
    } finally {
      await destroy(mine);
    }
  });

  it('takes AUTOCOMMIT from the login request and reports it in the session parameters', async () => {
    await exec(conn, 'create or replace table sem.public.ac (a int)');
    const wire = await wireSession(emu, { databaseName: 'SEM', SESSION_PARAMETERS: { AUTOCOMMIT: false } });
    expect(wire.login.data.parameters).toContainEqual({ name: 'AUTOCOMMIT', value: false });
    expect((await wire.query({ sqlText: 'insert into ac values (1)' })).success).toBe(true);
    expect(await count(conn)).toBe(0);
    const commit = await wire.query({ sqlText: 'commit' });
    expect(commit.data.parameters).toContainEqual({ name: 'AUTOCOMMIT', value: false });
    expect(await count(conn)).toBe(1);
  });
});

describe('metadata results', () => {
  it('types OBJECT and ARRAY columns as such, gives VARCHAR(n) its length and NOT NULL columns as non-nullable', async () => {
    await exec(
      conn,
      'create or replace table sem.public.meta (id int not null, name varchar(12), o object, a array, v variant)',
    );
    const wire = await wireSession(emu, { databaseName: 'SEM' });
    for (const describeOnly of [false, true]) {
      const r = await wire.query({ sqlText: 'select id, name, o, a, v from public.meta', describeOnly });
      expect(r.data.rowtype?.map((c) => [c.name, c.type, c.nullable, c.length])).toEqual([
        ['ID', 'fixed', false, null],
        ['NAME', 'text', true, 12],
        ['O', 'object', true, null],
        ['A', 'array', true, null],
        ['V', 'variant', true, null],
      ]);
    }
  });

  it('SHOW COLUMNS IN TABLE lists that table only, with Snowflake data_type objects', async () => {
    await exec(conn, 'create or replace table sem.public.sc (id number(10,0) not null, name varchar(20))');
    await exec(conn, 'create or replace table sem.public.sc2 (other int)');
    const rows = await exec<Record<string, string>>(conn, 'show columns in table sem.public.sc');
    expect(rows.map((r) => [r.table_name, r.column_name, JSON.parse(r.data_type), r['null?']])).toEqual([
      ['SC', 'ID', { type: 'FIXED', precision: 10, scale: 0, nullable: false }, 'false'],
      ['SC', 'NAME', { type: 'TEXT', length: 20, byteLength: 80, nullable: true, fixed: false }, 'true'],
    ]);
  });

  it('sends SHOW created_on with the scale it declares', async () => {
    const wire = await wireSession(emu);
    const r = await wire.query({ sqlText: "show databases like 'SEM'" });
    expect(r.data.rowtype?.[0]).toMatchObject({ name: 'created_on', type: 'timestamp_ltz', scale: 3 });
    expect(r.data.rowset?.[0][0]).toMatch(/^\d+\.\d{3}$/);
  });
});

describe('SQL the drivers and load tools send', () => {
  it("resolves IDENTIFIER('name') and IDENTIFIER(?) as the name they hold", async () => {
    await exec(conn, 'create or replace table sem.public."Ident" (a int)');
    await exec(conn, `insert into identifier('sem.public."Ident"') values (1)`);
    await exec(conn, 'insert into identifier(?) values (2)', ['SEM.PUBLIC."Ident"']);
    expect(await exec(conn, `select sum(a) as s from identifier('sem.public."Ident"')`)).toEqual([{ S: 3 }]);
    expect((await execError(conn, `select * from identifier('sem.public.ident')`)).code).toBe('002003');
  });

  it('reads table stages written @S.%T/path and \'@"S"."%T"/"path"\', and COPY INTO t (columns)', async () => {
    await exec(conn, 'create or replace table sem.public.stg (a int, b varchar)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-stg-'));
    try {
      const file = path.join(dir, 'rows.csv');
      fs.writeFileSync(file, '1,one\n2,two\n');
      await exec(conn, `put 'file://${file}' '@"SEM"."PUBLIC"."%STG"/"in"' auto_compress = true`);
      const listed = await exec<{ name: string }>(conn, 'list @sem.public.%stg/in');
      expect(listed.map((r) => r.name)).toEqual(['in/rows.csv.gz']);
      await exec(conn, `copy into sem.public.stg from @sem.public.%stg/in file_format = (type = csv)`);
      expect(await exec(conn, 'select a, b from sem.public.stg order by a')).toEqual([
        { A: 1, B: 'one' },
        { A: 2, B: 'two' },
      ]);
      // A column list takes the fields in its own order.
      fs.writeFileSync(path.join(dir, 'reversed.csv'), 'three,3\n');
      await exec(conn, `put 'file://${path.join(dir, 'reversed.csv')}' @sem.public.%stg/rev`);
      await exec(conn, `copy into sem.public.stg (b, a) from @sem.public.%stg/rev file_format = (type = csv)`);
      expect(await exec(conn, 'select a, b from sem.public.stg where a = 3')).toEqual([{ A: 3, B: 'three' }]);
      expect(
        (await execError(conn, `copy into sem.public.stg (nope) from @sem.public.%stg/rev force = true`)).code,
      ).toBe('000904');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads X'..' as a BINARY literal", async () => {
    await exec(conn, 'create or replace table sem.public.bin (b binary)');
    await exec(conn, `insert into sem.public.bin values (X'CAFE01')`);
    expect(await exec(conn, `select b = X'cafe01' as same from sem.public.bin`)).toEqual([{ SAME: true }]);
  });
});
