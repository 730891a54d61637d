/**
 * floe's side of `npm run bench -- peers`, run as its own process so that it is measured like the peers:
 *
 *   node --import tsx bench/peers/floe-load.ts <stage|stream> <emulator url> <DB.SCHEMA.TABLE> <duckdb file> <work dir>
 *
 * Runs the table sync's `tableSyncTransfer` activity (the code a Temporal worker runs; Temporal adds a few ms of
 * scheduling) as a full refresh of the table into the DuckDB file, signed in as the bench user, and prints one
 * JSON line `{"rows": <rows in target>, "schema": ..., "table": ...}` naming the target table.
 */
import path from 'node:path';
import { createTableSyncActivities } from '../../src/activities/table-sync/index.js';
import { describeSource } from '../../src/activities/table-sync/snowflake.js';
import { connectSnowflake } from '../../src/connectors/snowflake.js';
import { defaultTarget } from '../../src/jobs/table-sync/sql.js';
import { BENCH_USER } from '../common.js';

const [method, accessUrl, name, duckdbPath, work] = process.argv.slice(2);
if (method !== 'stage' && method !== 'stream') throw new Error(`method must be stage or stream, got ${method}`);
const [database, schema, table] = name.split('.');
const source = { database, schema, table };
const snowflake = {
  account: 'floe',
  username: BENCH_USER.name,
  password: BENCH_USER.password,
  accessUrl,
  database: 'BENCH',
  schema: 'S',
};
const sf = await connectSnowflake(snowflake);
const desc = await describeSource(sf, source).finally(() => sf.close());
const acts = createTableSyncActivities({ snowflake, duckdbPath, tmpDir: path.join(work, 'tmp') });
const r = await acts.tableSyncTransfer({
  jobId: `peers-${method}`,
  tableId: `peers-${table}`,
  source,
  strategy: 'full',
  method,
  columns: desc.columns,
  batchRows: 50_000,
});
console.log(JSON.stringify({ rows: r.rowsInTarget, ...defaultTarget(source) }));
// Pooled connections may keep the event loop alive; the result is out.
process.exit(0);
