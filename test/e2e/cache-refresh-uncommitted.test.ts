/**
 * A cache refresh whose DuckLake transaction never committed leaves Parquet files in the cache's data
 * directory that the catalog does not list (a worker killed mid-transaction; or, as the chaos runner found,
 * the catalog connection terminated during COMMIT). The next replace of that cache deletes them. Real
 * PostgreSQL catalog, real DuckLake files, and a real process killed with SIGKILL mid-transaction.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/index.js';
import { replaceInLake } from '../../src/jobs/cache-refresh/extract.js';
import { cacheTableName, closeLakes, withLake, type LakeSettings } from '../../src/jobs/cache-refresh/storage.js';
import { mapColumns } from '../../src/sql/typemap.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { startScript } from '../helpers/process.js';

const CACHE = 'orders_cache';
let root: string;
let db: FreshDatabase;
let pool: pg.Pool;
let lake: LakeSettings;

/** Files in the cache's data directory, and those of them the DuckLake catalog lists. */
async function lakeFiles(): Promise<{ all: string[]; listed: string[] }> {
  const all = readdirSync(path.join(lake.dataPath, 'main', CACHE)).sort();
  const { rows } = await pool.query<{ path: string }>(
    `SELECT path FROM floe_ducklake.ducklake_data_file UNION ALL SELECT path FROM floe_ducklake.ducklake_delete_file
     UNION ALL SELECT path FROM floe_ducklake.ducklake_files_scheduled_for_deletion`,
  );
  const names = new Set(rows.map((r) => path.basename(r.path)));
  return { all, listed: all.filter((f) => names.has(f)) };
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'floe-lake-uncommitted-'));
  db = await freshDatabase({ prefix: 'floe_lake_uncommitted' });
  pool = createPool(db.url, { max: 4 });
  lake = { catalogUrl: db.url, dataPath: path.join(root, 'lake') };
});

afterAll(async () => {
  await closeLakes();
  await pool?.end();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

describe('cache refresh after a DuckLake transaction that never committed', () => {
  it('deletes the uncommitted Parquet files and replaces the cache', async () => {
    const writer = startScript('lake writer', 'test/helpers/lake-uncommitted-writer.ts', [], {
      ...process.env,
      LAKE_CATALOG_URL: lake.catalogUrl,
      LAKE_DATA_PATH: lake.dataPath,
      LAKE_CACHE: CACHE,
      LAKE_ROWS: '50000',
    });
    await writer.waitFor('written', 'its transaction wrote');
    const exited = new Promise((resolve) => writer.child.once('exit', resolve));
    writer.child.kill('SIGKILL');
    await exited;
    const orphaned = await lakeFiles();
    expect(orphaned.all.length, 'the killed transaction wrote a file').toBeGreaterThan(0);
    expect(orphaned.listed).toEqual([]);

    const source = path.join(root, 'unloaded.parquet');
    await withLake(lake, (c) => c.run(`COPY (SELECT range AS "ID" FROM range(1000)) TO '${source}' (FORMAT parquet)`));
    const cols = mapColumns(`cache ${CACHE}`, [
      { COLUMN_NAME: 'ID', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0, ORDINAL_POSITION: 1 },
    ]);
    const r = await replaceInLake(lake, pool, CACHE, cols, [source], 1000);
    expect(r.rows).toBe(1000);

    const after = await lakeFiles();
    expect(
      after.all.filter((f) => orphaned.all.includes(f)),
      'the uncommitted files are gone',
    ).toEqual([]);
    expect(after.all.length).toBeGreaterThan(0);
    expect(after.listed, 'every file left is in the catalog').toEqual(after.all);
    const count = await withLake(lake, async (c) =>
      Number((await c.runAndReadAll(`SELECT count(*) FROM ${cacheTableName(lake, CACHE)}`)).getRows()[0]![0]),
    );
    expect(count).toBe(1000);
  });
});
