/**
 * `withDuckDb` opens a DuckDB file with a bounded buffer pool (DUCKDB_FILE_MEMORY_LIMIT), so a table
 * sync's load does not keep every block it wrote in memory; work larger than the limit still
 * completes (DuckDB evicts written blocks and spills to `<file>.tmp`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_FILE_MEMORY_LIMIT, setDuckDbFileMemoryLimit, withDuckDb } from '../../src/connectors/duckdb.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-duckdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setting = async (file: string) =>
  withDuckDb(file, async (c) =>
    String((await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0][0]),
  );

describe('withDuckDb', () => {
  it('bounds the buffer pool of a file, not of a private in-memory database', async () => {
    const plain = await DuckDBInstance.create(':memory:');
    const conn = await plain.connect();
    const defaultLimit = String((await conn.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0][0]);
    await conn.run(`SET memory_limit = '${DUCKDB_FILE_MEMORY_LIMIT}'`);
    const bounded = String((await conn.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0][0]);
    conn.closeSync();
    plain.closeSync();
    expect(bounded).not.toBe(defaultLimit);
    expect(await setting(path.join(dir, 'a.duckdb'))).toBe(bounded);
    expect(await setting(':memory:')).toBe(defaultLimit);
  });

  it('lets a file instance insert rows out of their source order, not a private in-memory database', async () => {
    const order = async (file: string) =>
      withDuckDb(file, async (c) =>
        String((await c.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows()[0][0]),
      );
    expect(await order(path.join(dir, 'd.duckdb'))).toBe('false');
    expect(await order(':memory:')).toBe('true');
  });

  it('opens later files with the limit DUCKDB_MEMORY_LIMIT sets', async () => {
    const before = await setting(path.join(dir, 'b.duckdb'));
    setDuckDbFileMemoryLimit('384MB'); // differs from the default
    try {
      const after = await setting(path.join(dir, 'c.duckdb'));
      expect(after).not.toBe(before);
      expect(after).toMatch(/^(384\.0 MiB|366\.2 MiB|384MB)$/);
    } finally {
      setDuckDbFileMemoryLimit(DUCKDB_FILE_MEMORY_LIMIT);
    }
  });

  it('loads, joins and sorts more data than the limit', async () => {
    const file = path.join(dir, 'big.duckdb');
    const rows = 600_000;
    setDuckDbFileMemoryLimit('128MB');
    const result = await withDuckDb(file, async (c) => {
      // About 600,000 × (8 + 8 + 256) bytes ≈ 160 MB uncompressed, more than a 128 MB pool.
      await c.run(`CREATE TABLE t AS SELECT range AS id, hash(range) AS h, repeat(md5(range::VARCHAR), 8) AS s
        FROM range(${rows})`);
      const joined = await c.runAndReadAll(
        `SELECT count(*), count(a.s) FROM t a JOIN t b ON a.id = b.id WHERE a.h = b.h`,
      );
      const ranked = await c.runAndReadAll(
        `SELECT count(*) FROM (SELECT id FROM t QUALIFY row_number() OVER (PARTITION BY id % 1000 ORDER BY h DESC) = 1)`,
      );
      return [...joined.getRows()[0], ranked.getRows()[0][0]].map(Number);
    }).finally(() => setDuckDbFileMemoryLimit(DUCKDB_FILE_MEMORY_LIMIT));
    expect(result).toEqual([rows, rows, 1000]);
  });
});
