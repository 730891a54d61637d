/**
 * What the loaders (the Python connector's write_pandas, dlt) need of the emulator, each driven here with
 * snowflake-sdk or raw protocol requests: named file formats, INFER_SCHEMA over staged Parquet, binds and
 * IDENTIFIER() in stage statements, a quoted stage in a COPY transformation, Parquet COMPRESSION = GZIP, JSON
 * loads by column name, and one statement under MULTI_STATEMENT_COUNT = 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, suiteEmulator, wireSession, type Conn } from './helpers.js';

const emu = suiteEmulator();
let conn: Conn;
let local: string;
beforeAll(async () => {
  conn = await connect(emu());
  await exec(conn, 'create database loads');
  await exec(conn, 'use schema loads.public');
  local = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-loads-'));
});
afterAll(async () => {
  await destroy(conn);
  fs.rmSync(local, { recursive: true, force: true });
});

describe('named file formats', () => {
  it('creates, refuses a duplicate, shadows with a temporary one, refuses unknown options and drops', async () => {
    expect(await exec(conn, 'create file format ff type = parquet compression = auto')).toEqual([
      { status: 'File format FF successfully created.' },
    ]);
    expect((await execError(conn, 'create file format ff type = parquet')).code).toBe('002002');
    expect(await exec(conn, 'create file format if not exists ff type = csv')).toEqual([
      { status: 'FF already exists, statement succeeded.' },
    ]);
    await exec(conn, 'create temporary file format ff type = csv');
    expect((await execError(conn, 'create file format bad type = parquet sheets = 1')).code).toBe('002040');
    expect((await execError(conn, 'create file format bad type = xml')).code).toBe('002040');
    await exec(conn, 'drop file format ff'); // the temporary one
    await exec(conn, 'drop file format ff');
    expect((await execError(conn, 'drop file format ff')).code).toBe('002003');
    expect(await exec(conn, 'drop file format if exists ff')).toEqual([
      { status: 'Drop statement executed successfully (FF already dropped).' },
    ]);
  });
});

describe('INFER_SCHEMA and COPY transformations from a quoted stage', () => {
  it('infers Snowflake types from staged Parquet, and the inferred expressions load the files back', async () => {
    await exec(
      conn,
      'create table src (i int, f float, n number(10,2), s varchar, b boolean, d date, ts timestamp_ntz, v variant)',
    );
    await exec(
      conn,
      `insert into src select 1, 1.5, 12.34, 'héllo', true, '2024-02-29', '2024-01-02 03:04:05.123456', parse_json('{"a":[1]}')
       union all select 2, null, null, null, null, null, null, null`,
    );
    await exec(conn, 'create stage st file_format = (type = parquet compression = gzip)');
    await exec(conn, 'copy into @st/p/ from src file_format = (type = parquet compression = snappy) header = true');
    await exec(conn, 'create temp file format pq type = parquet');
    const inferred = await exec(
      conn,
      `select column_name, type, nullable, expression, order_id
       from table(infer_schema(location => '@st/p/', file_format => ?)) order by order_id`,
      ['pq'],
    );
    expect(inferred.map((r) => [r.COLUMN_NAME, r.TYPE])).toEqual([
      ['I', 'NUMBER(38, 0)'],
      ['F', 'REAL'],
      ['N', 'NUMBER(10, 2)'],
      ['S', 'TEXT'],
      ['B', 'BOOLEAN'],
      ['D', 'DATE'],
      ['TS', 'TIMESTAMP_NTZ(6)'],
      ['V', 'VARIANT'],
    ]);
    expect(inferred[0]).toMatchObject({ NULLABLE: true, EXPRESSION: '$1:"I"::NUMBER(38, 0)', ORDER_ID: 0 });

    const columns = inferred.map((r) => `"${String(r.COLUMN_NAME)}" ${String(r.TYPE)}`).join(', ');
    await exec(conn, `create table back (${columns})`);
    const loaded = await exec(
      conn,
      `copy into back from (select ${inferred.map((r) => String(r.EXPRESSION)).join(', ')} from '@"LOADS"."PUBLIC"."ST"/p/')`,
    );
    expect(loaded.map((r) => r.rows_loaded)).toEqual([2]);
    const compare = `select count(*) as n from (select i, f, n, s, b, d, ts from src
      except select "I", "F", "N", "S", "B", "D", "TS" from back)`;
    expect(await exec(conn, compare)).toEqual([{ N: 0 }]);

    expect((await execError(conn, "select * from table(infer_schema(location => '@st/p/'))")).code).toBe('001003');
    const missing = await execError(conn, "select * from table(infer_schema(location => '@st', file_format => 'no'))");
    expect(missing.code).toBe('002003');
    const empty = await exec(
      conn,
      "select count(*) as n from table(infer_schema(location => '@st/none/', file_format => 'pq'))",
    );
    expect(empty).toEqual([{ N: 0 }]);
    expect((await execError(conn, 'copy into @st/gz/ from src file_format = (type = parquet)')).code).toBe('002040');
  });

  it('substitutes binds and expands IDENTIFIER() in stage statements', async () => {
    await exec(conn, 'create temporary stage identifier(?)', ['"LOADS"."PUBLIC"."BOUND"']);
    await exec(conn, 'copy into @bound/ from (select 7 as k) file_format = (type = parquet) header = true');
    await exec(conn, 'create table kt (k int)');
    const out = await exec(
      conn,
      'copy into identifier(?) from @bound file_format = (type = parquet) match_by_column_name = case_insensitive on_error = ?',
      ['kt', 'abort_statement'],
    );
    expect(out.map((r) => r.status)).toEqual(['LOADED']);
    expect(await exec(conn, 'select k from kt')).toEqual([{ K: 7 }]);
    // A bound value is a value: its backslashes and quotes are the pattern's, not statement syntax.
    const listed = await exec(conn, 'list @bound pattern = ?', ['.*\\.parquet']);
    expect(listed.map((r) => r.name)).toEqual(['bound/data_0_0_0.snappy.parquet']);
    expect(await exec(conn, 'list @bound pattern = ?', ["x\\' pattern = '.*"])).toEqual([]);
  });
});

describe('JSON loads', () => {
  it('loads JSON records by column name: nested values as VARIANT, BINARY_FORMAT, missing keys NULL', async () => {
    await exec(conn, 'create table j ("id" int, "Name" varchar, meta variant, raw binary, ts timestamp_ntz)');
    const lines = [
      { id: 1, name: 'Ada', meta: { tags: ['x'], n: 1 }, raw: 'AAE=', ts: '2024-01-02T03:04:05.5' },
      { id: 2, NAME: 'Grace', extra: true },
    ];
    fs.writeFileSync(path.join(local, 'j.jsonl.gz'), zlib.gzipSync(lines.map((l) => JSON.stringify(l)).join('\n')));
    await exec(conn, `put file://${local}/j.jsonl.gz @%j/in auto_compress = false`);
    const refused = await execError(conn, "copy into j from @%j/in file_format = (type = 'JSON')");
    expect(refused.code).toBe('002019');
    const out = await exec(
      conn,
      `copy into j from @%j/in file_format = (type = 'JSON' binary_format = 'BASE64')
       match_by_column_name = 'CASE_INSENSITIVE'`,
    );
    expect(out.map((r) => [r.file, r.rows_loaded])).toEqual([['in/j.jsonl.gz', 2]]);
    const rows = await exec(conn, `select "id", "Name", meta:n::int as n, raw, to_varchar(ts) as ts from j order by 1`);
    const hex = (b: unknown) => (b === null ? null : Buffer.from(b as Uint8Array).toString('hex'));
    expect(rows.map((r) => ({ ...r, RAW: hex(r.RAW) }))).toEqual([
      { id: 1, Name: 'Ada', N: 1, RAW: '0001', TS: '2024-01-02 03:04:05.5' },
      { id: 2, Name: 'Grace', N: null, RAW: null, TS: null },
    ]);
  });

  it('reads one outer array per file with STRIP_OUTER_ARRAY, and matches case-sensitively when asked', async () => {
    await exec(conn, 'create table ja ("id" int, "ID" int)');
    fs.writeFileSync(path.join(local, 'a.json'), JSON.stringify([{ id: 1 }, { ID: 2 }, { id: 3, ID: 4 }]));
    await exec(conn, `put file://${local}/a.json @%ja auto_compress = false`);
    await exec(
      conn,
      `copy into ja from @%ja file_format = (type = json strip_outer_array = true compression = none)
       match_by_column_name = case_sensitive`,
    );
    expect(await exec(conn, 'select "id", "ID" from ja order by 1, 2')).toEqual([
      { id: 1, ID: null },
      { id: 3, ID: 4 },
      { id: null, ID: 2 },
    ]);
    expect((await execError(conn, 'copy into @~/j/ from ja file_format = (type = json)')).code).toBe('002040');
  });
});

describe('MULTI_STATEMENT_COUNT = 0', () => {
  it('answers one statement as a single statement, several as a multi-statement result', async () => {
    const wire = await wireSession(emu());
    const one = await wire.query({ sqlText: 'select 1 as a', parameters: { MULTI_STATEMENT_COUNT: 0 } });
    expect(one.data.resultIds).toBeUndefined();
    expect(one.data.rowset).toEqual([['1']]);
    const two = await wire.query({ sqlText: 'select 1; select 2', parameters: { MULTI_STATEMENT_COUNT: 0 } });
    expect(String(two.data.resultIds).split(',')).toHaveLength(2);
  });
});
