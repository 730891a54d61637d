/**
 * `npm run watermark-sync -- <command> [options]`: operate the watermark sync (PostgreSQL → Snowflake).
 * `npm run pg-sync` (the job's former name) runs the same script, so existing runbooks still work.
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
  applyWatermarkSyncConfig,
  backfillWatermarkSync,
  describeWatermarkSync,
  pauseWatermarkSync,
  resumeWatermarkSync,
  triggerWatermarkSync,
} from '../src/client/watermarkSync.js';
import { envValue, loadConfig } from '../src/config.js';
import { createPool } from '../src/db/index.js';
import { parseWatermarkSyncConfig, WatermarkSyncConfigError } from '../src/jobs/watermark-sync/config.js';
import { DEFAULT_CONFIG_NAME, scheduleId } from '../src/jobs/watermark-sync/contract.js';
import { discover, formatDiscovery } from '../src/jobs/watermark-sync/discovery.js';
import { listWatermarks } from '../src/jobs/watermark-sync/store.js';

const USAGE =
  'usage: npm run watermark-sync -- <apply|pause|resume|trigger|backfill|discover|status> [--config file] [--name n] [--table t ...] [--after wm] [--create]';

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
    return parseWatermarkSyncConfig(readFileSync(values.config, 'utf8'));
  };
  const name = values.name ?? DEFAULT_CONFIG_NAME;

  if (cmd === 'discover') {
    // Needs only PostgreSQL (and Snowflake with --create or to check targets), not Temporal.
    const config = readConfig();
    const sourceUrl = envValue('PG_SYNC_SOURCE_URL') ?? envValue('DATABASE_URL');
    if (!sourceUrl) throw new Error('set PG_SYNC_SOURCE_URL or DATABASE_URL');
    const pool = createPool(sourceUrl, { max: 2, applicationName: 'floe-watermark-sync' });
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
        const r = await applyWatermarkSyncConfig(client, config, { taskQueue: cfg.temporal.taskQueues.watermarkSync });
        console.log(
          `${r.scheduleId}: ${r.action} (${config.tables.length} tables, every ${config.syncIntervalSeconds} s)`,
        );
        return 0;
      }
      case 'pause':
      case 'resume':
      case 'trigger': {
        const control = { pause: pauseWatermarkSync, resume: resumeWatermarkSync, trigger: triggerWatermarkSync }[cmd];
        if (!(await control(client, name))) throw new Error(`${scheduleId(name)}: not applied (run apply first)`);
        console.log(`${scheduleId(name)}: ${cmd === 'trigger' ? 'triggered' : `${cmd}d`}`);
        return 0;
      }
      case 'backfill': {
        const pool = createPool(cfg.databaseUrl, { max: 2, applicationName: 'floe-watermark-sync' });
        try {
          const r = await backfillWatermarkSync(client, pool, name, {
            tables: values.table,
            after: values.after ?? null,
          });
          if (!r) throw new Error(`${scheduleId(name)}: not applied (run apply first)`);
          console.log(`backfill of ${r.tables.join(', ')} started: workflow ${r.workflowId}`);
          return 0;
        } finally {
          await pool.end();
        }
      }
      case 'status': {
        const pool = createPool(cfg.databaseUrl, { max: 2, applicationName: 'floe-watermark-sync' });
        try {
          console.log(
            JSON.stringify(
              { schedule: await describeWatermarkSync(client, name), tables: await listWatermarks(pool) },
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
    if (err instanceof WatermarkSyncConfigError) for (const i of err.issues) console.error(`${i.path}: ${i.message}`);
    else console.error((err as Error).message ?? String(err));
    process.exit(1);
  },
);
