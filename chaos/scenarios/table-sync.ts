/**
 * Table sync under faults: a fresh Snowflake table per trial (in the emulator), registered and
 * full-refreshed by stage (unload → GET → `read_parquet`) through the API; verified by reading the
 * DuckDB target cell by cell against the Snowflake source, with no `_floe_staging_*` table left.
 * With `api-cancel`, the table is synced once first, then changed, and the second sync is cancelled:
 * the target must still hold the first sync's rows, and the next run must bring the changes.
 */
import { withDuckDb } from '../../src/connectors/duckdb.js';
import type { ChaosStack } from '../stack.js';
import { CHAOS_DATABASE } from '../stack.js';
import { compareRows, type Row, type Verification } from '../verify.js';
import type { FaultKind, JobState, Scenario, StartedJob, TrialSource } from './scenario.js';

const SCHEMA = 'TS';

interface TableSyncSource extends TrialSource {
  table: string;
  /** The copy of the rows a cancelled run must leave in the target (`api-cancel` only). */
  previous: string | null;
}

const qualified = (table: string): string => `${CHAOS_DATABASE}.${SCHEMA}.${table}`;

/**
 * Creates `table` (DATABASE.SCHEMA.TABLE, schema created if missing) with `rows` generated rows:
 * ID 1..rows, NAME, AMOUNT NUMBER(12,2) and NOTE (NULL in every seventh row).
 */
export async function createGeneratedTable(stack: ChaosStack, table: string, rows: number): Promise<void> {
  await stack.snowflake.query(`CREATE SCHEMA IF NOT EXISTS ${table.split('.').slice(0, 2).join('.')}`);
  await stack.snowflake.query(
    `CREATE TABLE ${table} (ID NUMBER(38,0), NAME VARCHAR, AMOUNT NUMBER(12,2), NOTE VARCHAR)`,
  );
  await stack.snowflake.query(
    `INSERT INTO ${table} SELECT SEQ4() + 1, 'row-' || SEQ4(), (SEQ4() % 100000) / 100, ` +
      `CASE WHEN SEQ4() % 7 = 0 THEN NULL ELSE MD5(TO_VARCHAR(SEQ4())) END FROM TABLE(GENERATOR(ROWCOUNT => ${rows}))`,
  );
}

async function startSync(stack: ChaosStack, s: TableSyncSource): Promise<StartedJob> {
  const { job_id: id } = await stack.api.call<{ job_id: string }>('POST', '/api/v1/sync/start', {
    database_name: CHAOS_DATABASE,
    schema_name: SCHEMA,
    table_name: s.table,
    strategy: 'full',
    method: 'stage',
  });
  const route = `/api/v1/sync/jobs/${encodeURIComponent(id)}`;
  return {
    id,
    poll: async () => {
      const { status } = await stack.api.call<{ status: string }>('GET', route);
      return status === 'pending' ? 'running' : (status as JobState);
    },
    cancel: async () => void (await stack.api.call('POST', `${route}/cancel`)),
    describe: async () => JSON.stringify(await stack.api.call('GET', route)),
  };
}

async function waitCompleted(job: StartedJob): Promise<void> {
  for (;;) {
    const state = await job.poll();
    if (state === 'completed') return;
    if (state !== 'running') throw new Error(`table sync ${job.id} ${state} before the trial began`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function targetRows(stack: ChaosStack, table: string): Promise<{ rows: Row[]; staging: string[] }> {
  return withDuckDb(stack.duckdbPath, async (conn) => {
    const rows = (
      await conn.runAndReadAll(`SELECT * FROM "${CHAOS_DATABASE}__${SCHEMA}"."${table}"`)
    ).getRowObjectsJson();
    const staging = (
      await conn.runAndReadAll(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe\\_staging\\_%' ESCAPE '\\'",
      )
    )
      .getRows()
      .map((r) => `DuckDB staging table ${String(r[0])}`);
    return { rows: rows as Row[], staging };
  });
}

async function compareWith(stack: ChaosStack, s: TableSyncSource, sourceTable: string): Promise<Verification> {
  const source = await stack.snowflake.query(`SELECT * FROM ${qualified(sourceTable)}`);
  const target = await targetRows(stack, s.table);
  return { ...compareRows(source, target.rows, 'ID'), stateWrong: [], leftovers: target.staging, failedRuns: 0 };
}

export const tableSync: Scenario<TableSyncSource> = {
  kind: 'table-sync',
  rows: 100_000,
  faults: ['worker-kill', 'temporal-restart', 'emulator-faults', 'pg-terminate', 'api-cancel'],

  async prepare(stack: ChaosStack, name: string, rows: number, fault: FaultKind) {
    const table = `SRC_${name}`;
    await createGeneratedTable(stack, qualified(table), rows);
    await stack.api.call('POST', '/api/v1/sync/tables/register', {
      database_name: CHAOS_DATABASE,
      schema_name: SCHEMA,
      table_name: table,
      primary_key: 'ID',
    });
    const source: TableSyncSource = { name, rows, table, previous: null };
    if (fault === 'api-cancel') {
      await waitCompleted(await startSync(stack, source));
      source.previous = `${table}_PREVIOUS`;
      await stack.snowflake.query(`CREATE TABLE ${qualified(source.previous)} AS SELECT * FROM ${qualified(table)}`);
      await stack.snowflake.query(`UPDATE ${qualified(table)} SET NAME = NAME || '-changed' WHERE ID % 3 = 0`);
      await stack.snowflake.query(
        `INSERT INTO ${qualified(table)} SELECT ${rows} + SEQ4() + 1, 'new-' || SEQ4(), 1, NULL FROM TABLE(GENERATOR(ROWCOUNT => 100))`,
      );
    }
    return source;
  },

  start: startSync,
  rerun: startSync,

  failingStatement: (s) => new RegExp(`COPY INTO @.*${s.table}`, 'is'),

  verify: (stack, s) => compareWith(stack, s, s.table),

  async verifyIntact(stack, s) {
    return compareWith(stack, s, s.previous ?? s.table);
  },

  async finish() {},
};
