/**
 * The emulator's sandbox, attacked through the real snowflake-sdk: DuckDB file readers, table
 * functions, replacement scans, ATTACH, COPY TO, INSTALL/LOAD, SET/PRAGMA and multi-statement
 * payloads in every position a relation can take. Each must fail with Snowflake's error code,
 * leave no file behind and return no row of a secret file; the legitimate stage paths keep working.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

/** Snowflake's codes for refused constructs. */
const SYNTAX = '001003';
const UNKNOWN_FUNCTION = '002140';
const UNSUPPORTED = '002040';
const DOES_NOT_EXIST = '002003';
const STATEMENT_COUNT = '000008';

const SQLSTATE: Record<string, string> = {
  [SYNTAX]: '42000',
  [UNKNOWN_FUNCTION]: '42601',
  [UNSUPPORTED]: '0A000',
  [DOES_NOT_EXIST]: '42S02',
  [STATEMENT_COUNT]: '0A000',
};

let emu: TestEmulator;
let conn: Conn;
/** Host directory outside the emulator's data directory: the attacks' targets. */
let hostDir: string;
let secretCsv: string;
let secretText: string;
const secret = `s3cr3t-${randomUUID()}`;

/** Every file under `dir`, recursively (relative paths). */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

beforeAll(async () => {
  emu = await startTestEmulator();
  hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sandbox-'));
  secretCsv = path.join(hostDir, 'secret.csv');
  secretText = path.join(hostDir, 'secret.txt');
  fs.writeFileSync(secretCsv, `A,B\n1,${secret}\n`);
  fs.writeFileSync(secretText, secret);
  conn = await connect(emu);
  await exec(conn, 'CREATE DATABASE SBX');
  await exec(conn, 'CREATE TABLE T (A INT, B VARCHAR)');
  await exec(conn, `INSERT INTO T VALUES (1, 'one')`);
});

afterAll(async () => {
  await destroy(conn);
  await emu.close();
  fs.rmSync(hostDir, { recursive: true, force: true });
  fs.rmSync(emu.dataDir, { recursive: true, force: true });
});

/** Runs `sql`, expects Snowflake error `code` (with its SQLSTATE) and no trace of the secret. */
async function refused(sql: string, code: string): Promise<void> {
  const before = filesUnder(hostDir);
  const err = await execError(conn, sql);
  expect({ sql, code: err.code, sqlState: err.sqlState }).toEqual({ sql, code, sqlState: SQLSTATE[code] });
  expect(err.message).not.toContain(secret);
  expect(filesUnder(hostDir)).toEqual(before);
}

/** Table-valued payloads, each with the code it earns wherever a relation may stand. */
function payloads(): [string, string][] {
  const q = (p: string) => `'${p}'`;
  return [
    [q(secretCsv), SYNTAX], // replacement scan of a string literal
    [`"${secretCsv}"`, DOES_NOT_EXIST], // replacement scan of a quoted identifier
    [`"${path.join(emu.dataDir, 'catalog.json')}"`, DOES_NOT_EXIST], // ... inside the data directory
    [`read_csv(${q(secretCsv)})`, UNKNOWN_FUNCTION],
    [`read_csv_auto(${q(secretCsv)})`, UNKNOWN_FUNCTION],
    [`read_text(${q(secretText)})`, UNKNOWN_FUNCTION],
    [`read_blob(${q(secretText)})`, UNKNOWN_FUNCTION],
    [`read_json_auto(${q(secretText)})`, UNKNOWN_FUNCTION],
    [`read_parquet(${q(secretText)})`, UNKNOWN_FUNCTION],
    [`glob(${q(`${hostDir}/*`)})`, UNKNOWN_FUNCTION],
    [`sniff_csv(${q(secretCsv)})`, UNKNOWN_FUNCTION],
    [`parquet_metadata(${q(secretText)})`, UNKNOWN_FUNCTION],
    [`query_table('T')`, UNKNOWN_FUNCTION],
    [`query('SELECT 1')`, UNKNOWN_FUNCTION],
    [`duckdb_settings()`, UNKNOWN_FUNCTION],
    [`pragma_database_list()`, UNKNOWN_FUNCTION],
    [`iceberg_scan(${q(hostDir)})`, UNKNOWN_FUNCTION],
    [`main.read_csv(${q(secretCsv)})`, UNKNOWN_FUNCTION],
    [`TABLE(read_text(${q(secretText)}))`, UNSUPPORTED],
    [`REPEAT('a', 2)`, UNSUPPORTED], // a Snowflake function, but a DuckDB table function in FROM
    ['duckdb_databases', DOES_NOT_EXIST], // DuckDB's system views
    ['system.main.duckdb_settings', DOES_NOT_EXIST],
    ['memory.main.T', DOES_NOT_EXIST],
    ['@~/secret.csv', UNSUPPORTED],
  ];
}

/** Every position a relation can take, with `<R>` for the payload. */
const POSITIONS = [
  'SELECT * FROM <R>',
  'SELECT * FROM T JOIN <R> ON TRUE',
  'SELECT * FROM T LEFT OUTER JOIN <R> ON TRUE',
  'SELECT * FROM T, <R>',
  'SELECT * FROM (T CROSS JOIN <R>)',
  'SELECT * FROM (SELECT * FROM <R>)',
  'SELECT (SELECT COUNT(*) FROM <R>)',
  'SELECT * FROM T WHERE EXISTS (SELECT 1 FROM <R>)',
  'SELECT * FROM T WHERE A IN (SELECT 1 FROM <R>)',
  'SELECT COALESCE((SELECT 1 FROM <R>), 0)',
  'WITH c AS (SELECT * FROM <R>) SELECT * FROM c',
  'WITH c AS (SELECT 1) SELECT * FROM c, <R>',
  'SELECT A FROM T UNION ALL SELECT * FROM <R>',
  'SELECT A FROM T UNION ALL FROM <R>',
  'INSERT INTO T SELECT * FROM <R>',
  'CREATE TABLE X AS SELECT * FROM <R>',
  'CREATE VIEW V AS SELECT * FROM <R>',
  'MERGE INTO T USING <R> AS s ON T.A = s.A WHEN MATCHED THEN DELETE',
  'MERGE INTO T USING (SELECT * FROM <R>) AS s ON T.A = s.A WHEN MATCHED THEN DELETE',
  'UPDATE T SET A = 2 FROM <R>',
  'DELETE FROM T USING <R>',
  'COPY INTO @~/unload/x FROM (SELECT * FROM <R>)',
];

describe('emulator sandbox: relations', () => {
  it('refuses file readers, table functions, replacement scans and DuckDB catalogs in every relation position', async () => {
    for (const position of POSITIONS) {
      for (const [payload, code] of payloads()) await refused(position.replace('<R>', payload), code);
    }
    // Nothing was written, and the table is as it was.
    expect(await exec(conn, 'SELECT A, B FROM T ORDER BY A')).toEqual([{ A: 1, B: 'one' }]);
    expect(await exec(conn, `SHOW TABLES LIKE 'X'`)).toEqual([]);
    expect(await exec(conn, `SHOW VIEWS LIKE 'V'`)).toEqual([]);
  });

  it('refuses the data directory by path too (staged files are reached through COPY INTO only)', async () => {
    const local = path.join(hostDir, 'staged.csv');
    fs.writeFileSync(local, `9,${secret}\n`);
    await exec(conn, `PUT file://${local} @~/in AUTO_COMPRESS=FALSE`);
    fs.rmSync(local);
    const staged = path.join(emu.dataDir, 'stages', 'user', 'files', 'in', 'staged.csv');
    expect(fs.existsSync(staged)).toBe(true);
    await refused(`SELECT * FROM '${staged}'`, SYNTAX);
    await refused(`SELECT * FROM "${staged}"`, DOES_NOT_EXIST);
    await refused(`SELECT * FROM read_csv('${staged}')`, UNKNOWN_FUNCTION);
    await refused(`SELECT * FROM (DESCRIBE "${staged}")`, SYNTAX);
    await refused(`SELECT * FROM (SUMMARIZE "${staged}")`, SYNTAX);
    await refused(`SELECT (FROM "${staged}")`, SYNTAX);
    await refused(`SELECT * FROM T WHERE A IN (FROM '${staged}')`, SYNTAX);
    await refused(`SELECT * FROM @~/in/staged.csv`, UNSUPPORTED);
    // CTE names are in scope only where DuckDB binds them: elsewhere they are table names.
    await refused(
      `SELECT * FROM (WITH "${staged}" AS (SELECT 1 AS A) SELECT A FROM "${staged}") AS X, "${staged}"`,
      DOES_NOT_EXIST,
    );
    await refused(`WITH "${staged}" AS (SELECT * FROM "${staged}") SELECT * FROM "${staged}"`, DOES_NOT_EXIST);
    await refused(`WITH a AS (SELECT * FROM "${staged}"), "${staged}" AS (SELECT 1) SELECT * FROM a`, DOES_NOT_EXIST);
    await refused(`SELECT 'x'::VARCHAR((SELECT COUNT(*) FROM '${staged}'))`, SYNTAX);
    await refused(`SELECT * FROM T WHERE B IS DISTINCT FROM (SELECT MAX(B) FROM '${staged}')`, SYNTAX);
    // A view over a table named like the file, read after the table is gone: DuckDB binds the view
    // again and must not find the file instead.
    await exec(conn, `CREATE TABLE "${staged}" (A INT, B VARCHAR)`);
    await exec(conn, `CREATE VIEW VPATH AS SELECT * FROM "${staged}"`);
    await exec(conn, `DROP TABLE "${staged}"`);
    const err = await execError(conn, 'SELECT * FROM VPATH');
    expect(err.message).not.toContain(secret);
    await exec(conn, 'DROP VIEW VPATH');
    await exec(conn, 'REMOVE @~/in');
  });
});

describe('emulator sandbox: functions and statements', () => {
  it('refuses DuckDB-only scalar functions, qualified and method calls', async () => {
    for (const sql of [
      `SELECT read_text('${secretText}')`,
      `SELECT getenv('HOME')`,
      `SELECT current_setting('allowed_directories')`,
      `SELECT A FROM T WHERE B = getvariable('x')`,
      `SELECT main.upper('x')`,
      `SELECT ('x').upper()`,
      `SELECT "upper"('x')`,
      `SELECT list_transform([1], x -> x)`,
      `SELECT * FROM T WHERE A = (SELECT length(content) FROM read_text('${secretText}'))`,
    ]) {
      await refused(sql, UNKNOWN_FUNCTION);
    }
  });

  it('refuses ATTACH, COPY TO, INSTALL/LOAD, SET/PRAGMA, EXPORT and the like with Snowflake errors, writing nothing', async () => {
    const target = (name: string) => path.join(hostDir, name);
    const cases: [string, string][] = [
      [`ATTACH '${target('evil.duckdb')}' AS EVIL`, SYNTAX],
      [`ATTACH DATABASE '${target('evil.duckdb')}'`, SYNTAX],
      ['DETACH SBX', SYNTAX],
      ['INSTALL httpfs', SYNTAX],
      ['LOAD httpfs', SYNTAX],
      ['LOAD tpch', SYNTAX],
      [`COPY T TO '${target('out.csv')}'`, SYNTAX],
      [`COPY (SELECT * FROM T) TO '${target('out.csv')}' (FORMAT CSV)`, SYNTAX],
      [`COPY T FROM '${secretCsv}'`, SYNTAX],
      [`COPY INTO '${target('unload')}' FROM T`, UNSUPPORTED],
      [`COPY INTO 'file://${target('unload')}' FROM T`, SYNTAX],
      [`COPY INTO T FROM '${secretCsv}'`, UNSUPPORTED],
      [`COPY INTO T FROM 'file://${secretCsv}'`, SYNTAX],
      [`EXPORT DATABASE '${target('export')}'`, SYNTAX],
      [`IMPORT DATABASE '${hostDir}'`, SYNTAX],
      ['SET enable_external_access = true', UNSUPPORTED],
      ['SET lock_configuration = false', UNSUPPORTED],
      ['SET VARIABLE x = 1', UNSUPPORTED],
      ['RESET lock_configuration', SYNTAX],
      ['PRAGMA database_list', SYNTAX],
      ['CALL pragma_version()', UNSUPPORTED],
      ['CHECKPOINT', SYNTAX],
      ['VACUUM', SYNTAX],
      [`FROM '${secretCsv}'`, SYNTAX],
      [`SUMMARIZE '${secretCsv}'`, SYNTAX],
      [`PIVOT '${secretCsv}' ON A`, SYNTAX],
      [`CREATE SECRET s (TYPE s3)`, UNSUPPORTED],
      [`CREATE MACRO m() AS TABLE SELECT * FROM read_text('${secretText}')`, UNSUPPORTED],
      [`DESCRIBE TABLE "${secretCsv}"`, DOES_NOT_EXIST],
      ['SHOW TABLES IN DATABASE system', DOES_NOT_EXIST],
      [`CREATE TABLE C1 LIKE "${secretCsv}"`, DOES_NOT_EXIST],
      ['CREATE TABLE C2 CLONE system.main.duckdb_settings', DOES_NOT_EXIST],
      [`INSERT INTO "${secretCsv}" VALUES (1)`, DOES_NOT_EXIST],
      [`INSERT INTO T VALUES ((SELECT COUNT(*) FROM '${secretCsv}'), 'x')`, SYNTAX],
      [`CREATE TABLE D (A VARCHAR DEFAULT getenv('HOME'))`, UNKNOWN_FUNCTION],
      ['USE memory', DOES_NOT_EXIST],
      ['USE system', DOES_NOT_EXIST],
      ['USE SCHEMA system.main', DOES_NOT_EXIST],
      [`SELECT 1; ATTACH '${target('evil.duckdb')}' AS EVIL`, STATEMENT_COUNT],
      [`SELECT 1; COPY T TO '${target('out.csv')}'`, STATEMENT_COUNT],
      [`SELECT * FROM T; SELECT * FROM read_csv('${secretCsv}')`, STATEMENT_COUNT],
      [`SELECT * FROM "T; ATTACH '${target('evil.duckdb')}' AS EVIL; --"`, DOES_NOT_EXIST],
      [`SELECT * FROM "T"";ATTACH '${target('evil.duckdb')}' AS EVIL;--"`, DOES_NOT_EXIST],
    ];
    for (const [sql, code] of cases) await refused(sql, code);
    expect(filesUnder(hostDir)).toEqual(['secret.csv', 'secret.txt']);
  });

  it('keeps quotes and semicolons inside identifiers and strings as data', async () => {
    const evil = path.join(hostDir, 'evil.duckdb');
    const name = `t; ATTACH '${evil}' AS EVIL; --`;
    await exec(conn, `CREATE TABLE "${name}" (S VARCHAR)`);
    await exec(conn, `INSERT INTO "${name}" VALUES ('x''; ATTACH ''${evil}'' AS E2; --')`);
    expect(await exec(conn, `SELECT S FROM "${name}"`)).toEqual([{ S: `x'; ATTACH '${evil}' AS E2; --` }]);
    await exec(conn, `ALTER SESSION SET QUERY_TAG = 'q; ATTACH ''${evil}'' AS E3'`);
    await exec(conn, `DROP TABLE "${name}"`);
    expect(fs.existsSync(evil)).toBe(false);
    // A database name is no path: its file stays in the data directory.
    const database = `${path.relative(path.join(emu.dataDir, 'databases'), hostDir)}/evil`;
    await exec(conn, `CREATE DATABASE "${database}"`);
    expect(await exec(conn, `SHOW DATABASES LIKE '${database}'`)).toHaveLength(1);
    await exec(conn, `DROP DATABASE "${database}"`);
    await exec(conn, 'USE SBX.PUBLIC');
    expect(filesUnder(hostDir)).toEqual(['secret.csv', 'secret.txt']);
  });
});

describe('emulator sandbox: what still works', () => {
  it('runs Snowflake queries whose syntax looks like the refused constructs', async () => {
    expect(await exec(conn, `SELECT COUNT(*) AS N FROM TABLE(GENERATOR(ROWCOUNT => 3))`)).toEqual([{ N: 3 }]);
    expect(await exec(conn, `WITH c (X) AS (SELECT A FROM T) SELECT X FROM c`)).toEqual([{ X: 1 }]);
    expect(
      await exec(
        conn,
        `WITH RECURSIVE r AS (SELECT 1 AS N UNION ALL SELECT N + 1 FROM r WHERE N < 3) SELECT COUNT(*) AS C FROM r`,
      ),
    ).toEqual([{ C: 3 }]);
    expect(
      await exec(
        conn,
        `SELECT t1.A FROM T t1 JOIN T t2 USING (A) WHERE EXTRACT(YEAR FROM TO_DATE('2024-05-01')) = 2024`,
      ),
    ).toEqual([{ A: 1 }]);
    expect(
      await exec(
        conn,
        `SELECT CAST(A AS NUMBER(10,2)) AS D, B::VARCHAR(10) AS S, TRIM(' x ') AS TR, REPEAT('a', 2) AS R FROM T`,
      ),
    ).toEqual([{ D: 1, S: 'one', TR: 'x', R: 'aa' }]);
    expect(await exec(conn, `SELECT V.K FROM (SELECT 7) AS V(K)`)).toEqual([{ K: 7 }]);
    expect(await exec(conn, `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'T'`)).toEqual([
      { TABLE_NAME: 'T' },
    ]);
    expect(await exec(conn, `SELECT 'FROM ''x.csv''' AS S`)).toEqual([{ S: "FROM 'x.csv'" }]);
    expect(await exec(conn, `SELECT A FROM T WHERE B IS DISTINCT FROM 'two' AND A IS NOT DISTINCT FROM 1`)).toEqual([
      { A: 1 },
    ]);
    await exec(conn, `ALTER SESSION SET TIMEZONE = 'UTC'`);
  });

  it('PUT, COPY INTO @stage, COPY INTO <table> FROM @stage and GET still work', async () => {
    const local = path.join(hostDir, 'load.csv');
    fs.writeFileSync(local, '2,two\n3,three\n');
    const download = path.join(hostDir, 'download');
    try {
      await exec(conn, `PUT file://${local} @~/load AUTO_COMPRESS=FALSE`);
      await exec(conn, 'CREATE TABLE L (A INT, B VARCHAR)');
      await exec(conn, `COPY INTO L FROM @~/load FILE_FORMAT = (TYPE = CSV)`);
      expect(await exec(conn, 'SELECT A, B FROM L ORDER BY A')).toEqual([
        { A: 2, B: 'two' },
        { A: 3, B: 'three' },
      ]);
      await exec(
        conn,
        `COPY INTO @~/unload/l FROM (SELECT A, B FROM L WHERE A > 2) FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)`,
      );
      await exec(conn, `GET @~/unload/ file://${download}`);
      const files = fs.readdirSync(download);
      expect(files.length).toBe(1);
      expect(fs.readFileSync(path.join(download, files[0]), 'utf8')).toBe('3,three\n');
    } finally {
      await exec(conn, 'REMOVE @~');
      await exec(conn, 'DROP TABLE IF EXISTS L');
      fs.rmSync(local, { force: true });
      fs.rmSync(download, { recursive: true, force: true });
    }
  });
});
