/**
 * `floe watermark-sync ...` (alias `pg-sync`): operate the watermark sync (PostgreSQL → Snowflake) through
 * `/api/v1/watermark-sync`, the same commands as `npm run watermark-sync`: `apply --config <file>`, `pause`, `resume`, `trigger`,
 * `backfill [--table t ...] [--after wm]`, `discover [--config <file>] [--create]` (exit 1 when a table
 * has an error), `status`, `errors`. `--name` picks the configuration (default `default`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { anyObject, type Runner } from './context.js';
import { CliError, EXIT } from './errors.js';
import { renderTable, toJson } from './output.js';
import { wholeNumber } from './options.js';
import { routes } from './routes.js';

const NAME_OPTION = ['--name <name>', 'watermark sync configuration name (default "default")'] as const;

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--config: cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

const scheduleAnswer = z.looseObject({ schedule_id: z.string(), status: z.string() });
const discoverAnswer = z.looseObject({
  dry_run: z.boolean(),
  ddl: z.string(),
  tables: z.array(z.looseObject({ error: z.unknown().optional() })),
});
const statusAnswer = z.looseObject({ tables: z.array(z.looseObject({})) });

/** Register the `watermark-sync` command group (alias `pg-sync`) on `program`. */
export function registerWatermarkSyncCommands(program: Command, run: Runner): void {
  const pg = program
    .command('watermark-sync')
    .alias('pg-sync')
    .description('watermark sync, PostgreSQL → Snowflake (the Temporal Schedule of a YAML configuration)');

  pg.command('apply')
    .description('create or update the schedule from a YAML configuration (idempotent)')
    .requiredOption('-c, --config <file>', 'YAML configuration (see config/sync_config.example.yaml)')
    .action(
      run(async (ctx, opts: { config: string }) => {
        const r = await ctx.api(
          'POST',
          routes.watermarkSync.apply,
          z.looseObject({ schedule_id: z.string(), action: z.string(), tables: z.array(z.string()) }),
          {
            body: { yaml: readConfigFile(opts.config) },
          },
        );
        ctx.emit(r, (d) => `${d.schedule_id}: ${d.action} (${d.tables.length} tables: ${d.tables.join(', ')})`);
      }),
    );

  for (const [verb, route, what] of [
    ['pause', routes.watermarkSync.pause, 'pause the schedule'],
    ['resume', routes.watermarkSync.resume, 'resume the schedule'],
    ['trigger', routes.watermarkSync.trigger, 'start a run now (skipped if one is running)'],
  ] as const) {
    pg.command(verb)
      .description(what)
      .option(...NAME_OPTION)
      .action(
        run(async (ctx, opts: { name?: string }) => {
          const r = await ctx.api('POST', route, scheduleAnswer, { body: opts.name ? { name: opts.name } : {} });
          ctx.emit(r, (d) => `${d.schedule_id}: ${d.status}`);
        }),
      );
  }

  pg.command('backfill')
    .description('reset the positions of tables and sync them again now')
    .option(...NAME_OPTION)
    .option('-t, --table <source...>', 'source tables (default all), e.g. public.users')
    .option('--after <watermark>', 'start after this watermark instead of the beginning')
    .action(
      run(async (ctx, opts: { name?: string; table?: string[]; after?: string }) => {
        const r = await ctx.api(
          'POST',
          routes.watermarkSync.backfill,
          z.looseObject({ workflow_id: z.string(), tables: z.array(z.string()) }),
          {
            body: { name: opts.name, tables: opts.table, after: opts.after },
          },
        );
        ctx.emit(r, (d) => `backfill of ${d.tables.join(', ')} started: workflow ${d.workflow_id}`);
      }),
    );

  pg.command('discover')
    .description('print the Snowflake DDL of each table (dry run); --create creates missing targets')
    .option('-c, --config <file>', 'YAML configuration (default: the applied one)')
    .option(...NAME_OPTION)
    .option('--create', 'create missing Snowflake targets')
    .action(
      run(async (ctx, opts: { config?: string; name?: string; create?: boolean }) => {
        const body = opts.config
          ? { yaml: readConfigFile(opts.config), create: opts.create === true }
          : { ...(opts.name ? { name: opts.name } : {}), create: opts.create === true };
        const r = await ctx.api('POST', routes.watermarkSync.discover, discoverAnswer, { body });
        ctx.emit(r, (d) => d.ddl);
        return r.tables.some((t) => t.error) ? EXIT.failed : EXIT.ok;
      }),
    );

  pg.command('status')
    .description('schedule state and per-table positions, counts and last errors')
    .option(...NAME_OPTION)
    .action(
      run(async (ctx, opts: { name?: string }) => {
        const r = await ctx.api('GET', routes.watermarkSync.status, statusAnswer, { query: { name: opts.name } });
        ctx.emit(r, (d) =>
          [
            `schedule: ${d.schedule ? toJson(d.schedule) : 'not applied'}`,
            renderTable(d.tables, [
              'source_table',
              'target_table',
              'last_status',
              'last_run',
              'last_watermark',
              'rows_processed',
              'last_error',
            ]),
          ].join('\n'),
        );
      }),
    );

  pg.command('errors')
    .description('recent batch errors with the primary keys of their first rows')
    .option('--table <source>', 'only this source table')
    .option('--limit <n>', 'at most this many (1..500, default 50)', wholeNumber)
    .action(
      run(async (ctx, opts: { table?: string; limit?: number }) => {
        const r = await ctx.api('GET', routes.watermarkSync.errors, z.looseObject({ errors: z.array(anyObject) }), {
          query: { table: opts.table, limit: opts.limit },
        });
        ctx.emit(r, (d) => renderTable(d.errors));
      }),
    );
}
