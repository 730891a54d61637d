/**
 * Watermark sync under faults: a fresh PostgreSQL table per trial, synced to a new Snowflake table by a
 * watermark-sync Schedule applied and triggered through the API (`/api/v1/watermark-sync/*`); a failed run is
 * followed by the next scheduled one (every 10 s). Verified cell by cell (Snowflake target vs
 * PostgreSQL source), with the stored position at the source's last (watermark, key) and the table
 * not left `running`.
 */
import type { ChaosStack } from '../stack.js';
import { CHAOS_DATABASE } from '../stack.js';
import { compareRows } from '../verify.js';
import type { Scenario, StartedJob, TrialSource } from './scenario.js';

const SCHEMA = 'WM';
/** How long settling waits for a run already started by the Schedule to end (ms). */
const SETTLE_MS = 60_000;

interface WatermarkSource extends TrialSource {
  /** PostgreSQL source table (public schema) and the sync's name. */
  table: string;
  target: string;
}

interface WatermarkRow {
  last_status: string | null;
  last_watermark: string | null;
  last_pk: string[] | null;
  sync_failure_count: string;
}

async function watermarkRow(stack: ChaosStack, s: WatermarkSource): Promise<WatermarkRow | undefined> {
  const { rows } = await stack.pool.query<WatermarkRow>(
    'SELECT last_status, last_watermark, last_pk, sync_failure_count FROM sync_watermarks WHERE source_table = $1',
    [`public.${s.table}`],
  );
  return rows[0];
}

async function trigger(stack: ChaosStack, s: WatermarkSource): Promise<StartedJob> {
  await stack.api.call('POST', '/api/v1/watermark-sync/trigger', { name: s.table });
  return {
    id: `watermark-sync ${s.table}`,
    // An `error` run is followed by the next scheduled one: the job is done at the first success.
    poll: async () => ((await watermarkRow(stack, s))?.last_status === 'success' ? 'completed' : 'running'),
    describe: async () =>
      JSON.stringify(
        (await stack.pool.query('SELECT * FROM sync_watermarks WHERE source_table = $1', [`public.${s.table}`]))
          .rows[0] ?? null,
      ),
  };
}

export const watermarkSync: Scenario<WatermarkSource> = {
  kind: 'watermark-sync',
  rows: 20_000,
  faults: ['worker-kill', 'temporal-restart', 'emulator-faults', 'pg-terminate'],

  async prepare(stack, name, rows) {
    const table = `chaos_wm_${name.toLowerCase()}`;
    await stack.snowflake.query(`CREATE SCHEMA IF NOT EXISTS ${CHAOS_DATABASE}.${SCHEMA}`);
    await stack.pool.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, payload text, amount numeric(12,2), updated_at timestamptz NOT NULL)`,
    );
    // Every fifth watermark is shared by two rows: the (watermark, key) position must not skip either.
    await stack.pool.query(
      `INSERT INTO ${table} SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE 'row-' || g || '-' || md5(g::text) END,
              (g % 100000) / 100.0, timestamptz '2024-01-01' + (g - (g % 5 = 1)::int) * interval '1 second'
         FROM generate_series(1, $1) g`,
      [rows],
    );
    return { name, rows, table, target: `${CHAOS_DATABASE}.${SCHEMA}.${name}` };
  },

  async start(stack, s) {
    await stack.api.call('POST', '/api/v1/watermark-sync/apply', {
      name: s.table,
      sync_interval_seconds: 10,
      tables: [
        {
          source: `public.${s.table}`,
          target: s.target,
          pk: 'id',
          watermark_column: 'updated_at',
          batch_size: Math.max(100, Math.round(s.rows / 10)),
          // Three pages per MERGE: faults land inside multi-page batches and between watermark advances.
          merge_max_rows: 3 * Math.max(100, Math.round(s.rows / 10)),
          create_target: true,
        },
      ],
    });
    return trigger(stack, s);
  },

  rerun: trigger,

  failingStatement: (s) => new RegExp(`MERGE INTO .*${s.name}`, 'is'),

  async settle(stack, s) {
    await stack.api.call('POST', '/api/v1/watermark-sync/pause', { name: s.table });
    // A run the Schedule started before the pause finds nothing new and ends `idle`.
    const deadline = Date.now() + SETTLE_MS;
    while ((await watermarkRow(stack, s))?.last_status === 'running') {
      if (Date.now() > deadline) return; // verify then reports the row as left `running`
      await new Promise((r) => setTimeout(r, 200));
    }
  },

  async verify(stack, s) {
    const { rows: source } = await stack.pool.query(`SELECT * FROM ${s.table} ORDER BY id`);
    const target = await stack.snowflake.query(`SELECT * FROM ${s.target}`);
    const v = compareRows(source, target, 'id');
    const state = await watermarkRow(stack, s);
    const leftovers: string[] = [];
    const stateWrong: string[] = [];
    if (state?.last_status === 'running') leftovers.push(`sync_watermarks row of ${s.table} still 'running'`);
    const { rows: last } = await stack.pool.query<{ id: number; updated_at: Date }>(
      `SELECT id, updated_at FROM ${s.table} ORDER BY updated_at DESC, id DESC LIMIT 1`,
    );
    const want = last[0]!;
    if (
      !state?.last_watermark ||
      Date.parse(state.last_watermark) !== want.updated_at.getTime() ||
      String(state.last_pk?.[0]) !== String(want.id)
    )
      stateWrong.push(
        `stored position ${state?.last_watermark}/${JSON.stringify(state?.last_pk)}, want ${want.updated_at.toISOString()}/${want.id}`,
      );
    return { ...v, stateWrong, leftovers, failedRuns: Number(state?.sync_failure_count ?? 0) };
  },

  async finish(stack, s) {
    await stack.api.call('POST', '/api/v1/watermark-sync/pause', { name: s.table });
  },
};
