/**
 * Table sync jobs: `floe sync <table> [--full|--incremental] [--method m] [--lag-seconds n] [--wait]`,
 * `floe jobs [--table t] [--status s] [--limit n]`, `floe job <id> [--wait]`, `floe cancel <id>`.
 * With `--wait` (and for `floe job`), the exit code follows the job: 0 completed (or still running
 * without `--wait`), 1 failed, 3 cancelled.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { listOf, type Ctx, type Runner } from './context.js';
import { exitCodeForJobStatus, type ExitCode } from './errors.js';
import { cellText, renderFields, renderTable } from './output.js';
import { isFinished, jobSchema, progressOf, renderProgress, waitForJob, type Job } from './progress.js';
import { routes } from './routes.js';
import { parseTableName, wholeNumber } from './options.js';

const METHODS = ['auto', 'stage', 'stream'];
const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'];

/** The strategy, method and lag options shared by `floe sync` and `floe schedules create`. */
export function addStrategyOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--full', 'full refresh: replace the target with the whole table').conflicts('incremental'))
    .option('--incremental', 'incremental: rows past the high-water mark of the watermark column')
    .addOption(new Option('--method <method>', 'transfer method').choices(METHODS).default('auto'))
    .option('--lag-seconds <n>', 're-read rows this many seconds before the high-water mark', wholeNumber);
}

/** Options from {@link addStrategyOptions}. */
export interface StrategyOptions {
  full?: boolean;
  incremental?: boolean;
  method: string;
  lagSeconds?: number;
}

/** The API body fields for {@link StrategyOptions}: strategy defaults to full refresh. */
export function strategyBody(o: StrategyOptions): Record<string, unknown> {
  return {
    strategy: o.incremental ? 'incremental' : 'full',
    method: o.method,
    ...(o.lagSeconds !== undefined ? { lag_seconds: o.lagSeconds } : {}),
  };
}

const started = z.looseObject({ job_id: z.string(), table: z.string(), strategy: z.string(), method: z.string() });

/** A job as `key: value` lines: its fields, then progress (running) or verified counts, and the error. */
export function describeJob(job: Job): string {
  const stats = job.stats
    ? Object.entries(job.stats)
        .filter(([, v]) => typeof v !== 'object' || v === null)
        .map(([k, v]) => `${k}=${cellText(v)}`)
        .join(' ')
    : null;
  const progress = isFinished(job)
    ? null
    : renderProgress({ status: job.status, ...progressOf(job), elapsedSeconds: elapsedOf(job) });
  const error = job.error ? `${job.error}${job.error_type ? ` (${job.error_type})` : ''}` : null;
  return renderFields({ ...job, progress, stats, error }, [
    'job_id',
    'status',
    'table',
    'target',
    'strategy',
    'method',
    'started_at',
    'completed_at',
    'rows',
    'progress',
    'stats',
    'error',
  ]);
}

function elapsedOf(job: Job): number {
  const t = job.started_at ? Date.parse(job.started_at) : NaN;
  return Number.isNaN(t) ? 0 : (Date.now() - t) / 1000;
}

/** Wait for `jobId` (progress on stderr), print it, and return the exit code of its outcome. */
async function waitAndReport(ctx: Ctx, jobId: string): Promise<ExitCode> {
  const job = await waitForJob(ctx, jobId);
  ctx.emit(job, describeJob);
  return exitCodeForJobStatus(job.status);
}

/** Register `sync`, `jobs`, `job` and `cancel` on `program`. */
export function registerSyncCommands(program: Command, run: Runner): void {
  addStrategyOptions(
    program
      .command('sync')
      .description('start a table sync of a registered table (Snowflake → DuckDB)')
      .argument('<table>', 'DATABASE.SCHEMA.TABLE or SCHEMA.TABLE'),
  )
    .option('--wait', 'follow the job with a progress bar until it ends; exit code follows its outcome')
    .action(
      run(async (ctx, table: string, opts: StrategyOptions & { wait?: boolean }) => {
        const r = await ctx.api('POST', routes.tableSync.start, started, {
          body: { ...parseTableName(table), ...strategyBody(opts) },
        });
        if (opts.wait) {
          if (!ctx.json) ctx.io.err(`started ${r.job_id} (${r.strategy}, ${r.method})\n`);
          return waitAndReport(ctx, r.job_id);
        }
        ctx.emit(
          r,
          (d) =>
            `started ${d.job_id} (${d.strategy}, ${d.method}) for ${d.table}\nfollow it: floe job ${d.job_id} --wait`,
        );
      }),
    );

  program
    .command('jobs')
    .description('list table sync jobs, newest first')
    .option('--table <table>', 'only this table (DATABASE.SCHEMA.TABLE or SCHEMA.TABLE)')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(STATUSES))
    .option('--limit <n>', 'at most this many (1..1000, default 50)', wholeNumber)
    .action(
      run(async (ctx, opts: { table?: string; status?: string; limit?: number }) => {
        const r = await ctx.api('GET', routes.tableSync.jobs, listOf('jobs'), {
          query: { table: opts.table, status: opts.status, limit: opts.limit },
        });
        ctx.emit(r, (d) =>
          renderTable(d.jobs, [
            'job_id',
            'status',
            'table',
            'strategy',
            'method',
            'started_at',
            'completed_at',
            'rows',
          ]),
        );
      }),
    );

  program
    .command('job')
    .description('one table sync job: status, progress, verified counts, error; exit code follows its outcome')
    .argument('<job-id>')
    .option('--wait', 'follow the job until it ends')
    .action(
      run(async (ctx, jobId: string, opts: { wait?: boolean }) => {
        if (opts.wait) return waitAndReport(ctx, jobId);
        const job = await ctx.api('GET', routes.tableSync.job(jobId), jobSchema);
        ctx.emit(job, describeJob);
        return exitCodeForJobStatus(job.status);
      }),
    );

  program
    .command('cancel')
    .description('cancel a running table sync job (the previous data stays)')
    .argument('<job-id>')
    .action(
      run(async (ctx, jobId: string) => {
        const r = await ctx.api(
          'POST',
          routes.tableSync.cancel(jobId),
          z.looseObject({ job_id: z.string(), status: z.string() }),
        );
        ctx.emit(r, (d) => `${d.job_id}: ${d.status}`);
      }),
    );
}
