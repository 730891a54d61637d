/**
 * Stages, PUT/GET and COPY INTO end to end: the real snowflake-sdk against the in-process emulator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import snowflake from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';

type Row = Record<string, unknown>;

function connect(url: string): Promise<snowflake.Connection> {
  const conn = snowflake.createConnection({
    account: 'floe',
    username: 'u',
    password: 'p',
    accessUrl: url,
    database: 'E2E',
    schema: 'PUBLIC',
  });
  return new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(conn))));
}

function exec(conn: snowflake.Connection, sqlText: string): Promise<Row[]> {
  return new Promise((resolve, reject) =>
    conn.execute({
      sqlText,
      fetchAsString: ['Number', 'Date'],
      complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
    }),
  );
}

function destroy(conn: snowflake.Connection): Promise<void> {
  return new Promise((resolve) => conn.destroy(() => resolve()));
}

describe('stages end to end through snowflake-sdk', () => {
  let emu: RunningEmulator;
  let conn: snowflake.Connection;
  let local: string;
  let dataDir: string;

  beforeAll(async () => {
    snowflake.configure({ logLevel: 'ERROR' });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-stages-e2e-'));
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-stages-e2e-local-'));
    emu = await startEmulator({ dataDir, user: { name: 'u', password: 'p' } });
    const boot = await connect(emu.url);
    await exec(boot, 'CREATE DATABASE IF NOT EXISTS E2E');
    await destroy(boot);
    conn = await connect(emu.url);
    await exec(conn, 'CREATE SCHEMA IF NOT EXISTS E2E.PUBLIC');
    await exec(conn, 'USE SCHEMA E2E.PUBLIC');
  });
  afterAll(async () => {
    if (conn) await destroy(conn);
    await emu?.close();
  });

  it('PUT, LIST, GET and REMOVE through the driver', async () => {
    await exec(conn, 'CREATE STAGE files');
    const src = path.join(local, 'hello.txt');
    fs.writeFileSync(src, 'hello, stage\n');
    const put = await exec(conn, `PUT file://${src} @files/docs AUTO_COMPRESS=FALSE`);
    expect(put).toEqual([expect.objectContaining({ source: 'hello.txt', target: 'hello.txt', status: 'UPLOADED' })]);
    const listed = await exec(conn, 'LIST @files');
    expect(listed).toEqual([expect.objectContaining({ name: 'files/docs/hello.txt', size: '13' })]);
    const target = path.join(local, 'fetched');
    const got = await exec(conn, `GET @files/docs file://${target}`);
    expect(got).toEqual([expect.objectContaining({ file: 'docs/hello.txt', status: 'DOWNLOADED' })]);
    expect(fs.readFileSync(path.join(target, 'hello.txt'), 'utf8')).toBe('hello, stage\n');
    expect(await exec(conn, 'REMOVE @files/docs')).toEqual([{ name: 'files/docs/hello.txt', result: 'removed' }]);
    expect(await exec(conn, 'LIST @files')).toEqual([]);
  });

  it('unloads a table to Parquet, downloads it, and loads it back with MATCH_BY_COLUMN_NAME', async () => {
    await exec(conn, 'CREATE TABLE src (id NUMBER(38,0), amount NUMBER(12,2), name VARCHAR(20))');
    await exec(
      conn,
      "INSERT INTO src SELECT seq4(), seq4() * 0.5, 'n' || seq4() FROM TABLE(GENERATOR(ROWCOUNT => 5000))",
    ).catch(async () => {
      await exec(conn, "INSERT INTO src VALUES (1, 0.50, 'n1'), (2, 1.00, 'n2'), (3, 1.50, 'n3')");
    });
    const [{ N: total }] = await exec(conn, 'SELECT count(*) AS n FROM src');
    await exec(conn, 'CREATE STAGE unload');
    const unloaded = await exec(
      conn,
      'COPY INTO @unload/job1/ FROM (SELECT * FROM src) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE',
    );
    expect(unloaded).toEqual([expect.objectContaining({ rows_unloaded: total })]);
    const listed = await exec(conn, 'LIST @unload/job1/');
    expect(listed.map((r) => r.name)).toEqual(['unload/job1/data_0_0_0.snappy.parquet']);

    const target = path.join(local, 'parquet');
    await exec(conn, `GET @unload/job1/ file://${target} PARALLEL = 4`);
    expect(fs.readdirSync(target)).toEqual(['data_0_0_0.snappy.parquet']);

    await exec(conn, 'CREATE TABLE back (ID NUMBER(38,0), AMOUNT NUMBER(12,2), NAME VARCHAR(20))');
    const loaded = await exec(
      conn,
      'COPY INTO back FROM @unload/job1/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE',
    );
    expect(loaded).toEqual([
      expect.objectContaining({ file: 'unload/job1/data_0_0_0.snappy.parquet', status: 'LOADED', rows_loaded: total }),
    ]);
    const again = await exec(
      conn,
      'COPY INTO back FROM @unload/job1/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE',
    );
    expect(again).toEqual([{ status: 'Copy executed with 0 files processed.' }]);
    const diff = await exec(conn, 'SELECT count(*) AS n FROM (SELECT * FROM src EXCEPT SELECT * FROM back)');
    expect(diff).toEqual([{ N: '0' }]);
  });

  it('reports the TIMESTAMP_TZ refusal as a Snowflake error', async () => {
    await exec(conn, 'CREATE STAGE IF NOT EXISTS unload');
    const err = await exec(
      conn,
      'COPY INTO @unload/tz/ FROM (SELECT CURRENT_TIMESTAMP() AS ts) FILE_FORMAT = (TYPE = PARQUET)',
    ).then(
      () => null,
      (e: { code?: unknown; message: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(String(err!.code)).toBe('002102');
    expect(err!.message).toContain('TIMESTAMP_TZ');
  });

  it('drops a temporary stage when its session ends', async () => {
    const other = await connect(emu.url);
    await exec(other, 'CREATE TEMPORARY STAGE E2E.PUBLIC.scratch');
    expect(await exec(other, 'LIST @E2E.PUBLIC.scratch')).toEqual([]);
    await expect(exec(conn, 'LIST @E2E.PUBLIC.scratch')).rejects.toThrow(/does not exist/);
    const tempRoot = path.join(dataDir, 'stages', 'temp');
    expect(fs.readdirSync(tempRoot)).toHaveLength(1);
    await destroy(other);
    for (let i = 0; i < 50 && fs.readdirSync(tempRoot).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.readdirSync(tempRoot)).toEqual([]);
  });
});
