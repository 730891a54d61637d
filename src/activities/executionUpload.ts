/**
 * Activities of the execution upload (seed 004). Rows and credentials never leave them: the workflow
 * passes a queue item id, the activity reads the execution's results from PostgreSQL, decrypts the
 * user's Snowflake credential (password, key pair or token; src/secrets/crypto.ts), loads the rows and
 * returns counts and names.
 *
 * Idempotence:
 * - `uploadClaim` is a single UPDATE … FOR UPDATE SKIP LOCKED; a retried claim claims other items (the
 *   first claim's items are then picked up when their lease expires, or already by the drain).
 * - `uploadExecution` rebuilds the target from scratch on every attempt (raw → load table → SWAP, see
 *   src/uploads/sql.ts), so an attempt that died half-way (worker killed, network) leaves no duplicate
 *   rows; the PostgreSQL bookkeeping is one transaction guarded by `status = 'processing'`, and an
 *   attempt that finds the item already completed returns that outcome without loading again.
 * - `uploadBegin`, `uploadFail` are guarded UPDATEs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectSnowflake, type SnowflakeSession } from '../connectors/snowflake.js';
import { floeError, NonRetryable } from '../errors.js';
import { signInError } from '../credentials/kinds.js';
import type { SecretKeys } from '../secrets/crypto.js';
import {
  EXECUTION_UPLOAD_DEFAULTS as D,
  type ExecutionUploadResult,
  type UploadLoadMethod,
  type UploadOptions,
} from '../jobs/executionUpload.js';
import { quoteSnowflakeName, snowflakeStagePath } from '../sql/quote.js';
import {
  ColumnStats,
  columnNames,
  loadText,
  targetTableName,
  type InferredColumn,
  type JsonKind,
} from '../uploads/infer.js';
import * as S from '../uploads/sql.js';
import * as store from '../uploads/store.js';
import { activityLogger, startHeartbeat } from './context.js';
import { writeCsvFile } from './files.js';

/** Test hooks (fault injection and observation); never set in production. */
export interface ExecutionUploadHooks {
  /** Before rows are loaded (after the configuration was found). Throwing fails the attempt. */
  beforeLoad?: (i: { syncId: string; executionId: string; attempt: number }) => Promise<void> | void;
  /** After each bind chunk / the file COPY. */
  afterChunk?: (i: {
    syncId: string;
    executionId: string;
    attempt: number;
    rowsLoaded: number;
  }) => Promise<void> | void;
  /** After the load ended, successfully or not (pairs with beforeLoad). */
  afterLoad?: (i: { syncId: string; executionId: string; attempt: number }) => Promise<void> | void;
}

/** Dependencies: the control-plane pool and the keys that decrypt per-user credentials stay in the worker. */
export interface ExecutionUploadDeps {
  pool: pg.Pool;
  /** AES-256-GCM keys (FLOE_ENCRYPTION_KEY, and FLOE_ENCRYPTION_KEY_PREVIOUS during a rotation). */
  secretKeys: SecretKeys;
  /** Directory for the file path's CSV files (created on demand, removed after each upload). */
  tmpDir: string;
  logger?: Logger;
  hooks?: ExecutionUploadHooks;
}

/** Input of `uploadClaim`. */
export interface ClaimInput {
  limit: number;
  /** Who claims (the drain's workflow id). */
  claimer: string;
  leaseSeconds?: number;
}

/** Input of `uploadExecution`. */
export interface UploadExecutionInput {
  syncId: string;
  options?: UploadOptions;
  /** Attempt number as counted by the workflow (1 = first); default the Temporal attempt. */
  attempt?: number;
}

function attemptNo(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

function errMessage(err: unknown): string {
  const e = err as { message?: string; code?: unknown };
  const base = e?.message ?? String(err);
  return e?.code ? `${base} [${String(e.code)}]` : base;
}

/** Build the execution upload activities (wrap with `wrapActivities` before registering). */
export function createExecutionUploadActivities(deps: ExecutionUploadDeps) {
  const baseLog = deps.logger?.child({ component: 'execution-upload' });

  /** Claim up to `limit` items for `claimer` (ids only). */
  async function uploadClaim(input: ClaimInput): Promise<store.ClaimedItem[]> {
    return store.claimItems(deps.pool, {
      limit: input.limit,
      claimer: input.claimer,
      leaseSeconds: input.leaseSeconds ?? D.leaseSeconds,
    });
  }

  /** The item's ids and retry budget (no secrets). Throws InvalidRequest when it does not exist. */
  async function uploadBegin(input: { syncId: string }): Promise<store.ItemState> {
    const item = await store.getItem(deps.pool, input.syncId);
    if (!item) throw floeError(NonRetryable.InvalidRequest, `sync item ${input.syncId} does not exist`);
    return item;
  }

  /** A failed attempt that will be retried: retry_count = failures so far, error_message = its error. */
  async function uploadRetryLater(input: { syncId: string; failures: number; message: string }): Promise<void> {
    await store.recordAttemptFailure(deps.pool, input.syncId, input.failures, input.message);
  }

  /** Final failure of an item: status failed, error message, retry count. */
  async function uploadFail(input: { syncId: string; message: string; retries: number }): Promise<void> {
    await store.failItem(deps.pool, input.syncId, input.message, input.retries);
  }

  /**
   * Upload one execution: resolve the user's active configuration (none: the item is skipped), infer
   * the columns, load the rows by binds (≤ bindMaxRows) or file + PUT + COPY, publish by SWAP, record
   * the result. Failures are thrown; the workflow records them on the item and decides on a retry.
   *
   * Throws InvalidRequest (no results, item or execution missing), AuthenticationFailed (the credential
   * does not decrypt, or Snowflake refuses the sign-in), VerificationFailed (row count differs), and Snowflake errors (typed by src/errors.ts
   * when wrapped with `wrapActivities`).
   */
  async function uploadExecution(input: UploadExecutionInput): Promise<ExecutionUploadResult> {
    const attempt = input.attempt ?? attemptNo();
    const o = { ...D, ...input.options };
    const log = activityLogger(baseLog);
    const hb = startHeartbeat(
      { phase: 'begin', rows: 0 },
      Math.max(1000, Math.min(5000, (o.heartbeatTimeoutSeconds * 1000) / 3)),
    );
    const item = await store.getItem(deps.pool, input.syncId);
    if (!item) {
      hb.stop();
      throw floeError(NonRetryable.InvalidRequest, `sync item ${input.syncId} does not exist`);
    }
    const base = { syncId: item.syncId, executionId: item.executionId, attempts: attempt };
    try {
      if (item.status === 'completed') {
        const cur = await store.getQueueItem(deps.pool, item.syncId);
        return {
          ...base,
          status: 'completed',
          table: cur?.snowflake_table ?? undefined,
          rows: Number(cur?.rows_uploaded ?? 0),
          method: (cur?.load_method ?? undefined) as UploadLoadMethod | undefined,
        };
      }
      if (!(await store.beginAttempt(deps.pool, item.syncId, o.leaseSeconds))) {
        throw floeError(NonRetryable.InvalidRequest, `sync item ${item.syncId} is ${item.status}, not processing`);
      }
      const exec = await store.getExecution(deps.pool, item.executionId);
      if (!exec) throw floeError(NonRetryable.InvalidRequest, `execution ${item.executionId} does not exist`);

      const credential = `the Snowflake configuration of user ${item.userId}`;
      const cfg = await store.activeSettings(deps.pool, item.userId, deps.secretKeys).catch((err: unknown) => {
        if ((err as Error)?.name === 'SecretError')
          throw floeError(NonRetryable.AuthenticationFailed, `${credential}: ${(err as Error).message}`);
        throw err;
      });
      if (!cfg) {
        const reason = `no active Snowflake configuration for user ${item.userId}`;
        await store.skipItem(deps.pool, item.syncId, reason);
        log?.info({ syncId: item.syncId, executionId: item.executionId }, 'skipped: no Snowflake configuration');
        return { ...base, status: 'skipped', rows: 0, reason };
      }
      if (exec.resultsKind === null) {
        if (exec.resultsRef)
          throw floeError(
            NonRetryable.InvalidRequest,
            `execution ${exec.executionId}: results_ref is not supported yet; store the rows in results`,
          );
        throw floeError(NonRetryable.InvalidRequest, `execution ${exec.executionId} has no results`);
      }
      if (exec.resultsKind !== 'array' && exec.resultsKind !== 'object') {
        throw floeError(
          NonRetryable.InvalidRequest,
          `execution ${exec.executionId}: results must be a JSON array of objects or {columns, rows}, not a JSON ${exec.resultsKind}`,
        );
      }

      // Rows as cells → columns and types → text rows.
      hb.beat({ phase: 'read', rows: 0 });
      const { keys, cells } = await store.readResultCells(deps.pool, exec.executionId, exec.resultsKind);
      if (keys.length === 0) {
        const reason = `execution ${exec.executionId} has no result columns`;
        await store.skipItem(deps.pool, item.syncId, reason);
        return { ...base, status: 'skipped', rows: 0, reason };
      }
      const index = new Map(keys.map((k, i) => [k, i]));
      const stats = keys.map(() => new ColumnStats());
      for (const c of cells) stats[index.get(c[1])!].observe(c[2] as JsonKind, c[3]);
      const names = columnNames(keys);
      const cols: InferredColumn[] = keys.map((key, i) => ({ key, name: names[i], sfType: stats[i].type() }));
      const rows: (string | null)[][] = [];
      let cur: (string | null)[] | null = null;
      let curNo = -1;
      for (const c of cells) {
        if (c[0] !== curNo) {
          cur = new Array<string | null>(keys.length).fill(null);
          rows.push(cur);
          curNo = c[0];
        }
        const i = index.get(c[1])!;
        cur![i] = loadText(c[2] as JsonKind, c[3], cols[i].sfType);
      }

      const choice = input.options?.loadMethod ?? 'auto';
      const method: UploadLoadMethod = choice === 'auto' ? (rows.length <= o.bindMaxRows ? 'binds' : 'file') : choice;
      const target: S.SfName = [
        cfg.settings.database!,
        cfg.settings.schema!,
        targetTableName(exec.executionId, exec.completedAt),
      ];
      const { raw, load } = S.helperNames(target);
      const hookInfo = { syncId: item.syncId, executionId: exec.executionId, attempt };
      await deps.hooks?.beforeLoad?.(hookInfo);
      let count: number;
      let localDir: string | null = null;
      let sf: SnowflakeSession | null = null;
      try {
        sf = await connectSnowflake(cfg.settings).catch((err: unknown) => {
          throw signInError(err, credential);
        });
        hb.beat({ phase: 'load', rows: 0 });
        await sf.query(S.createRawSql(raw, cols));
        if (rows.length > 0) {
          if (method === 'binds') {
            const ins = S.insertRawSql(raw, cols);
            for (let i = 0; i < rows.length; i += o.bindChunkRows) {
              await sf.query(ins, rows.slice(i, i + o.bindChunkRows) as never);
              const loaded = Math.min(rows.length, i + o.bindChunkRows);
              hb.beat({ phase: 'load', rows: loaded });
              await deps.hooks?.afterChunk?.({ ...hookInfo, rowsLoaded: loaded });
            }
          } else {
            localDir = path.join(deps.tmpDir, `${item.syncId}-${attempt}`);
            await fs.promises.mkdir(localDir, { recursive: true });
            const file = path.join(localDir, 'rows.csv');
            await writeCsvFile(file, rows);
            const stage: S.SfName = [
              target[0],
              target[1],
              `FLOE_UPLOAD_${item.syncId.replaceAll('-', '').slice(0, 16).toUpperCase()}`,
            ];
            await sf.query(`CREATE OR REPLACE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
            const stagePath = snowflakeStagePath(stage, 'rows');
            await sf.query(
              `PUT 'file://${file.replaceAll('\\', '/').replaceAll("'", "\\'")}' ${stagePath} AUTO_COMPRESS = TRUE OVERWRITE = TRUE`,
            );
            await sf.query(S.copyRawSql(raw, stagePath));
            await sf.query(`DROP STAGE IF EXISTS ${quoteSnowflakeName(...stage)}`);
            hb.beat({ phase: 'load', rows: rows.length });
            await deps.hooks?.afterChunk?.({ ...hookInfo, rowsLoaded: rows.length });
          }
        }
        hb.beat({ phase: 'publish', rows: rows.length });
        await sf.query(S.createLoadSql(load, cols));
        await sf.query(S.fillLoadSql(load, raw, cols));
        for (const stmt of S.publishSql(target, load, raw)) await sf.query(stmt);
        const n = await sf.query<{ N: string }>(S.countSql(target));
        count = Number(n[0]?.N ?? -1);
      } finally {
        await sf?.close();
        if (localDir) await fs.promises.rm(localDir, { recursive: true, force: true }).catch(() => undefined);
        await deps.hooks?.afterLoad?.(hookInfo);
      }
      if (count !== rows.length) {
        throw floeError(
          NonRetryable.VerificationFailed,
          `${target.join('.')} holds ${count} rows after the load, expected ${rows.length}`,
        );
      }

      const table = target.join('.');
      const client = await deps.pool.connect();
      try {
        await client.query('BEGIN');
        const ok = await store.completeItem(client, {
          syncId: item.syncId,
          executionId: exec.executionId,
          table,
          rows: rows.length,
          method,
        });
        await client.query(ok ? 'COMMIT' : 'ROLLBACK');
        if (!ok)
          throw floeError(
            NonRetryable.InvalidRequest,
            `sync item ${item.syncId} stopped being processing during the upload`,
          );
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      log?.info(
        { syncId: item.syncId, executionId: exec.executionId, table, rows: rows.length, method, columns: cols.length },
        'execution uploaded',
      );
      return { ...base, status: 'completed', table, rows: rows.length, method };
    } catch (err) {
      log?.warn(
        { syncId: item.syncId, executionId: item.executionId, attempt, err: errMessage(err) },
        'upload attempt failed',
      );
      throw err;
    } finally {
      hb.stop();
    }
  }

  return { uploadClaim, uploadBegin, uploadExecution, uploadRetryLater, uploadFail };
}

/** The activity interface (for `proxyActivities` in workflows; type import only). */
export type ExecutionUploadActivities = ReturnType<typeof createExecutionUploadActivities>;
