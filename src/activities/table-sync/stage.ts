/**
 * The stage method of the transfer: CREATE STAGE IF NOT EXISTS → unload (COPY INTO @stage/<job>/,
 * Parquet) → GET → the files loaded into the staging table by one INSERT (progress: DuckDB's estimate,
 * about every second) → one DuckDB transaction that swaps it in (full refresh) or applies it to the
 * target (incremental); REMOVE of the job's stage path and deletion of its local directory in
 * `finally`. A retried attempt whose unload finished (heartbeat details) and whose files are still on
 * the stage (LIST) resumes at the GET. A cancellation interrupts the INSERT.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { connectSnowflake } from '../../connectors/snowflake.js';
import { runWithProgress, withDuckDb } from '../../connectors/duckdb.js';
import {
  createStage,
  DEFAULT_GET_PARALLEL,
  DEFAULT_UNLOAD_FILE_BYTES,
  getFromStage,
  jobSegment,
  listStage,
  removeFromStage,
  unloadToStage,
} from '../../connectors/snowflake-stage.js';
import { quoteDuckDbName, snowflakeStagePath } from '../../sql/quote.js';
import { readParquetSource, typedSelect } from '../../sql/typemap.js';
import * as S from '../../jobs/table-sync/sql.js';
import { activityLogger, cancellable, cancellationSignal, previousDetails, throwIfCancelled } from '../context.js';
import { startTransferHeartbeat } from './progress.js';
import { applyIncremental, countsOf, countsWrong, swapIn, writeIncrementalState } from './commit.js';
import * as D from './duckdb.js';
import {
  stageOf,
  type RunCtx,
  type RunPlan,
  type TableSyncDeps,
  type TransferDetails,
  type TransferResult,
} from './types.js';

/** Move the rows of `plan` by the stage and commit them (see the module comment). */
export async function transferByStage(deps: TableSyncDeps, plan: RunPlan): Promise<TransferResult> {
  const lg = () => activityLogger(deps.logger);
  const t = plan.input.source;
  const seg = jobSegment(plan.input.jobId);
  const stagePath = snowflakeStagePath(stageOf(deps, t), seg);
  const localDir = path.join(deps.tmpDir, seg);
  const prev = previousDetails<TransferDetails>();
  const hb = startTransferHeartbeat({ phase: 'unload', rowsLoaded: 0, bytes: 0, unloaded: prev?.unloaded });
  const sf = await connectSnowflake(deps.snowflake);
  try {
    await createStage(sf, stageOf(deps, t));
    let unloaded = prev?.unloaded;
    // Resume at the GET only when the files are still there (the path may have been removed since).
    if (unloaded && unloaded.rows > 0 && (await listStage(sf, stagePath)).length === 0) unloaded = undefined;
    if (!unloaded) {
      await removeFromStage(sf, stagePath);
      const select = S.unloadSelect(t, plan.cols, S.whereClause(plan.window));
      const out = await cancellable(
        unloadToStage(sf, stagePath, select, deps.maxFileSizeBytes ?? DEFAULT_UNLOAD_FILE_BYTES),
      );
      unloaded = { rows: out.rowsUnloaded, bytes: out.outputBytes };
    } else {
      lg()?.info({ stagePath, rows: unloaded.rows }, 'resuming after unload');
    }
    throwIfCancelled();
    // The unload's output_bytes: the size of the files under the path (no LIST needed).
    const { bytes } = unloaded;
    const progress = (phase: TransferDetails['phase'], rowsLoaded: number): TransferDetails => ({
      phase,
      rowsLoaded,
      rowsTotal: unloaded.rows,
      bytes,
      unloaded,
    });
    hb.beat(progress('download', 0));
    const local =
      unloaded.rows > 0
        ? await cancellable(getFromStage(sf, stagePath, localDir, deps.getParallel ?? DEFAULT_GET_PARALLEL))
        : [];
    throwIfCancelled();
    hb.beat(progress('load', 0));
    const loaded = await withDuckDb(deps.duckdbPath, async (conn) => {
      const c: RunCtx = { ...plan, conn };
      // Both strategies load the files into the staging table in one INSERT (one statement per file
      // took ~0.5 s more at TPC-H SF1 in plain DuckDB: 4.9-5.3 s against 4.5-4.6 s), reporting DuckDB's
      // progress estimate meanwhile; a full refresh then swaps it in, an incremental sync applies it.
      const staging = S.stagingParts(c.target);
      const dropStaging = `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`;
      await D.exec(c.conn, S.createSchemaSql(staging[0]));
      await D.exec(c.conn, dropStaging);
      await D.exec(c.conn, S.createTableSql(staging, c.cols));
      try {
        if (local.length) {
          const typed = typedSelect(c.cols, 'parquet', readParquetSource(local));
          const total = unloaded.rows;
          const rowsLoaded = await runWithProgress(c.conn, S.insertSelectSql(staging, c.cols, typed), {
            everyMs: deps.loadProgressEveryMs ?? 1_000,
            onProgress: (f) => hb.beat(progress('load', Math.min(total, Math.floor(f * total)))),
            signal: cancellationSignal(),
          }).catch((e: unknown) => {
            throwIfCancelled();
            throw e;
          });
          hb.beat(progress('load', rowsLoaded));
        }
        throwIfCancelled();
        if (c.input.strategy === 'full') {
          const r = await swapIn(c, unloaded.rows);
          return { rowsInTarget: r.rows, watermark: r.hwm };
        }
        return await D.inTransaction(c.conn, async () => {
          await D.createOrEvolveTarget(c.conn, c.target, t, c.cols, c.replaceTarget);
          if (local.length === 0 && unloaded.rows > 0)
            throw countsWrong(c, `the unload reported ${unloaded.rows} rows but no file reached DuckDB`);
          const hwm = local.length
            ? await applyIncremental(c, `SELECT * FROM ${quoteDuckDbName(...staging)}`, unloaded.rows)
            : c.oldHwm;
          const n = await D.countTable(c.conn, S.targetParts(c.target));
          if (!local.length) await writeIncrementalState(c, hwm, n);
          await D.exec(c.conn, dropStaging);
          return { rowsInTarget: n, watermark: hwm };
        });
      } catch (e) {
        await D.exec(c.conn, dropStaging).catch(() => undefined);
        throw e;
      }
    });
    const { rowsInTarget, watermark } = loaded;
    return {
      ...countsOf(plan, rowsInTarget, unloaded.rows),
      bytes,
      files: local.length,
      watermark,
      method: 'stage',
      target: D.stateKey(plan.target),
    };
  } finally {
    hb.stop();
    await rm(localDir, { recursive: true, force: true }).catch(() => undefined);
    await removeFromStage(sf, stagePath).catch((e) =>
      lg()?.warn({ err: (e as Error).message, stagePath }, 'REMOVE failed'),
    );
    await sf.close();
  }
}
