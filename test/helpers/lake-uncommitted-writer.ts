/**
 * A cache refresh's DuckLake transaction that never commits, for test/e2e/cache-refresh-uncommitted.test.ts:
 * attaches the lake, begins a transaction, replaces the cache's table with `rows` rows (DuckLake writes
 * their Parquet file now), prints `written` and waits to be killed with SIGKILL.
 *
 * Env: LAKE_CATALOG_URL, LAKE_DATA_PATH, LAKE_CACHE, LAKE_ROWS.
 */
import { envValue } from '../../src/config.js';
import { cacheTableName, withLake, type LakeSettings } from '../../src/jobs/cache-refresh/storage.js';

const need = (n: string): string => {
  const v = envValue(n);
  if (!v) throw new Error(`${n} is required`);
  return v;
};
const lake: LakeSettings = { catalogUrl: need('LAKE_CATALOG_URL'), dataPath: need('LAKE_DATA_PATH') };
await withLake(lake, async (conn) => {
  await conn.run('BEGIN TRANSACTION');
  await conn.run(
    `CREATE OR REPLACE TABLE ${cacheTableName(lake, need('LAKE_CACHE'))} AS SELECT range AS id FROM range(${Number(need('LAKE_ROWS'))})`,
  );
  process.stdout.write('written\n');
  await new Promise<void>(() => undefined);
});
