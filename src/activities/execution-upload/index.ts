/**
 * Activities of the execution upload. Rows and credentials never leave them: the workflow passes a
 * queue item id, the activity reads the execution's results from PostgreSQL, decrypts the user's
 * Snowflake credential (password, key pair or token; src/secrets/crypto.ts), loads the rows and returns
 * counts and names.
 *
 * Idempotence:
 * - `executionUploadClaim` is a single UPDATE … FOR UPDATE SKIP LOCKED; a retried claim claims other
 *   items (the first claim's items are then picked up when their lease expires, or already by the drain).
 * - `executionUploadAttempt` rebuilds the target from scratch on every attempt (./attempt.ts);
 *   `executionUploadBatch` runs such attempts in sequence, and a retried batch finds its finished items
 *   completed and returns their outcome without loading again.
 * - `executionUploadAttempted` only reads.
 * - `executionUploadRetryLater` and `executionUploadFail` are UPDATEs guarded by `status = 'processing'`.
 * - `executionUploadBegin` only reads; kept for children started before the claim passed the item
 *   (src/workflows/executionUpload.ts, `LOCAL_BOOKKEEPING`).
 */
import { CancelledFailure } from '@temporalio/common';
import type pg from 'pg';
import type { Logger } from 'pino';
import { rootCause, toFailure } from '../../errors.js';
import {
  EXECUTION_UPLOAD_DEFAULTS as D,
  type ExecutionUploadAttemptOutcome,
  type ExecutionUploadOptions,
  type ExecutionUploadResult,
} from '../../jobs/execution-upload/contract.js';
import * as queue from '../../jobs/execution-upload/queue.js';
import type { SecretKeys } from '../../secrets/crypto.js';
import { SnowflakeSessionCache } from '../../connectors/snowflake-sessions.js';
import { throwIfCancelled } from '../context.js';
import { prepareUpload, requireItem, runAttempt, type ExecutionUploadAttemptInput } from './attempt.js';

export type { ExecutionUploadAttemptInput } from './attempt.js';

/** Where a hook is called: the item, its execution and the workflow's attempt number. */
export interface ExecutionUploadHookInfo {
  syncId: string;
  executionId: string;
  attempt: number;
}

/** Test hooks (fault injection and observation); never set in production. */
export interface ExecutionUploadHooks {
  /** Before rows are loaded (after the configuration was found). Throwing fails the attempt. */
  beforeLoad?: (i: ExecutionUploadHookInfo) => Promise<void> | void;
  /** After each bind chunk / the file COPY. */
  afterChunk?: (i: ExecutionUploadHookInfo & { rowsLoaded: number }) => Promise<void> | void;
  /** After the load ended, successfully or not (pairs with beforeLoad). */
  afterLoad?: (i: ExecutionUploadHookInfo) => Promise<void> | void;
}

/** Dependencies: the control-plane pool and the keys that decrypt per-user credentials stay in the worker. */
export interface ExecutionUploadDeps {
  pool: pg.Pool;
  /** AES-256-GCM keys (FLOE_ENCRYPTION_KEY, and FLOE_ENCRYPTION_KEY_PREVIOUS during a rotation). */
  secretKeys: SecretKeys;
  /** Directory for the file path's CSV files (created on demand, removed after each attempt). */
  tmpDir: string;
  logger?: Logger;
  hooks?: ExecutionUploadHooks;
  /** Signed-in sessions reused across attempts (default: one cache per activities object). */
  sessions?: SnowflakeSessionCache;
}

/** Input of `executionUploadClaim`. */
export interface ExecutionUploadClaimInput {
  limit: number;
  /** Who claims (the drain's workflow id). */
  claimer: string;
  /** Default {@link D.leaseSeconds}. */
  leaseSeconds?: number;
}

/**
 * Run `attempt` for each of `syncIds`, one after another (the `executionUploadBatch` activity): one
 * activity, so one workflow task and one activity dispatch, for several uploads. While an item's
 * attempt runs, `prepare` reads the next item (one item ahead, so memory stays bounded to two items'
 * rows), and that item's attempt is given the promise: PostgreSQL reads and type inference overlap the
 * Snowflake statements of the item before. An item's failure is its outcome (its innermost message and
 * whether it is retryable, typed and scrubbed as the workflow would read them from a failed
 * `executionUploadAttempt`), and the next item still runs with what was read for it; the workflow
 * counts and retries each item. Starts no further item once the activity is cancelled (a heartbeat
 * that finds the activity timed out delivers that too); what was read ahead is then dropped.
 * @throws CancelledFailure when cancelled.
 */
export async function attemptInSequence<P>(
  syncIds: string[],
  prepare: (syncId: string) => Promise<P>,
  attempt: (syncId: string, prepared: Promise<P>) => Promise<ExecutionUploadResult>,
): Promise<ExecutionUploadAttemptOutcome[]> {
  // Rejections are observed when the item's turn comes, or never (cancelled): never unhandled.
  const readAhead = (i: number) => {
    if (i >= syncIds.length) return undefined;
    const p = prepare(syncIds[i]);
    p.catch(() => undefined);
    return p;
  };
  const out: ExecutionUploadAttemptOutcome[] = [];
  let next = readAhead(0);
  for (let i = 0; i < syncIds.length; i++) {
    throwIfCancelled();
    const prepared = next!;
    next = readAhead(i + 1);
    const t0 = performance.now();
    const seconds = () => (performance.now() - t0) / 1000;
    try {
      out.push({ result: await attempt(syncIds[i], prepared), seconds: seconds() });
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      const { message, nonRetryable } = rootCause(toFailure(err));
      out.push({ error: { message, nonRetryable }, seconds: seconds() });
    }
  }
  return out;
}

/** Build the execution upload activities (wrap with `wrapActivities` before registering). */
export function createExecutionUploadActivities(given: ExecutionUploadDeps) {
  const deps = { ...given, sessions: given.sessions ?? new SnowflakeSessionCache() };
  const baseLog = deps.logger?.child({ component: 'execution-upload' });

  /** Claim up to `limit` items for `claimer` (ids only). */
  async function executionUploadClaim(input: ExecutionUploadClaimInput): Promise<queue.ClaimedItem[]> {
    return queue.claimItems(deps.pool, {
      limit: input.limit,
      claimer: input.claimer,
      leaseSeconds: input.leaseSeconds ?? D.leaseSeconds,
    });
  }

  /**
   * The item's ids and retry budget (no secrets), for children started before the claim passed them.
   * @throws InvalidRequest when it does not exist.
   */
  async function executionUploadBegin(input: { syncId: string }): Promise<queue.ItemState> {
    return requireItem(deps.pool, input.syncId);
  }

  /** One upload attempt (./attempt.ts). */
  async function executionUploadAttempt(input: ExecutionUploadAttemptInput): Promise<ExecutionUploadResult> {
    return runAttempt(deps, baseLog, input);
  }

  /** The first attempts of `syncIds`, one after another, each item read while the one before loads ({@link attemptInSequence}). */
  async function executionUploadBatch(input: {
    syncIds: string[];
    options?: ExecutionUploadOptions;
  }): Promise<ExecutionUploadAttemptOutcome[]> {
    return attemptInSequence(
      input.syncIds,
      (syncId) => prepareUpload(deps, syncId),
      (syncId, prepared) => runAttempt(deps, baseLog, { syncId, options: input.options, attempt: 1 }, prepared),
    );
  }

  /** Of the items (each with its `attempts` as claimed), those with an attempt under way or lost (./queue.ts `attemptedSince`). */
  async function executionUploadAttempted(input: { items: { syncId: string; attempts: number }[] }): Promise<string[]> {
    return queue.attemptedSince(deps.pool, input.items);
  }

  /** A failed attempt that will be retried: retry_count = failures so far, error_message = its error. */
  async function executionUploadRetryLater(input: { syncId: string; failures: number; message: string }) {
    await queue.recordAttemptFailure(deps.pool, input.syncId, input.failures, input.message);
  }

  /** Final failure of an item: status failed, error message, retry count. */
  async function executionUploadFail(input: { syncId: string; message: string; retries: number }) {
    await queue.failItem(deps.pool, input.syncId, input.message, input.retries);
  }

  return {
    executionUploadClaim,
    executionUploadBegin,
    executionUploadAttempt,
    executionUploadBatch,
    executionUploadAttempted,
    executionUploadRetryLater,
    executionUploadFail,
  };
}

/** The activity interface (for `proxyActivities` in workflows; type import only). */
export type ExecutionUploadActivities = ReturnType<typeof createExecutionUploadActivities>;
