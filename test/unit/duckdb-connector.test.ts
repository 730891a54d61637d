/**
 * `withDuckDb` opens a DuckDB file with a bounded buffer pool (DUCKDB_FILE_MEMORY_LIMIT), so a table
 * sync's load does not keep every block it wrote in memory; work larger than the limit still
 * completes (DuckDB evicts written blocks and spills to `<file>.tmp`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  DUCKDB_FILE_MEMORY_LIMIT,
  runWithProgress,
  setDuckDbFileMemoryLimit,
  withDuckDb,
} from '../../src/connectors/duckdb.js';

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

describe('runWithProgress', () => {
  // A scan of a table (DuckDB estimates progress from its cardinality; `range()` gives no estimate),
  // long enough to be seen in flight: ~0.6 s on two cores.
  const ROWS = 3_000_000;
  const withSource = <T>(file: string, fn: (c: DuckDBConnection) => Promise<T>) =>
    withDuckDb(file, async (c) => {
      await c.run(`CREATE TABLE src AS SELECT range AS id, range::VARCHAR AS v FROM range(${ROWS})`);
      await c.run('CREATE TABLE big (id BIGINT, h VARCHAR)');
      return fn(c);
    });
  const slow = 'INSERT INTO big SELECT id, md5(v) FROM src';

  it('reports a growing share of a long statement while it runs, and returns its row count', async () => {
    const seen: number[] = [];
    const rows = await withSource(path.join(dir, 'progress.duckdb'), (c) =>
      runWithProgress(c, slow, { everyMs: 20, onProgress: (f) => seen.push(f) }),
    );
    expect(rows).toBe(ROWS);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.every((f) => f > 0 && f <= 1)).toBe(true);
    expect(seen[0]).toBeLessThan(1);
  });

  it('interrupts the statement when its signal aborts: nothing is written', async () => {
    const file = path.join(dir, 'interrupted.duckdb');
    const abort = new AbortController();
    const err = await withSource(file, (c) =>
      runWithProgress(c, slow, { everyMs: 20, onProgress: () => abort.abort(), signal: abort.signal }),
    ).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/interrupt/i);
    const tables = await withDuckDb(file, async (c) =>
      (await c.runAndReadAll('SELECT count(*)::INT FROM big')).getRows(),
    );
    expect(tables).toEqual([[0]]);
  });

  it('does not start a statement whose signal has already aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    const file = path.join(dir, 'not-started.duckdb');
    await expect(
      withDuckDb(file, (c) =>
        runWithProgress(c, 'CREATE TABLE t AS SELECT 1 AS x', {
          everyMs: 20,
          onProgress: () => undefined,
          signal: abort.signal,
        }),
      ),
    ).rejects.toThrow(/cancelled/);
    expect(
      await withDuckDb(file, async (c) =>
        (await c.runAndReadAll(`SELECT count(*)::INT FROM duckdb_tables()`)).getRows(),
      ),
    ).toEqual([[0]]);
  });
});
