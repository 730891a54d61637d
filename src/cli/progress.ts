/**
 * Following a table sync job: the job as `GET /api/v1/sync/jobs/{id}` returns it (validated loosely:
 * only the fields drawn here are read, and a progress shape the CLI does not know is ignored rather than
 * fatal), a one-line progress bar (rows loaded, rows/s, phase, bytes, ETA when the row total is known),
 * and the poll loop of `--wait`.
 */
import { z } from 'zod';
import type { Ctx } from './context.js';
import { formatBytes, formatCount, formatDuration } from './output.js';
import { routes } from './routes.js';

const count = z.number().nonnegative();

/**
 * Progress of a running job: `{phase, rowsLoaded, rowsTotal, bytes, rowsPerSecond}` (rows loaded by the
 * transfer so far, per batch or as DuckDB's estimate; `rowsTotal` and `rowsPerSecond` null until known).
 */
const progressSchema = z.looseObject({
  phase: z.string().optional(),
  rowsLoaded: count.optional(),
  rowsTotal: count.nullable().optional(),
  bytes: count.optional(),
  rowsPerSecond: count.nullable().optional(),
});

/** The fields of a table sync job the CLI reads; the rest is passed through to `--json`. */
export const jobSchema = z.looseObject({
  job_id: z.string(),
  status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']),
  table: z.string().nullable().optional(),
  strategy: z.string().nullable().optional(),
  method: z.string().nullable().optional(),
  started_at: z.string().optional(),
  completed_at: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
  error_type: z.string().nullable().optional(),
  rows: z.number().nullable().optional(),
  stats: z.looseObject({}).nullable().optional(),
  progress: progressSchema.nullable().optional().catch(null),
});

export type Job = z.infer<typeof jobSchema>;

/** True once a job has finished (completed, failed or cancelled). */
export function isFinished(job: Pick<Job, 'status'>): boolean {
  return job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';
}

/** What one progress line shows. */
export interface ProgressView {
  status: Job['status'];
  phase?: string;
  rowsLoaded: number;
  rowsTotal?: number;
  bytes?: number;
  /** Rows per second: the API's (the transfer attempt's rate), else measured over the polls; undefined until known. */
  rowsPerSecond?: number;
  elapsedSeconds: number;
}

/** The progress fields of a job, as the API reports them (absent ones undefined). */
export function progressOf(
  job: Job,
): Pick<ProgressView, 'phase' | 'rowsLoaded' | 'rowsTotal' | 'bytes' | 'rowsPerSecond'> {
  const p = job.progress;
  return {
    phase: p?.phase,
    rowsLoaded: p?.rowsLoaded ?? 0,
    rowsTotal: p?.rowsTotal ?? undefined,
    bytes: p?.bytes,
    rowsPerSecond: p?.rowsPerSecond ?? undefined,
  };
}

const BAR_WIDTH = 24;

/**
 * One line, e.g. `[#########...............] 38%  2,280,000 / 6,001,215 rows  221,840 rows/s  transfer  ETA 0:17`;
 * without a known total: `running  transfer  2,280,000 rows  221,840 rows/s  0:10`.
 */
export function renderProgress(v: ProgressView): string {
  const parts: string[] = [];
  const total = v.rowsTotal;
  if (total !== undefined && total > 0) {
    const ratio = Math.min(1, v.rowsLoaded / total);
    const filled = Math.round(ratio * BAR_WIDTH);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(ratio * 100)}%`);
    parts.push(`${formatCount(v.rowsLoaded)} / ${formatCount(total)} rows`);
  } else {
    parts.push(v.status);
    parts.push(`${formatCount(v.rowsLoaded)} rows`);
  }
  if (v.rowsPerSecond !== undefined) parts.push(`${formatCount(v.rowsPerSecond)} rows/s`);
  if (v.phase) parts.push(v.phase);
  if (v.bytes !== undefined) parts.push(formatBytes(v.bytes));
  if (total !== undefined && v.rowsPerSecond && v.rowsPerSecond > 0 && total > v.rowsLoaded)
    parts.push(`ETA ${formatDuration((total - v.rowsLoaded) / v.rowsPerSecond)}`);
  else parts.push(formatDuration(v.elapsedSeconds));
  return parts.join('  ');
}

/**
 * Rows per second from the polls seen so far: rows gained since the first poll that reported rows,
 * over the time since then. Undefined until two such polls are at least a second apart.
 */
export class RateMeter {
  private first?: { rows: number; at: number };

  observe(rows: number, at: number): number | undefined {
    if (rows <= 0) return undefined;
    if (!this.first) {
      this.first = { rows, at };
      return undefined;
    }
    const seconds = (at - this.first.at) / 1000;
    return seconds >= 1 ? (rows - this.first.rows) / seconds : undefined;
  }
}

/** Options of {@link waitForJob}. */
export interface WaitOptions {
  /** Time between polls, ms (default 1000). */
  intervalMs?: number;
}

/**
 * Poll the job until it finishes, drawing progress on stderr: redrawn in place on a terminal, else one
 * line whenever the status or phase changes (and nothing with `--json`, whose stdout stays one document).
 * Returns the finished job.
 */
export async function waitForJob(ctx: Ctx, jobId: string, opts: WaitOptions = {}): Promise<Job> {
  const interval = opts.intervalMs ?? 1000;
  const started = Date.now();
  const meter = new RateMeter();
  let lastKey = '';
  const tty = ctx.io.errIsTty;
  for (;;) {
    const job = await ctx.api('GET', routes.tableSync.job(jobId), jobSchema);
    const now = Date.now();
    const p = progressOf(job);
    const observed = meter.observe(p.rowsLoaded, now);
    const line = renderProgress({
      status: job.status,
      ...p,
      rowsPerSecond: job.status === 'running' ? (p.rowsPerSecond ?? observed) : undefined,
      elapsedSeconds: (now - started) / 1000,
    });
    if (tty) ctx.io.err(`\r${line}\x1b[K`);
    else if (!ctx.json) {
      const key = `${job.status}/${p.phase ?? ''}`;
      if (key !== lastKey) ctx.io.err(`${job.job_id}: ${line}\n`);
      lastKey = key;
    }
    if (isFinished(job)) {
      if (tty) ctx.io.err('\n');
      return job;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
