/**
 * The stage method of the transfer: CREATE STAGE IF NOT EXISTS → unload (COPY INTO @stage/<job>/,
 * Parquet) → LIST → GET → the files loaded into the staging table one by one (progress per file) → one
 * DuckDB transaction that swaps it in (full refresh) or applies it to the target (incremental); REMOVE
 * of the job's stage path and deletion of its local directory in `finally`. A retried attempt whose
 * unload finished (heartbeat details) and whose files are still on the stage resumes at the GET.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { connectSnowflake } from '../../connectors/snowflake.js';
import { withDuckDb } from '../../connectors/duckdb.js';
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
import { activityLogger, cancellable, previousDetails, throwIfCancelled } from '../context.js';
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
    let files = unloaded ? await listStage(sf, stagePath) : [];
    if (!unloaded || (files.length === 0 && unloaded.rows > 0)) {
      await removeFromStage(sf, stagePath);
      const select = S.unloadSelect(t, plan.cols, S.whereClause(plan.window));
      const out = await cancellable(
        unloadToStage(sf, stagePath, select, deps.maxFileSizeBytes ?? DEFAULT_UNLOAD_FILE_BYTES),
      );
      unloaded = { rows: out.rowsUnloaded, bytes: out.outputBytes };
      files = await listStage(sf, stagePath);
    } else {
      lg()?.info({ stagePath, files: files.length }, 'resuming after unload');
    }
    throwIfCancelled();
    const bytes = files.reduce((a, f) => a + f.size, 0);
    const progress = (phase: TransferDetails['phase'], rowsLoaded: number): TransferDetails => ({
      phase,
      rowsLoaded,
      rowsTotal: unloaded.rows,
      bytes,
      unloaded,
    });
    hb.beat(progress('download', 0));
    const local = await cancellable(
      getFromStage(sf, stagePath, files, localDir, deps.getParallel ?? DEFAULT_GET_PARALLEL),
    );
    throwIfCancelled();
    hb.beat(progress('load', 0));
    const loaded = await withDuckDb(deps.duckdbPath, async (conn) => {
      const c: RunCtx = { ...plan, conn };
      // Both strategies load the files into the staging table, one INSERT per file so that progress is
      // reported per file; a full refresh then swaps it in, an incremental sync applies it to the target.
      const staging = S.stagingParts(c.target);
      const dropStaging = `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`;
      await D.exec(c.conn, S.createSchemaSql(staging[0]));
      await D.exec(c.conn, dropStaging);
      await D.exec(c.conn, S.createTableSql(staging, c.cols));
      try {
        let rowsLoaded = 0;
        for (const file of local) {
          const typed = typedSelect(c.cols, 'parquet', readParquetSource([file]));
          rowsLoaded += await D.execCount(c.conn, S.insertSelectSql(staging, c.cols, typed));
          hb.beat(progress('load', rowsLoaded));
          throwIfCancelled();
        }
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
