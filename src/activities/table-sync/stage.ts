/**
 * The stage method of the transfer: CREATE STAGE IF NOT EXISTS → unload (COPY INTO @stage/<job>/,
 * Parquet) → LIST → GET → one DuckDB transaction over `read_parquet` of the files; REMOVE of the job's
 * stage path and deletion of its local directory in `finally`. A retried attempt whose unload finished
 * (heartbeat details) and whose files are still on the stage resumes at the GET.
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
import { activityLogger, cancellable, previousDetails, startHeartbeat, throwIfCancelled } from '../context.js';
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
  const hb = startHeartbeat<TransferDetails>({ phase: 'unload', rowsLoaded: 0, unloaded: prev?.unloaded });
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
      hb.beat({ phase: 'download', rowsLoaded: 0, unloaded });
      files = await listStage(sf, stagePath);
    } else {
      lg()?.info({ stagePath, files: files.length }, 'resuming after unload');
    }
    throwIfCancelled();
    const bytes = files.reduce((a, f) => a + f.size, 0);
    const local = await cancellable(
      getFromStage(sf, stagePath, files, localDir, deps.getParallel ?? DEFAULT_GET_PARALLEL),
    );
    throwIfCancelled();
    hb.beat({ phase: 'load', rowsLoaded: 0, unloaded });
    const loaded = await withDuckDb(deps.duckdbPath, async (conn) => {
      const c: RunCtx = { ...plan, conn };
      const typed = local.length ? typedSelect(c.cols, 'parquet', readParquetSource(local)) : null;
      let rowsInTarget: number;
      let watermark: string | null;
      if (c.input.strategy === 'full') {
        const staging = S.stagingParts(c.target);
        await D.exec(c.conn, S.createSchemaSql(staging[0]));
        await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`);
        await D.exec(c.conn, S.createTableSql(staging, c.cols));
        try {
          if (typed) await D.exec(c.conn, S.insertSelectSql(staging, c.cols, typed));
          throwIfCancelled();
          ({ rows: rowsInTarget, hwm: watermark } = await swapIn(c, unloaded.rows));
        } catch (e) {
          await D.exec(c.conn, `DROP TABLE IF EXISTS ${quoteDuckDbName(...staging)}`).catch(() => undefined);
          throw e;
        }
      } else {
        const r = await D.inTransaction(c.conn, async () => {
          await D.createOrEvolveTarget(c.conn, c.target, t, c.cols, c.replaceTarget);
          if (!typed && unloaded.rows > 0)
            throw countsWrong(c, `the unload reported ${unloaded.rows} rows but no file reached DuckDB`);
          const hwm = typed ? await applyIncremental(c, typed, unloaded.rows) : c.oldHwm;
          const n = await D.countTable(c.conn, S.targetParts(c.target));
          if (!typed) await writeIncrementalState(c, hwm, n);
          return { hwm, n };
        });
        rowsInTarget = r.n;
        watermark = r.hwm;
      }
      return { rowsInTarget, watermark };
    });
    const { rowsInTarget, watermark } = loaded;
    hb.beat({ phase: 'load', rowsLoaded: unloaded.rows, unloaded });
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
