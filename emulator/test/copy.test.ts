import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnowflakeError } from '../src/errors.js';
import { seedTpch, tpchSchemaName, TPCH_TABLES, type TpchColumn } from '../src/tpch.js';
import { createHarness, type Harness } from './stages.harness.js';

async function sfError(p: Promise<unknown>): Promise<SnowflakeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SnowflakeError);
  return err as SnowflakeError;
}

describe('COPY INTO (handler against DuckDB)', () => {
  let h: Harness;
  let stageDir: string;
  const files = (sub: string): string[] => {
    const dir = path.join(stageDir, sub);
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  };

  beforeAll(async () => {
    h = await createHarness();
    await h.conn.run(`CREATE TABLE "DB"."PUBLIC"."SRC" AS
      SELECT i::BIGINT AS "ID", (i * 1.25)::DECIMAL(38,2) AS "AMOUNT", 12345678901234567890123456789012345678::HUGEINT + i AS "BIG",
             CASE WHEN i % 10 = 0 THEN NULL ELSE 'name ' || i END AS "NAME", DATE '2024-01-01' + i::INT AS "D",
             TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) AS "TS"
      FROM range(1000) r(i)`);
    await h.run('CREATE STAGE un');
    stageDir = path.join(h.dataDir, 'stages/named/DB/PUBLIC/UN/files');
  });
  afterAll(() => h.close());

  it('unloads to Parquet with Snowflake names, decimals kept exactly', async () => {
    const out = await h.rows(
      'COPY INTO @un/p1/ FROM (SELECT ID, AMOUNT, BIG, NAME, D FROM SRC) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE',
    );
    expect(out).toHaveLength(1);
    expect(out[0].rows_unloaded).toBe('1000');
    expect(Number(out[0].output_bytes)).toBeGreaterThan(0);
    expect(Number(out[0].input_bytes)).toBeGreaterThan(0);
    expect(files('p1')).toEqual(['data_0_0_0.snappy.parquet']);
    const f = path.join(stageDir, 'p1', 'data_0_0_0.snappy.parquet');
    const schema = await h.query(
      `SELECT name, type, logical_type FROM parquet_schema('${f}') WHERE name <> 'duckdb_schema'`,
    );
    expect(schema.map((r) => r.name)).toEqual(['ID', 'AMOUNT', 'BIG', 'NAME', 'D']);
    expect(String(schema[2].logical_type)).toContain('precision=38');
    const rows = await h.query(
      `SELECT count(*) n, sum("AMOUNT")::VARCHAR s, max("BIG")::VARCHAR b, count("NAME") nn FROM '${f}'`,
    );
    expect(rows[0]).toEqual({ n: '1000', s: '624375.00', b: '12345678901234567890123456789012346677', nn: '900' });
  });

  it('without HEADER, Parquet columns get generic names _COL_<i>', async () => {
    await h.run(
      'COPY INTO @un/p2/part FROM (SELECT ID, NAME FROM SRC) FILE_FORMAT = (TYPE = PARQUET COMPRESSION = NONE)',
    );
    expect(files('p2')).toEqual(['part_0_0_0.parquet']);
    const schema = await h.query(
      `SELECT name FROM parquet_schema('${path.join(stageDir, 'p2/part_0_0_0.parquet')}') WHERE name <> 'duckdb_schema'`,
    );
    expect(schema.map((r) => r.name)).toEqual(['_COL_0', '_COL_1']);
  });

  it('unloads to gzipped CSV with \\N for NULL and the requested delimiter', async () => {
    const out = await h.rows(
      "COPY INTO @un/c1/ FROM SRC FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '|') HEADER = TRUE",
    );
    expect(out[0].rows_unloaded).toBe('1000');
    expect(files('c1')).toEqual(['data_0_0_0.csv.gz']);
    const f = path.join(stageDir, 'c1/data_0_0_0.csv.gz');
    const rows = await h.query(
      `SELECT * FROM read_csv('${f}', delim='|', header=true, all_varchar=true, nullstr='\\N') ORDER BY "ID"::INT LIMIT 2`,
    );
    expect(rows[0]).toMatchObject({ ID: '0', AMOUNT: '0.00', NAME: null, D: '2024-01-01' });
    expect(rows[1]).toMatchObject({ ID: '1', AMOUNT: '1.25', NAME: 'name 1' });
    expect(Number(out[0].input_bytes)).toBeGreaterThan(Number(out[0].output_bytes));
  });

  it('splits an unload into several files at MAX_FILE_SIZE, and SINGLE writes exactly one named file', async () => {
    await h.conn.run(
      `CREATE TABLE "DB"."PUBLIC"."WIDE" AS SELECT i AS "ID", md5(i::VARCHAR) || md5((i*7)::VARCHAR) AS "PAD" FROM range(300000) r(i)`,
    );
    const out = await h.rows(
      'COPY INTO @un/m/ FROM WIDE FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) MAX_FILE_SIZE = 4000000',
    );
    const names = files('m');
    expect(names.length).toBeGreaterThan(3);
    expect(names).toContain('data_0_0_1.csv');
    expect(names.every((n) => /^data_0_0_\d+\.csv$/.test(n))).toBe(true);
    const total = await h.query(
      `SELECT count(*) n, count(DISTINCT column0) d FROM read_csv('${path.join(stageDir, 'm')}/*.csv', header=false)`,
    );
    expect(total[0]).toEqual({ n: '300000', d: '300000' });
    expect(out[0].rows_unloaded).toBe('300000');

    await h.run('COPY INTO @un/s/all.csv.gz FROM WIDE SINGLE = TRUE MAX_FILE_SIZE = 100000000');
    expect(files('s')).toEqual(['all.csv.gz']);
    const err = await sfError(h.run('COPY INTO @un/s2/one FROM WIDE SINGLE = TRUE MAX_FILE_SIZE = 1000000'));
    expect(err.message).toContain('Max file size (1000000) exceeded for unload single file mode');
    expect(files('s2')).toEqual([]);
  });

  it('refuses TIMESTAMP_TZ in Parquet but unloads it to CSV', async () => {
    const err = await sfError(h.run('COPY INTO @un/tz/ FROM (SELECT ID, TS FROM SRC) FILE_FORMAT = (TYPE = PARQUET)'));
    expect(err.code).toBe('002102');
    expect(err.message).toContain("column 'TS'");
    expect(files('tz')).toEqual([]);
    const out = await h.rows('COPY INTO @un/tzcsv/ FROM (SELECT ID, TS FROM SRC) FILE_FORMAT = (TYPE = CSV)');
    expect(out[0].rows_unloaded).toBe('1000');
  });

  it('round-trips TIMESTAMP_TZ (stored as a {utc, offset_minutes} struct) through CSV with its offset', async () => {
    await h.conn.run(
      `CREATE TABLE "DB"."PUBLIC"."TZ" ("ID" INT, "T" STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT))`,
    );
    await h.conn.run(
      `INSERT INTO "DB"."PUBLIC"."TZ" VALUES (1, __SF_TSTZ('2024-05-01 10:30:00.123456 +01:30')), (2, __SF_TSTZ('2024-05-01 23:00:00 -08:00')), (3, NULL)`,
    );
    await h.run('COPY INTO @un/tzrt/ FROM TZ FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)');
    const text = fs.readFileSync(path.join(stageDir, 'tzrt/data_0_0_0.csv'), 'utf8').trim().split('\n').sort();
    expect(text).toEqual(['1,2024-05-01 10:30:00.123456 +0130', '2,2024-05-01 23:00:00.000000 -0800', '3,\\N']);
    await h.conn.run(`CREATE TABLE "DB"."PUBLIC"."TZ2" AS SELECT * FROM "DB"."PUBLIC"."TZ" WHERE false`);
    await h.run('COPY INTO tz2 FROM @un/tzrt/ FILE_FORMAT = (TYPE = CSV)');
    const back = await h.query(
      `SELECT count(*) n FROM (SELECT * FROM "DB"."PUBLIC"."TZ" EXCEPT SELECT * FROM "DB"."PUBLIC"."TZ2")`,
    );
    expect(back[0].n).toBe('0');
  });

  it('refuses to overwrite earlier unload files unless OVERWRITE = TRUE; writes no file for 0 rows', async () => {
    const err = await sfError(h.run('COPY INTO @un/p1/ FROM (SELECT ID FROM SRC) FILE_FORMAT = (TYPE = PARQUET)'));
    expect(err.message).toBe(
      'Files already existing at the unload destination: @un/p1/. Use overwrite option to force unloading.',
    );
    const out = await h.rows(
      'COPY INTO @un/p1/ FROM (SELECT ID FROM SRC WHERE ID < 5) FILE_FORMAT = (TYPE = PARQUET) OVERWRITE = TRUE',
    );
    expect(out[0].rows_unloaded).toBe('5');
    const empty = await h.rows(
      'COPY INTO @un/none/ FROM (SELECT ID FROM SRC WHERE false) FILE_FORMAT = (TYPE = PARQUET)',
    );
    expect(empty[0]).toEqual({ rows_unloaded: '0', input_bytes: '0', output_bytes: '0' });
    expect(files('none')).toEqual([]);
  });

  it('loads CSV into a table with casts, NULL_IF and SKIP_HEADER; history skips, FORCE reloads', async () => {
    await h.conn.run(
      'CREATE TABLE "DB"."PUBLIC"."TGT" ("ID" BIGINT, "AMOUNT" DECIMAL(12,2), "NAME" VARCHAR, "D" DATE)',
    );
    await h.run('CREATE STAGE ld');
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-load-'));
    fs.writeFileSync(path.join(local, 'a.csv'), 'id,amount,name,d\n1,1.50,"x, y",2024-02-01\n2,NULL,,2024-02-02\n');
    fs.writeFileSync(path.join(local, 'b.csv'), 'id,amount,name,d\n3,3.25,z,2024-02-03\n');
    await h.transfer(`PUT file://${local}/*.csv @ld/in/`);
    const ff = "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('NULL'))";
    const out = await h.rows(`COPY INTO tgt FROM @ld/in/ ${ff}`);
    expect(out).toEqual([
      {
        file: 'ld/in/a.csv.gz',
        status: 'LOADED',
        rows_parsed: '2',
        rows_loaded: '2',
        error_limit: '1',
        errors_seen: '0',
        first_error: null,
        first_error_line: null,
        first_error_character: null,
        first_error_column_name: null,
      },
      {
        file: 'ld/in/b.csv.gz',
        status: 'LOADED',
        rows_parsed: '1',
        rows_loaded: '1',
        error_limit: '1',
        errors_seen: '0',
        first_error: null,
        first_error_line: null,
        first_error_character: null,
        first_error_column_name: null,
      },
    ]);
    expect(h.touched).toContain('DB.PUBLIC.TGT');
    const rows = await h.query(
      'SELECT "ID"::VARCHAR id, "AMOUNT"::VARCHAR amount, "NAME" AS name, "D"::VARCHAR d FROM "DB"."PUBLIC"."TGT" ORDER BY 1',
    );
    expect(rows).toEqual([
      { id: '1', amount: '1.50', name: 'x, y', d: '2024-02-01' },
      { id: '2', amount: null, name: null, d: '2024-02-02' },
      { id: '3', amount: '3.25', name: 'z', d: '2024-02-03' },
    ]);

    expect(await h.rows(`COPY INTO tgt FROM @ld/in/ ${ff}`)).toEqual([
      { status: 'Copy executed with 0 files processed.' },
    ]);
    const forced = await h.rows(`COPY INTO tgt FROM @ld/in/ FILES = ('b.csv.gz') ${ff} FORCE = TRUE`);
    expect(forced.map((r) => r.file)).toEqual(['ld/in/b.csv.gz']);
    expect((await h.query('SELECT count(*) n FROM "DB"."PUBLIC"."TGT"'))[0].n).toBe('4');

    // A changed file under the same name is loaded again (its MD5 differs).
    fs.writeFileSync(path.join(local, 'a.csv'), 'id,amount,name,d\n9,9.00,new,2024-03-01\n');
    await h.transfer(`PUT file://${local}/a.csv @ld/in/ OVERWRITE = TRUE`);
    const again = await h.rows(`COPY INTO tgt FROM @ld/in/ PATTERN = '.*a[.]csv[.]gz' ${ff}`);
    expect(again.map((r) => [r.file, r.rows_loaded])).toEqual([['ld/in/a.csv.gz', '1']]);

    const bad = path.join(local, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'c.csv'), 'id,amount,name,d\n10,abc,q,2024-01-01\n');
    await h.transfer(`PUT file://${bad}/c.csv @ld/bad/`);
    const err = await sfError(h.run(`COPY INTO tgt FROM @ld/bad/ ${ff}`));
    expect(err.code).toBe('100038');
    expect((await h.query('SELECT count(*) n FROM "DB"."PUBLIC"."TGT"'))[0].n).toBe('5');
  });

  it('loads Parquet by column name (case-insensitive) and PURGE removes the loaded files', async () => {
    await h.run(
      'COPY INTO @un/rt/ FROM (SELECT ID, AMOUNT, NAME, D FROM SRC) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE MAX_FILE_SIZE = 5000',
    );
    await h.conn.run(
      'CREATE TABLE "DB"."PUBLIC"."BACK" ("name" VARCHAR, "ID" DECIMAL(38,0), "AMOUNT" DECIMAL(38,2), "EXTRA" INT)',
    );
    const refused = await sfError(h.run('COPY INTO back FROM @un/rt/ FILE_FORMAT = (TYPE = PARQUET)'));
    expect(refused.code).toBe('002019');
    const out = await h.rows(
      'COPY INTO back FROM @un/rt/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE',
    );
    expect(out.reduce((s, r) => s + Number(r.rows_loaded), 0)).toBe(1000);
    expect(out.every((r) => r.status === 'LOADED')).toBe(true);
    const rows = await h.query(
      'SELECT count(*) n, sum("AMOUNT")::VARCHAR s, count("name") nn, count("EXTRA") extra FROM "DB"."PUBLIC"."BACK"',
    );
    expect(rows[0]).toEqual({ n: '1000', s: '624375.00', nn: '900', extra: '0' });
    expect(files('rt')).toEqual([]);
  });

  it('seeds TPC-H at a tiny scale with Snowflake names and types, idempotently', async () => {
    const registered: Record<string, TpchColumn[]> = {};
    const opts = {
      scale: 0.01,
      async ensureSchema(db: string, schema: string) {
        await h.conn.run(`ATTACH IF NOT EXISTS ':memory:' AS "${db}"`);
        await h.conn.run(`CREATE SCHEMA IF NOT EXISTS "${db}"."${schema}"`);
        return `"${db}"."${schema}"`;
      },
      async register(_db: string, _schema: string, table: string, columns: TpchColumn[]) {
        registered[table] = columns;
      },
    };
    const first = await seedTpch(h.conn, opts);
    expect(first.schema).toBe('TPCH_SF0_01');
    expect(first.created.sort()).toEqual(Object.keys(TPCH_TABLES).sort());
    expect(registered.LINEITEM.find((c) => c.name === 'L_COMMENT')?.snowflakeType).toBe('VARCHAR(44)');
    const q = '"SNOWFLAKE_SAMPLE_DATA"."TPCH_SF0_01"';
    const counts = await h.query(`SELECT (SELECT count(*) FROM ${q}."REGION") r, (SELECT count(*) FROM ${q}."NATION") n,
      (SELECT count(*) FROM ${q}."ORDERS") o, (SELECT count(*) FROM ${q}."CUSTOMER") c`);
    expect(counts[0]).toEqual({ r: '5', n: '25', o: '15000', c: '1500' });
    const types = await h.query(`SELECT column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_catalog = 'SNOWFLAKE_SAMPLE_DATA' AND table_name = 'LINEITEM' ORDER BY ordinal_position`);
    expect(types.slice(0, 5).map((t) => `${t.column_name} ${t.data_type} ${t.is_nullable}`)).toEqual([
      'L_ORDERKEY DECIMAL(38,0) NO',
      'L_PARTKEY DECIMAL(38,0) NO',
      'L_SUPPKEY DECIMAL(38,0) NO',
      'L_LINENUMBER DECIMAL(38,0) NO',
      'L_QUANTITY DECIMAL(12,2) NO',
    ]);
    expect(types.find((t) => t.column_name === 'L_SHIPDATE')?.data_type).toBe('DATE');
    const second = await seedTpch(h.conn, opts);
    expect(second.created).toEqual([]);
    expect(tpchSchemaName(1)).toBe('TPCH_SF1');
  });
});
