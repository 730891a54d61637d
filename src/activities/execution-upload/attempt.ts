/**
 * One attempt of one execution upload (the `executionUploadAttempt` activity): resolve the user's
 * active configuration (none: the item is skipped), read and type the results ({@link prepareUpload},
 * which a batch runs one item ahead), load them into the user's Snowflake (./load.ts), verify the count
 * and record the outcome in PostgreSQL.
 *
 * Idempotent: the target is rebuilt from scratch on every attempt and published by swap, so an attempt
 * that died half-way (worker killed, network) leaves no duplicate rows; the bookkeeping is one
 * transaction guarded by `status = 'processing'`, and an attempt that finds the item already completed
 * (or skipped) returns that outcome without loading again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import { withLabelledSession } from '../../credentials/kinds.js';
import { floeError, NonRetryable } from '../../errors.js';
import { activeSettings, configurationLabel } from '../../jobs/execution-upload/configs.js';
import {
  EXECUTION_UPLOAD_DEFAULTS as D,
  type ExecutionUploadOptions,
  type ExecutionUploadResult,
  type LoadMethod,
} from '../../jobs/execution-upload/contract.js';
import { loadTable, targetTableName, type LoadTable } from '../../jobs/execution-upload/infer.js';
import { getQueueItem } from '../../jobs/execution-upload/monitor.js';
import * as queue from '../../jobs/execution-upload/queue.js';
import { readUploadSource, type ExecutionInfo } from '../../jobs/execution-upload/results.js';
import type { SfName } from '../../jobs/execution-upload/sql.js';
import { SecretError } from '../../secrets/crypto.js';
import { activityLogger, startHeartbeat } from '../context.js';
import type { ExecutionUploadDeps } from './index.js';
import { loadAndPublish } from './load.js';

/** Input of `executionUploadAttempt`. */
export interface ExecutionUploadAttemptInput {
  syncId: string;
  options?: ExecutionUploadOptions;
  /** Attempt number as counted by the workflow (1 = first). */
  attempt: number;
}

/** Heartbeat details of an attempt. */
interface Progress {
  phase: 'begin' | 'read' | 'load' | 'publish';
  rows: number;
}

/** The error of a queue item that does not exist. */
const noSuchItem = (syncId: string) => floeError(NonRetryable.InvalidRequest, `sync item ${syncId} does not exist`);

/** The queue item `syncId`. @throws InvalidRequest when it does not exist. */
export async function requireItem(pool: pg.Pool, syncId: string): Promise<queue.ItemState> {
  const item = await queue.getItem(pool, syncId);
  if (!item) throw noSuchItem(syncId);
  return item;
}

/** The message (and driver code, when there is one) of an error, for log lines. */
function errMessage(err: unknown): string {
  const e = err as { message?: string; code?: unknown };
  const base = e?.message ?? String(err);
  return e?.code ? `${base} [${String(e.code)}]` : base;
}

/**
 * What an attempt reads before it loads, ready to load: the user's settings (secret decrypted), the
 * typed rows and the target; or why the item is skipped (no active configuration, no result columns).
 */
export type PreparedUpload =
  { skip: string } | { settings: SnowflakeSettings; credential: string; table: LoadTable; target: SfName };

/**
 * Read and type what queue item `syncId`'s upload loads (./results.ts, the user's active
 * configuration). Only reads and computes, so a batch runs it for the next item while the current one
 * loads ({@link runAttempt}'s `prepared`); an item not begun is not touched.
 * @throws InvalidRequest (item or execution missing, no results, results of another shape),
 *   AuthenticationFailed (the credential does not decrypt).
 */
export async function prepareUpload(deps: ExecutionUploadDeps, syncId: string): Promise<PreparedUpload> {
  const src = await readUploadSource(deps.pool, syncId);
  if (!src) throw noSuchItem(syncId);
  const exec = src.execution;
  if (!exec) throw floeError(NonRetryable.InvalidRequest, `execution ${src.executionId} does not exist`);
  const credential = configurationLabel(src.userId);
  const cfg = await activeSettings(deps.pool, src.userId, deps.secretKeys).catch((err: unknown) => {
    if (err instanceof SecretError) throw floeError(NonRetryable.AuthenticationFailed, `${credential}: ${err.message}`);
    throw err;
  });
  if (!cfg) return { skip: `no active Snowflake configuration for user ${src.userId}` };
  checkResultsKind(exec);
  if (exec.keys.length === 0) return { skip: `execution ${exec.executionId} has no result columns` };
  return {
    settings: cfg.settings,
    credential,
    table: loadTable(exec.keys, exec),
    target: [cfg.settings.database!, cfg.settings.schema!, targetTableName(exec.executionId, exec.completedAt)],
  };
}

/**
 * Upload one execution (see the module comment). Failures are thrown; the workflow records them on the
 * item and decides on a retry. `prepared`, when given, is {@link prepareUpload} of the item, started
 * earlier (its failure is this attempt's, counted once the attempt has begun); without it the attempt
 * reads the item once begun.
 *
 * @throws InvalidRequest (no results, item or execution missing, item no longer processing),
 *   AuthenticationFailed (the credential does not decrypt, or Snowflake refuses the sign-in),
 *   VerificationFailed (row count differs), and Snowflake errors (typed by src/errors.ts when wrapped
 *   with `wrapActivities`).
 */
export async function runAttempt(
  deps: ExecutionUploadDeps,
  baseLog: Logger | undefined,
  input: ExecutionUploadAttemptInput,
  prepared?: Promise<PreparedUpload>,
): Promise<ExecutionUploadResult> {
  const { attempt } = input;
  const o = { ...D, ...input.options };
  const log = activityLogger(baseLog);
  const item = await queue.beginAttempt(deps.pool, input.syncId, o.leaseSeconds);
  if (!item) throw noSuchItem(input.syncId);
  const ids = { syncId: item.syncId, executionId: item.executionId };
  const base = { ...ids, attempts: attempt };
  // A phase change heartbeats at most once a second (a batch's items share that; an upload's phases take
  // tens of milliseconds), at most a quarter of the timer's interval, which heartbeats while a phase runs:
  // so a live attempt never goes more than 1.25 timer intervals without one.
  const every = Math.max(1000, Math.min(5000, (o.heartbeatTimeoutSeconds * 1000) / 3));
  const hb = startHeartbeat<Progress>({ phase: 'begin', rows: 0 }, every, {
    minIntervalMs: Math.min(1000, every / 4),
  });
  try {
    if (item.status === 'completed') {
      const cur = await getQueueItem(deps.pool, item.syncId);
      return {
        ...base,
        status: 'completed',
        table: cur?.snowflake_table ?? undefined,
        rows: Number(cur?.rows_uploaded ?? 0),
        method: (cur?.load_method ?? undefined) as LoadMethod | undefined,
      };
    }
    if (item.status === 'skipped') {
      const cur = await getQueueItem(deps.pool, item.syncId);
      return { ...base, status: 'skipped', rows: 0, reason: cur?.error_message ?? undefined };
    }
    if (!item.begun)
      throw floeError(NonRetryable.InvalidRequest, `sync item ${item.syncId} is ${item.status}, not processing`);

    hb.beat({ phase: 'read', rows: 0 });
    const ready = await (prepared ?? prepareUpload(deps, item.syncId));
    if ('skip' in ready) {
      await queue.skipItem(deps.pool, item.syncId, ready.skip);
      log?.info({ ...ids, reason: ready.skip }, 'execution upload skipped');
      return { ...base, status: 'skipped', rows: 0, reason: ready.skip };
    }
    const { table, target, settings, credential } = ready;
    const rows = table.rows.length;
    const choice = o.loadMethod ?? 'auto';
    const method: LoadMethod = choice === 'auto' ? (rows <= o.bindMaxRows ? 'binds' : 'file') : choice;

    const hookInfo = { ...ids, attempt };
    await deps.hooks?.beforeLoad?.(hookInfo);
    const localDir = path.join(deps.tmpDir, `${item.syncId}-${attempt}`);
    let count: number;
    try {
      // A reused session of this credential when one is idle: one sign-in per user per drain, not per upload.
      count = await withLabelledSession(
        settings,
        credential,
        (sf) => {
          hb.beat({ phase: 'load', rows: 0 });
          return loadAndPublish(sf, {
            target,
            table,
            method,
            bindChunkRows: o.bindChunkRows,
            localDir,
            stageName: `FLOE_UPLOAD_${item.syncId.replaceAll('-', '').slice(0, 16).toUpperCase()}`,
            onRows: async (rowsLoaded) => {
              hb.beat({ phase: rowsLoaded === rows ? 'publish' : 'load', rows: rowsLoaded });
              await deps.hooks?.afterChunk?.({ ...hookInfo, rowsLoaded });
            },
          });
        },
        deps.sessions,
      );
    } finally {
      // Only the file path writes a file (a removal costs the binds path a file-system call per upload).
      if (method === 'file') await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
      await deps.hooks?.afterLoad?.(hookInfo);
    }
    if (count !== rows)
      throw floeError(
        NonRetryable.VerificationFailed,
        `${target.join('.')} holds ${count} rows after the load, expected ${rows}`,
      );

    const tableName = target.join('.');
    if (!(await queue.completeItem(deps.pool, { ...ids, table: tableName, rows, method })))
      throw floeError(
        NonRetryable.InvalidRequest,
        `sync item ${item.syncId} stopped being processing during the upload`,
      );
    log?.info({ ...ids, table: tableName, rows, method, columns: table.columns.length }, 'execution uploaded');
    return { ...base, status: 'completed', table: tableName, rows, method };
  } catch (err) {
    log?.warn({ ...ids, attempt, err: errMessage(err) }, 'execution upload attempt failed');
    throw err;
  } finally {
    hb.stop();
  }
}

/**
 * The execution's `results` must be a JSON array of objects or `{columns, rows}`.
 * @throws InvalidRequest when there are no results (or only a `results_ref`, which uploads do not read)
 *   or they are another JSON type.
 */
function checkResultsKind(exec: ExecutionInfo): void {
  if (exec.resultsKind === 'array' || exec.resultsKind === 'object') return;
  if (exec.resultsKind !== null)
    throw floeError(
      NonRetryable.InvalidRequest,
      `execution ${exec.executionId}: results must be a JSON array of objects or {columns, rows}, not a JSON ${exec.resultsKind}`,
    );
  if (exec.resultsRef)
    throw floeError(
      NonRetryable.InvalidRequest,
      `execution ${exec.executionId}: results_ref is not supported; store the rows in results`,
    );
  throw floeError(NonRetryable.InvalidRequest, `execution ${exec.executionId} has no results`);
}
