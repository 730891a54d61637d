/**
 * `floe uploads stats|failed|queue|retry|backfill`: the execution upload queue (each user's executions
 * uploaded to their Snowflake). An admin token sees every user; a `user` token only its own.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { anyObject, listOf, type Runner } from './context.js';
import { renderFields, renderTable } from './output.js';
import { wholeNumber } from './options.js';
import { routes } from './routes.js';

const QUEUE_STATUSES = ['pending', 'processing', 'completed', 'failed', 'skipped'];

interface BackfillOptions {
  userId?: string;
  since?: string;
  until?: string;
  limit?: number;
  includeFailed?: boolean;
  dryRun?: boolean;
}

/** Register the `execution-upload` command group (alias `uploads`) on `program`. */
export function registerExecutionUploadCommands(program: Command, run: Runner): void {
  const uploads = program.command('execution-upload').alias('uploads').description('execution upload queue');

  uploads
    .command('stats')
    .description('queue items by status')
    .action(
      run(async (ctx) => {
        const r = await ctx.api('GET', routes.executionUpload.stats, anyObject);
        ctx.emit(
          r,
          (d) =>
            renderTable(
              Object.entries(d)
                .filter(([, v]) => typeof v === 'object' && v !== null)
                .map(([status, v]) => ({ status, ...(v as Record<string, unknown>) })),
            ) + (d.total !== undefined ? `\ntotal: ${String(d.total)}` : ''),
        );
      }),
    );

  uploads
    .command('failed')
    .description('failed items with their errors')
    .option('--limit <n>', 'at most this many (1..500, default 50)', wholeNumber)
    .action(
      run(async (ctx, opts: { limit?: number }) => {
        const r = await ctx.api('GET', routes.executionUpload.failed, listOf('failed'), {
          query: { limit: opts.limit },
        });
        ctx.emit(r, (d) =>
          renderTable(d.failed, ['sync_id', 'execution_id', 'user_id', 'retry_count', 'max_retries', 'error_message']),
        );
      }),
    );

  uploads
    .command('queue')
    .description('queue items, newest first')
    .addOption(new Option('--status <status>', 'only items with this status').choices(QUEUE_STATUSES))
    .option('--limit <n>', 'at most this many (1..1000, default 100)', wholeNumber)
    .action(
      run(async (ctx, opts: { status?: string; limit?: number }) => {
        const r = await ctx.api('GET', routes.executionUpload.queue, listOf('items'), {
          query: { status: opts.status, limit: opts.limit },
        });
        ctx.emit(r, (d) =>
          renderTable(d.items, ['sync_id', 'execution_id', 'user_id', 'status', 'retry_count', 'created_at']),
        );
      }),
    );

  uploads
    .command('retry')
    .description('queue a failed or skipped item again and start the drain')
    .argument('<sync-id>')
    .action(
      run(async (ctx, syncId: string) => {
        const r = await ctx.api(
          'POST',
          routes.executionUpload.retry(syncId),
          z.looseObject({ sync_id: z.string(), status: z.string() }),
        );
        ctx.emit(r, (d) => `${d.sync_id}: ${d.status}`);
      }),
    );

  uploads
    .command('backfill')
    .description('queue executions that were never uploaded')
    .option('--user-id <uuid>', 'only this user')
    .option('--since <iso>', 'executions created at or after this ISO 8601 time')
    .option('--until <iso>', 'executions created before this ISO 8601 time')
    .option('--limit <n>', 'at most this many (default 10000)', wholeNumber)
    .option('--include-failed', 'also queue failed items again')
    .option('--dry-run', 'only list what would be queued')
    .action(
      run(async (ctx, opts: BackfillOptions) => {
        const body = {
          user_id: opts.userId,
          since: opts.since,
          until: opts.until,
          limit: opts.limit,
          include_failed: opts.includeFailed === true,
          dry_run: opts.dryRun === true,
        };
        const r = await ctx.api(
          'POST',
          routes.executionUpload.backfill,
          z.looseObject({ queued: z.number(), execution_ids: z.array(z.string()), dry_run: z.boolean() }),
          { body },
        );
        ctx.emit(r, (d) =>
          d.dry_run
            ? `would queue ${d.execution_ids.length} executions\n${renderFields(d, ['execution_ids'])}`
            : `queued ${d.queued} executions`,
        );
      }),
    );
}
