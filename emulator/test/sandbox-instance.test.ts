/**
 * The emulator's sandbox below the SQL layer: the DuckDB instance's own settings keep even raw
 * statements inside the data directory, database files stay in it whatever their names, only
 * Snowflake built-ins DuckDB knows pass as functions, and the server listens on loopback by default.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Catalog } from '../src/catalog.js';
import { SNOWFLAKE_BUILTINS } from '../src/sql/sandbox-words.js';
import { connect, destroy, exec, startTestEmulator } from './helpers.js';

/** Host directory outside any data directory: the attacks' targets. */
let hostDir: string;
let secretText: string;

/** Every file under `dir`, recursively (relative paths). */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

beforeAll(() => {
  hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sandbox-'));
  secretText = path.join(hostDir, 'secret.txt');
  fs.writeFileSync(path.join(hostDir, 'secret.csv'), 'A,B\n1,secret\n');
  fs.writeFileSync(secretText, 'secret');
});

afterAll(() => fs.rmSync(hostDir, { recursive: true, force: true }));

describe('emulator sandbox: the DuckDB instance and the data directory', () => {
  it('keeps even raw DuckDB statements of the catalog inside the data directory, and the setting locked', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sandbox-catalog-'));
    const catalog = await Catalog.open(dataDir);
    const conn = await catalog.connect();
    const error = async (sql: string) =>
      conn.run(sql).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    try {
      expect(await error(`SELECT * FROM read_text('${secretText}')`)).toMatch(/Permission Error/);
      expect(await error(`COPY (SELECT 1) TO '${path.join(hostDir, 'raw.csv')}'`)).toMatch(/Permission Error/);
      expect(await error(`ATTACH '${path.join(hostDir, 'raw.duckdb')}' AS RAW`)).toMatch(/Permission Error/);
      expect(await error(`ATTACH '${path.join(dataDir, 'databases', '..', '..', 'raw2.duckdb')}' AS RAW2`)).toMatch(
        /Permission Error/,
      );
      expect(await error('LOAD httpfs')).toMatch(/Permission Error|disabled/);
      expect(await error(`SELECT * FROM 'http://127.0.0.1:9/x.csv'`)).toMatch(/Permission Error/);
      for (const setting of [
        'enable_external_access = true',
        'lock_configuration = false',
        'autoload_known_extensions = true',
        `allowed_directories = ['/']`,
      ]) {
        expect(await error(`SET ${setting}`)).toMatch(/locked/);
      }
      // The emulator's own work inside the data directory goes on.
      expect(await error(`COPY (SELECT 1 AS A) TO '${path.join(dataDir, 'stages', 'ok.csv')}'`)).toBe('ran');
      expect(
        (await conn.runAndReadAll(`SELECT A FROM read_csv('${path.join(dataDir, 'stages', 'ok.csv')}')`)).getRowsJS(),
      ).toEqual([[1n]]);
      expect((await conn.runAndReadAll(`SELECT current_setting('TimeZone')`)).getRowsJS()).toEqual([['UTC']]);
      expect(filesUnder(hostDir)).toEqual(['secret.csv', 'secret.txt']);
    } finally {
      conn.closeSync();
      await catalog.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps database files in <dataDir>/databases whatever their names, across restarts', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sandbox-names-'));
    const names = ['../../escape', 'a/b\\c', '100%', 'dotted.name'];
    try {
      const first = await Catalog.open(dataDir);
      for (const name of names) await first.createDatabase(name, { ifNotExists: false, orReplace: false });
      await first.close();
      expect(
        filesUnder(dataDir)
          .filter((f) => f.endsWith('.duckdb'))
          .every((f) => path.dirname(f) === 'databases'),
      ).toBe(true);
      const second = await Catalog.open(dataDir);
      expect(second.databaseNames()).toEqual([...names].sort());
      for (const name of names) await second.dropDatabase(name, false);
      await second.close();
      expect(fs.readdirSync(path.join(dataDir, 'databases'))).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lets through only Snowflake built-ins that DuckDB knows as scalar, aggregate or window functions', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      const rows = (
        await c.runAndReadAll(
          `SELECT upper(function_name), list(DISTINCT function_type) FROM duckdb_functions() GROUP BY 1`,
        )
      ).getRowsJS();
      const kinds = new Map(rows.map(([name, types]) => [String(name), (types as unknown[]).map(String)]));
      // DuckDB parses these as syntax (no catalog function), as Snowflake does.
      const syntax = new Set([
        'COALESCE',
        'GROUPING',
        'GROUPING_ID',
        'PERCENTILE_CONT',
        'PERCENTILE_DISC',
        'CURRENT_TIME',
      ]);
      for (const name of SNOWFLAKE_BUILTINS) {
        const types = kinds.get(name);
        if (types === undefined) expect(syntax.has(name), name).toBe(true);
        else
          expect(
            types.some((t) => t !== 'table' && t !== 'table_macro'),
            name,
          ).toBe(true);
      }
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});

describe('emulator sandbox: listening address', () => {
  /** Whether a TCP connection to host:port is accepted. */
  const accepts = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  it('listens on 127.0.0.1 only, unless given a host', async () => {
    const emu = await startTestEmulator();
    onTestFinished(async () => {
      await emu.close();
      fs.rmSync(emu.dataDir, { recursive: true, force: true });
    });
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(await accepts('127.0.0.1', emu.port)).toBe(true);
    expect(await accepts('127.0.0.2', emu.port)).toBe(false); // another loopback address: not bound
    const other = await startTestEmulator({ host: '127.0.0.2' });
    try {
      expect(other.url).toBe(`http://127.0.0.2:${other.port}`);
      const c = await connect(other);
      expect(await exec(c, 'SELECT 1 AS ONE')).toEqual([{ ONE: 1 }]);
      await destroy(c);
      expect(await accepts('127.0.0.1', other.port)).toBe(false);
    } finally {
      await other.close();
      fs.rmSync(other.dataDir, { recursive: true, force: true });
    }
  });
});
