/**
 * One attempt of one execution upload (the `executionUploadAttempt` activity): resolve the user's
 * active configuration (none: the item is skipped), read and type the results, load them into the
 * user's Snowflake (./load.ts), verify the count and record the outcome in PostgreSQL.
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
import { withLabelledSession } from '../../credentials/kinds.js';
import { floeError, NonRetryable } from '../../errors.js';
import { activeSettings, configurationLabel } from '../../jobs/execution-upload/configs.js';
import {
  EXECUTION_UPLOAD_DEFAULTS as D,
  type ExecutionUploadOptions,
  type ExecutionUploadResult,
  type LoadMethod,
} from '../../jobs/execution-upload/contract.js';
import { loadTable, targetTableName } from '../../jobs/execution-upload/infer.js';
import { getQueueItem } from '../../jobs/execution-upload/monitor.js';
import * as queue from '../../jobs/execution-upload/queue.js';
import { getExecution, readResultCells, type ExecutionInfo } from '../../jobs/execution-upload/results.js';
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
 * Upload one execution (see the module comment). Failures are thrown; the workflow records them on the
 * item and decides on a retry.
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
): Promise<ExecutionUploadResult> {
  const { attempt } = input;
  const o = { ...D, ...input.options };
  const log = activityLogger(baseLog);
  const item = await queue.beginAttempt(deps.pool, input.syncId, o.leaseSeconds);
  if (!item) throw noSuchItem(input.syncId);
  const ids = { syncId: item.syncId, executionId: item.executionId };
  const base = { ...ids, attempts: attempt };
  const hb = startHeartbeat<Progress>(
    { phase: 'begin', rows: 0 },
    Math.max(1000, Math.min(5000, (o.heartbeatTimeoutSeconds * 1000) / 3)),
  );
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
    const exec = await getExecution(deps.pool, item.executionId);
    if (!exec) throw floeError(NonRetryable.InvalidRequest, `execution ${item.executionId} does not exist`);

    const credential = configurationLabel(item.userId);
    const cfg = await activeSettings(deps.pool, item.userId, deps.secretKeys).catch((err: unknown) => {
      if (err instanceof SecretError)
        throw floeError(NonRetryable.AuthenticationFailed, `${credential}: ${err.message}`);
      throw err;
    });
    const skip = async (reason: string): Promise<ExecutionUploadResult> => {
      await queue.skipItem(deps.pool, item.syncId, reason);
      log?.info({ ...ids, reason }, 'execution upload skipped');
      return { ...base, status: 'skipped', rows: 0, reason };
    };
    if (!cfg) return await skip(`no active Snowflake configuration for user ${item.userId}`);

    hb.beat({ phase: 'read', rows: 0 });
    const { keys, cells } = await readResultCells(deps.pool, exec.executionId, resultsKind(exec));
    if (keys.length === 0) return await skip(`execution ${exec.executionId} has no result columns`);
    const table = loadTable(keys, cells);
    const rows = table.rows.length;
    const choice = o.loadMethod ?? 'auto';
    const method: LoadMethod = choice === 'auto' ? (rows <= o.bindMaxRows ? 'binds' : 'file') : choice;
    const target: SfName = [
      cfg.settings.database!,
      cfg.settings.schema!,
      targetTableName(exec.executionId, exec.completedAt),
    ];

    const hookInfo = { ...ids, attempt };
    await deps.hooks?.beforeLoad?.(hookInfo);
    const localDir = path.join(deps.tmpDir, `${item.syncId}-${attempt}`);
    let count: number;
    try {
      // A reused session of this credential when one is idle: one sign-in per user per drain, not per upload.
      count = await withLabelledSession(
        cfg.settings,
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
      await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
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
 * The shape of the execution's `results`: a JSON array of objects or `{columns, rows}`.
 * @throws InvalidRequest when there are no results (or only a `results_ref`, which uploads do not read)
 *   or they are another JSON type.
 */
function resultsKind(exec: ExecutionInfo): 'array' | 'object' {
  if (exec.resultsKind === 'array' || exec.resultsKind === 'object') return exec.resultsKind;
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
