/**
 * `npm run stack`: start PostgreSQL, Temporal (UI :8233), the Snowflake emulator (TPC-H SF1), the
 * worker and the API, print where they are, and stop everything on Ctrl-C / SIGTERM.
 *
 *   npm run stack                  # everything local
 *   npm run stack -- --host 0.0.0.0   # API reachable from outside (containers)
 *
 * Environment: see src/config.ts. DATABASE_URL, TEMPORAL_ADDRESS and SNOWFLAKE_ACCOUNT switch the
 * corresponding local piece off.
 */
import { ConfigError } from '../src/config.js';
import { startStack, type Stack } from '../src/infra/stack.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const started = Date.now();
  let stack: Stack;
  try {
    stack = await startStack({ apiHost: argValue('--host') });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`floe stack: ${err.message}\n`);
    } else {
      process.stderr.write(`floe stack: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  }
  const { urls, config } = stack;
  const lines = [
    '',
    `floe stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API          ${urls.api ?? '(not started)'}`,
    `  Temporal     ${urls.temporal}  (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
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
