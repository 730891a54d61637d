import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('metadata', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database meta');
    await exec(
      conn,
      `create table meta.public.items (id number(38,0) not null, price number(12,2), name varchar(44), f float,
      b binary, ok boolean, d date, t time, ntz timestamp_ntz, ltz timestamp_ltz, tz timestamp_tz, v variant, o object, a array)`,
    );
    await exec(conn, "insert into meta.public.items (id, name) values (1, 'x'), (2, 'y')");
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('SHOW DATABASES / SCHEMAS / TABLES with rows and bytes', async () => {
    const dbs = await exec(conn, "show databases like 'ME%'");
    expect(dbs.map((r) => r.name)).toEqual(['META']);
    const schemas = await exec(conn, 'show schemas in database meta');
    expect(schemas.map((r) => r.name)).toEqual(['INFORMATION_SCHEMA', 'PUBLIC']);
    const tables = await exec(conn, 'show tables in schema meta.public');
    expect(tables).toHaveLength(1);
    expect(tables[0]).toMatchObject({
      name: 'ITEMS',
      database_name: 'META',
      schema_name: 'PUBLIC',
      kind: 'TABLE',
      rows: 2,
    });
    expect(Number(tables[0].bytes)).toBeGreaterThan(0);
  });

  it('DESC TABLE shows Snowflake types and nullability', async () => {
    const rows = await exec(conn, 'desc table meta.public.items');
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName.ID).toMatchObject({ type: 'NUMBER(38,0)', kind: 'COLUMN', 'null?': 'N', 'primary key': 'N' });
    expect(byName.NAME).toMatchObject({ type: 'VARCHAR(44)', 'null?': 'Y' });
    expect(byName.TZ.type).toBe('TIMESTAMP_TZ(9)');
    expect(byName.O.type).toBe('OBJECT');
  });

  it('INFORMATION_SCHEMA.COLUMNS has Snowflake data types', async () => {
    const rows = await exec(
      conn,
      `select column_name, data_type, numeric_precision, numeric_scale, character_maximum_length, is_nullable, ordinal_position
      from meta.information_schema.columns where table_name = 'ITEMS' order by ordinal_position`,
    );
    expect(rows.map((r) => r.DATA_TYPE)).toEqual([
      'NUMBER',
      'NUMBER',
      'TEXT',
      'FLOAT',
      'BINARY',
      'BOOLEAN',
      'DATE',
      'TIME',
      'TIMESTAMP_NTZ',
      'TIMESTAMP_LTZ',
      'TIMESTAMP_TZ',
      'VARIANT',
      'OBJECT',
      'ARRAY',
    ]);
    expect(rows[1]).toMatchObject({
      COLUMN_NAME: 'PRICE',
      NUMERIC_PRECISION: 12,
      NUMERIC_SCALE: 2,
      IS_NULLABLE: 'YES',
      ORDINAL_POSITION: 2,
    });
    expect(rows[0].IS_NULLABLE).toBe('NO');
    expect(rows[2].CHARACTER_MAXIMUM_LENGTH).toBe(44);
  });

  it('INFORMATION_SCHEMA.TABLES: ROW_COUNT, and LAST_ALTERED moves after DML (even zero-row)', async () => {
    const q = `select row_count, bytes, created, last_altered from meta.information_schema.tables where table_schema = 'PUBLIC' and table_name = 'ITEMS'`;
    const before = (await exec(conn, q))[0];
    expect(before.ROW_COUNT).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    await exec(conn, 'delete from meta.public.items where id = 999');
    const after = (await exec(conn, q))[0];
    expect((after.LAST_ALTERED as Date).getTime()).toBeGreaterThan((before.LAST_ALTERED as Date).getTime());
    expect((after.CREATED as Date).getTime()).toBe((before.CREATED as Date).getTime());
  });

  it("INFORMATION_SCHEMA.TABLES counts every table of the database exactly, in the session's transaction", async () => {
    await exec(conn, 'create database counts');
    await exec(conn, 'create schema counts.other');
    for (const [name, n] of [
      ['counts.public.empty_t', 0],
      ['counts.public.three', 3],
      ['counts.other.seven', 7],
    ] as const) {
      await exec(conn, `create table ${name} (id number)`);
      if (n) await exec(conn, `insert into ${name} select seq4() from table(generator(rowcount => ${n}))`);
    }
    await exec(conn, 'create view counts.public.v as select * from counts.public.three');
    const q = `select table_schema || '.' || table_name as t, table_type, row_count from counts.information_schema.tables order by 1`;
    const table = async () => Object.fromEntries((await exec(conn, q)).map((r) => [r.T, [r.TABLE_TYPE, r.ROW_COUNT]]));
    expect(await table()).toEqual({
      'OTHER.SEVEN': ['BASE TABLE', 7],
      'PUBLIC.EMPTY_T': ['BASE TABLE', 0],
      'PUBLIC.THREE': ['BASE TABLE', 3],
      'PUBLIC.V': ['VIEW', null],
    });
    await exec(conn, 'begin');
    await exec(conn, 'insert into counts.public.empty_t values (1), (2)');
    expect((await table())['PUBLIC.EMPTY_T']).toEqual(['BASE TABLE', 2]);
    await exec(conn, 'rollback');
    expect((await table())['PUBLIC.EMPTY_T']).toEqual(['BASE TABLE', 0]);
  });

  it('INFORMATION_SCHEMA.TABLES sizes, however a statement reads them, and without them', async () => {
    const from = `from meta.information_schema.tables where table_name = 'ITEMS'`;
    const one = async (sql: string) => (await exec(conn, sql))[0];
    expect(await one(`select * ${from}`)).toMatchObject({ ROW_COUNT: 2, TABLE_TYPE: 'BASE TABLE' });
    expect(await one(`select t.* ${from.replace('tables', 'tables t')}`)).toMatchObject({ ROW_COUNT: 2 });
    expect(await one(`select "ROW_COUNT" as n, Bytes as b ${from}`)).toEqual({ N: 2, B: expect.any(Number) });
    expect((await one(`select bytes ${from}`)).BYTES).toBeGreaterThan(0);
    expect(await one(`select table_name ${from} and row_count = 2`)).toEqual({ TABLE_NAME: 'ITEMS' });
    const plain = await one(`select table_schema, table_name, table_type, created, last_altered ${from}`);
    expect(plain).toMatchObject({ TABLE_SCHEMA: 'PUBLIC', TABLE_NAME: 'ITEMS', TABLE_TYPE: 'BASE TABLE' });
    expect((plain.LAST_ALTERED as Date).getTime()).toBe(
      ((await one(`select * ${from}`)).LAST_ALTERED as Date).getTime(),
    );
  });

  it('INFORMATION_SCHEMA.TABLES keeps odd names exactly, and its columns and their types when it has no rows', async () => {
    await exec(conn, 'create database odd');
    const name = `it's "q" \\ é`;
    await exec(conn, `create table odd.public."it's ""q"" \\ é" (id number)`);
    const rows = await exec(conn, `select table_name, row_count from odd.information_schema.tables`);
    expect(rows).toEqual([{ TABLE_NAME: name, ROW_COUNT: 0 }]);
    await exec(conn, 'create database nothing');
    const columns = await new Promise<{ name: string; type: string }[]>((resolve, reject) =>
      conn.execute({
        sqlText: 'select * from nothing.information_schema.tables',
        complete: (err, stmt, got) =>
          err
            ? reject(err)
            : got?.length
              ? reject(new Error('rows in an empty database'))
              : resolve((stmt.getColumns() ?? []).map((c) => ({ name: c.getName(), type: c.getType() }))),
      }),
    );
    expect(columns.map((c) => c.name)).toEqual([
      'TABLE_CATALOG',
      'TABLE_SCHEMA',
      'TABLE_NAME',
      'TABLE_OWNER',
      'TABLE_TYPE',
      'IS_TRANSIENT',
      'CLUSTERING_KEY',
      'ROW_COUNT',
      'BYTES',
      'RETENTION_TIME',
      'CREATED',
      'LAST_ALTERED',
      'LAST_DDL',
      'AUTO_CLUSTERING_ON',
      'COMMENT',
    ]);
    expect(columns.find((c) => c.name === 'ROW_COUNT')?.type).toBe('fixed');
    expect(columns.find((c) => c.name === 'LAST_ALTERED')?.type).toBe('timestamp_ltz');
  });

  it('persists databases and metadata across restarts', async () => {
    const dataDir = emu.dataDir;
    await destroy(conn);
    await emu.close();
    emu = await startTestEmulator({ dataDir });
    conn = await connect(emu, { database: 'meta' });
    expect(await exec(conn, 'select count(*) as n from items')).toEqual([{ N: 2 }]);
    const rows = await exec(
      conn,
      "select character_maximum_length as l from information_schema.columns where column_name = 'NAME'",
    );
    expect(rows).toEqual([{ L: 44 }]);
  });
});
