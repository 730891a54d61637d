/**
 * `floe schedules list|create|delete`: Temporal Schedules that start table syncs (one per table; a run
 * is skipped while the previous one still runs).
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { listOf, type Runner } from './context.js';
import { CliError, EXIT } from './errors.js';
import { renderTable } from './output.js';
import { routes } from './routes.js';
import { addStrategyOptions, strategyBody, type StrategyOptions } from './sync.js';
import { intervalOption, parseTableName } from './options.js';

/** Register the `schedules` command group on `program`. */
export function registerScheduleCommands(program: Command, run: Runner): void {
  const schedules = program.command('schedules').description('Temporal Schedules of table syncs');

  schedules
    .command('list')
    .description('list table sync schedules with their next runs')
    .action(
      run(async (ctx) => {
        const r = await ctx.api('GET', routes.tableSync.schedules, listOf('schedules'));
        ctx.emit(r, (d) =>
          renderTable(
            d.schedules.map((s) => ({ ...s, next_run: (s.next_runs as string[] | undefined)?.[0] ?? null })),
            ['schedule_id', 'table', 'strategy', 'method', 'interval_seconds', 'cron', 'paused', 'next_run'],
          ),
        );
      }),
    );

  addStrategyOptions(
    schedules
      .command('create')
      .description('sync a registered table on an interval or a cron expression (UTC)')
      .argument('<table>', 'DATABASE.SCHEMA.TABLE or SCHEMA.TABLE'),
  )
    .addOption(
      new Option('--every <interval>', 'interval: seconds, or 15m, 1h, 1d').argParser(intervalOption).conflicts('cron'),
    )
    .option('--cron <expression>', '5-field cron expression (minute hour day month weekday) or @hourly, @daily...')
    .action(
      run(async (ctx, table: string, opts: StrategyOptions & { every?: number; cron?: string }) => {
        if (opts.every === undefined && opts.cron === undefined)
          throw new CliError('give --every <interval> or --cron <expression>', EXIT.usage);
        const r = await ctx.api('POST', routes.tableSync.schedules, z.looseObject({ schedule_id: z.string() }), {
          body: {
            ...parseTableName(table),
            ...strategyBody(opts),
            ...(opts.every !== undefined ? { interval_seconds: opts.every } : { cron: opts.cron }),
          },
        });
        ctx.emit(r, (d) => `created schedule ${d.schedule_id}`);
      }),
    );

  schedules
    .command('delete')
    .description('delete a schedule (running jobs go on)')
    .argument('<schedule-id>')
    .action(
      run(async (ctx, id: string) => {
        const r = await ctx.api('DELETE', routes.tableSync.schedule(id), z.looseObject({ schedule_id: z.string() }));
        ctx.emit(r, (d) => `deleted schedule ${d.schedule_id}`);
      }),
    );
}
