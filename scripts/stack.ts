/**
 * `npm run stack`: start PostgreSQL, Temporal (UI :8233), the Snowflake emulator (TPC-H SF1), the
 * worker and the API, print where they are, and stop everything on Ctrl-C / SIGTERM.
 *
 *   npm run stack                          # everything local
 *   npm run stack -- --host 0.0.0.0        # API reachable from outside (containers)
 *   npm run stack -- --temporal-port 7300 --temporal-ui-port 0 --emulator-port 0 --seed-tpch 0
 *   npm run stack -- --clean-orphans       # delete PostgreSQL clusters whose state directory is gone, then exit
 *
 * Ports: 0 picks a free one. Environment: see src/config.ts. DATABASE_URL, TEMPORAL_ADDRESS and
 * SNOWFLAKE_ACCOUNT switch the corresponding local piece off.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../src/config.js';
import { FALLBACK_ROOT } from '../src/infra/postgres.js';
import { removeOrphanClusters } from '../src/infra/postgres-orphans.js';
import { startStack, type Stack } from '../src/infra/stack.js';

const { values: flags } = parseArgs({
  options: {
    host: { type: 'string' },
    'temporal-port': { type: 'string' },
    'temporal-ui-port': { type: 'string' },
    'emulator-port': { type: 'string' },
    'seed-tpch': { type: 'string' },
    'clean-orphans': { type: 'boolean', default: false },
  },
});

/** A numeric flag, or undefined when absent; exits with a message when it is not a number. */
function numberFlag(name: keyof typeof flags): number | undefined {
  const text = flags[name];
  if (typeof text !== 'string') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`floe stack: --${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return n;
}

function cleanOrphans(): void {
  const removed = removeOrphanClusters();
  for (const o of removed) {
    process.stdout.write(
      `removed ${o.dir} (${(o.bytes / 1e6).toFixed(1)} MB; state directory ${o.requestedDir} is gone)\n`,
    );
  }
  process.stdout.write(
    removed.length
      ? `${removed.length} orphaned cluster(s) removed from ${FALLBACK_ROOT}\n`
      : `no orphaned clusters in ${FALLBACK_ROOT}\n`,
  );
}

async function main(): Promise<void> {
  if (flags['clean-orphans']) return cleanOrphans();
  const started = Date.now();
  let stack: Stack;
  try {
    stack = await startStack({
      apiHost: flags.host,
      temporalPort: numberFlag('temporal-port'),
      temporalUiPort: numberFlag('temporal-ui-port'),
      emulatorPort: numberFlag('emulator-port'),
      seedTpch: numberFlag('seed-tpch'),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`floe stack: ${err.message}\n`);
    } else {
      process.stderr.write(`floe stack: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  }
  const { urls, config } = stack;
  const q = config.temporal.taskQueues;
  const lines = [
    '',
    `floe stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API          ${urls.api ?? '(not started)'}`,
    `  Temporal     ${urls.temporal}  (namespace ${config.temporal.namespace})`,
    `  task queues  ${[q.tableSync, q.tableSyncTransfer, q.watermarkSync, q.cacheRefresh, q.executionUpload].join(', ')}`,
    `  Temporal UI  ${urls.temporalUi ?? '(external server)'}`,
    `  Snowflake    ${urls.snowflake}${stack.embeddedEmulator ? '  (embedded emulator)' : ''}`,
    `  PostgreSQL   ${urls.postgres}`,
    `  DuckDB file  ${config.duckdbPath}`,
    `  admin user   ${config.api.adminUsername}`,
    ...stack.notes.map((n) => `  note: ${n}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stoppingSince = 0;
  const shutdown = (signal: string): void => {
    if (stoppingSince) {
      // A terminal's Ctrl-C can arrive twice at once (to the group and relayed by tsx): only a
      // later, deliberate second Ctrl-C forces the exit.
      if (Date.now() - stoppingSince < 2000) return;
      process.stderr.write(`floe stack: ${signal} again, exiting now (servers are killed)\n`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stderr.write(`\nfloe stack: ${signal}: stopping...\n`);
    stack
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`floe stack: stop failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
