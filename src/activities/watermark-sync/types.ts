/** Dependencies, inputs and outputs of the watermark sync activities (types only). */
import type pg from 'pg';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import type { SnowflakeSessionCache } from '../../connectors/snowflake-sessions.js';
import type { LoadMethod, SyncPosition, TablePlanRef, WatermarkTableSpec } from '../../jobs/watermark-sync/contract.js';
import type { Logger } from '../../logger.js';

/** Dependencies: both PostgreSQL pools and the Snowflake settings stay in the worker process. */
export interface WatermarkSyncDeps {
  /** Control-plane pool (sync_watermarks, sync_errors). */
  pool: pg.Pool;
  /** Source database pool (PG_SYNC_SOURCE_URL, default DATABASE_URL); may be the same pool. */
  sourcePool: pg.Pool;
  snowflake: SnowflakeSettings;
  /**
   * Signed-in Snowflake sessions reused from one activity to the next (a run's batches sign in once,
   * not once per batch); a session whose work threw is closed, not reused. Default: one cache per
   * `createWatermarkSyncActivities` call.
   */
  sessions?: SnowflakeSessionCache;
  /** Directory for the `files` method's local batch files (created on demand, emptied after each batch). */
  tmpDir: string;
  /** Rows read from the source's cursor at a time within a page (default 2,000); tests make it small. */
  readChunkRows?: number;
  logger?: Logger;
  /**
   * Test hooks (fault injection). `afterMerge` runs after the MERGE committed, before the watermark update;
   * `afterPage` after a page was read, before the next page's read is sent (`pages` read so far).
   */
  hooks?: {
    afterMerge?: (info: { source: string; rows: number; attempt: number }) => Promise<void> | void;
    afterPage?: (info: { source: string; pages: number; attempt: number }) => Promise<void> | void;
  };
}

/** {@link WatermarkSyncDeps} as the activities use them: the session cache resolved. */
export type WatermarkSyncActivityDeps = WatermarkSyncDeps & { sessions: SnowflakeSessionCache };

/** Input of `watermarkSyncBeginTable`. */
export interface BeginInput {
  table: WatermarkTableSpec;
  workflowId: string;
}

/** Output of `watermarkSyncBeginTable`. */
export interface BeginResult {
  plan: TablePlanRef;
  /** Where this run starts (null: from the first row). */
  start: SyncPosition | null;
  /** The stored position's write counter (`sync_watermarks.position_seq`): the first batch advances from it. */
  positionSeq: number;
  /** Result of the cheap "any rows after start?" probe. */
  hasRows: boolean;
}

/** Input of `watermarkSyncBatch`. */
export interface BatchInput {
  table: WatermarkTableSpec;
  plan: TablePlanRef;
  after: SyncPosition | null;
  /**
   * The stored position's write counter this batch advances from (the begin activity's or the previous
   * batch's); undefined in runs started before the counter existed (then the epoch alone guards).
   */
  positionSeq?: number;
  /** Rows merged by this run before this batch (for `rows_processed`). */
  runRowsBefore: number;
}

/** Output of `watermarkSyncBatch`. */
export interface BatchResult {
  /** Rows read from the source and merged (all pages). */
  rows: number;
  /**
   * Position after the batch (unchanged when no rows). When another attempt of this batch advanced the
   * stored position first, the stored one: the next batch reads from where the stored position says.
   */
  position: SyncPosition | null;
  /** The write counter after this batch (as given when nothing was advanced). */
  positionSeq?: number;
  /** The last page read had fewer rows than batch_size: caught up. */
  done: boolean;
  method: LoadMethod | null;
  /** The epoch moved (reset/backfill): nothing was advanced; the run should stop. */
  superseded: boolean;
  /**
   * Wall time of the batch in ms, and per phase: read (reading the pages, with their transform and local
   * files, while the previous page's PUT runs), stage (binds, what of a PUT the next read did not hide,
   * COPY), merge, advance.
   */
  durationMs: number;
  phasesMs?: { read: number; stage: number; merge: number; advance: number };
  /** Pages of `batch_size` rows staged for this batch's one MERGE (up to `merge_max_rows` rows). */
  pages?: number;
}

/** Input of `watermarkSyncFinishTable`: a run that ended without error. */
export interface FinishInput {
  source: string;
  status: 'success' | 'idle' | 'superseded';
  rows: number;
  durationMs: number;
}
