/**
 * `npm run pg-sync -- <command> [options]`: operate the watermark sync (PostgreSQL → Snowflake).
 *
 *   apply    --config config/sync_config.yaml     create or update the Temporal Schedule (idempotent)
 *   pause    [--name default]                     pause the schedule
 *   resume   [--name default]                     resume it
 *   trigger  [--name default]                     start a run now (skipped if one is running)
 *   backfill [--name default] [--table public.users ...] [--after <watermark>]
 *                                                 reset positions and run those tables now
 *   discover --config <file> [--create]           print the Snowflake DDL per table (dry run);
 *                                                 --create creates missing targets
 *   status   [--name default]                     schedule state and per-table status as JSON
 *
 * Configuration from the environment (src/config.ts): TEMPORAL_ADDRESS, DATABASE_URL, SNOWFLAKE_*,
 * FLOE_TASK_QUEUE; the source database is PG_SYNC_SOURCE_URL (default DATABASE_URL).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import {
  applyPgSyncConfig,
  backfillPgSync,
  describePgSync,
  pausePgSync,
  resumePgSync,
  triggerPgSync,
} from '../src/client/watermarkSync.js';
import { envValue, loadConfig } from '../src/config.js';
import { createPool } from '../src/db/index.js';
import { DEFAULT_PG_SYNC_NAME } from '../src/jobs/watermarkSync.js';
import { parsePgSyncConfig, PgSyncConfigError } from '../src/pgsync/config.js';
import { discover, formatDiscovery } from '../src/pgsync/discovery.js';
import { listWatermarks } from '../src/pgsync/store.js';

const USAGE =
  'usage: npm run pg-sync -- <apply|pause|resume|trigger|backfill|discover|status> [--config file] [--name n] [--table t ...] [--after wm] [--create]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      name: { type: 'string', short: 'n' },
      table: { type: 'string', multiple: true, short: 't' },
      after: { type: 'string' },
      create: { type: 'boolean', default: false },
    },
  });
  const cmd = positionals[0];
  if (!cmd) {
    console.error(USAGE);
    return 2;
  }
  const readConfig = () => {
    if (!values.config) throw new Error(`${cmd} needs --config <file>`);
    return parsePgSyncConfig(readFileSync(values.config, 'utf8'));
  };
  const name = values.name ?? DEFAULT_PG_SYNC_NAME;

  if (cmd === 'discover') {
    // Needs only PostgreSQL (and Snowflake with --create or to check targets), not Temporal.
    const config = readConfig();
    const sourceUrl = envValue('PG_SYNC_SOURCE_URL') ?? envValue('DATABASE_URL');
    if (!sourceUrl) throw new Error('set PG_SYNC_SOURCE_URL or DATABASE_URL');
    const pool = createPool(sourceUrl, { max: 2, applicationName: 'floe-pg-sync' });
    try {
      let snowflake;
      try {
        snowflake = loadConfig().snowflake;
      } catch {
        if (values.create) throw new Error('--create needs the SNOWFLAKE_* settings');
      }
      const tables = await discover(pool, config, { snowflake, create: values.create });
      console.log(formatDiscovery(tables));
      return tables.some((t) => t.error) ? 1 : 0;
    } finally {
      await pool.end();
    }
  }

  // Validate the file before touching the environment or Temporal, so config errors come first.
  const applying = cmd === 'apply' ? readConfig() : null;
  const cfg = loadConfig();
  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  try {
    switch (cmd) {
      case 'apply': {
        const config = applying!;
        const r = await applyPgSyncConfig(client, config, { taskQueue: cfg.temporal.taskQueues.watermarkSync });
        console.log(
          `${r.scheduleId}: ${r.action} (${config.tables.length} tables, every ${config.syncIntervalSeconds} s)`,
        );
        return 0;
      }
      case 'pause':
        await pausePgSync(client, name);
        console.log(`pg-sync-${name}: paused`);
        return 0;
      case 'resume':
        await resumePgSync(client, name);
        console.log(`pg-sync-${name}: resumed`);
        return 0;
      case 'trigger':
        await triggerPgSync(client, name);
        console.log(`pg-sync-${name}: triggered`);
        return 0;
      case 'backfill': {
        const pool = createPool(cfg.databaseUrl, { max: 2, applicationName: 'floe-pg-sync' });
        try {
          const r = await backfillPgSync(client, pool, name, { tables: values.table, after: values.after ?? null });
          console.log(`backfill of ${r.tables.join(', ')} started: workflow ${r.workflowId}`);
          return 0;
        } finally {
          await pool.end();
        }
      }
      case 'status': {
        const pool = createPool(cfg.databaseUrl, { max: 2, applicationName: 'floe-pg-sync' });
        try {
          console.log(
            JSON.stringify(
              { schedule: await describePgSync(client, name), tables: await listWatermarks(pool) },
              null,
              2,
            ),
          );
          return 0;
        } finally {
          await pool.end();
        }
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof PgSyncConfigError) for (const i of err.issues) console.error(`${i.path}: ${i.message}`);
    else console.error((err as Error).message ?? String(err));
    process.exit(1);
  },
);
