/**
 * The Snowflake side of one upload attempt: load an execution's rows into `<T>__FLOE_RAW` by array
 * binds or by a CSV file (PUT to a temporary stage, COPY), replace the target with their typed copy in
 * one `CREATE OR REPLACE TABLE … AS SELECT` and count it (the protocol of
 * src/jobs/execution-upload/sql.ts). Every step replaces what a previous attempt left, so a retried load
 * never duplicates rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SnowflakeSession } from '../../connectors/snowflake.js';
import type { LoadMethod } from '../../jobs/execution-upload/contract.js';
import type { LoadTable } from '../../jobs/execution-upload/infer.js';
import * as S from '../../jobs/execution-upload/sql.js';
import { quoteSnowflakeName, snowflakeStagePath } from '../../sql/quote.js';
import { writeCsvFile } from '../files.js';

/** How {@link loadAndPublish} loads one execution. */
export interface LoadPlan {
  target: S.SfName;
  table: LoadTable;
  method: LoadMethod;
  /** Rows per array-bind INSERT (binds only). */
  bindChunkRows: number;
  /** Directory for the CSV file (file only); created here, removed by the caller. */
  localDir: string;
  /** Name of the temporary stage the CSV is PUT to (file only), unique per queue item. */
  stageName: string;
  /** Called after each bind chunk and after the file's COPY with the rows loaded so far. */
  onRows(rowsLoaded: number): Promise<void>;
}

/**
 * Load `plan.table` into the raw table and replace `plan.target` with its typed rows
 * (src/jobs/execution-upload/sql.ts): five statements on the bind path.
 * @returns the target's row count after the replace (the caller compares it with the rows it sent).
 * @throws the Snowflake error of the failing statement.
 */
export async function loadAndPublish(sf: SnowflakeSession, plan: LoadPlan): Promise<number> {
  const { target, table } = plan;
  const raw = S.rawName(target);
  await sf.query(S.createRawSql(raw, table.columns));
  if (table.rows.length > 0) {
    if (plan.method === 'binds') await loadByBinds(sf, raw, plan);
    else await loadByFile(sf, raw, plan);
  }
  await sf.query(S.replaceTargetSql(target, raw, table.columns));
  await sf.query(S.dropRawSql(raw));
  const n = await sf.query<{ N: string }>(S.countSql(target));
  return Number(n[0]?.N ?? -1);
}

/** Array-bind INSERTs of `bindChunkRows` rows each (snowflake-sdk sends an array of rows as one request). */
async function loadByBinds(sf: SnowflakeSession, raw: S.SfName, plan: LoadPlan): Promise<void> {
  const { rows, columns } = plan.table;
  const insert = S.insertRawSql(raw, columns);
  for (let i = 0; i < rows.length; i += plan.bindChunkRows) {
    await sf.query(insert, rows.slice(i, i + plan.bindChunkRows) as never);
    await plan.onRows(Math.min(rows.length, i + plan.bindChunkRows));
  }
}

/** One CSV file, PUT (compressed) to a temporary stage and COPY'd into the raw table (PURGE removes it). */
async function loadByFile(sf: SnowflakeSession, raw: S.SfName, plan: LoadPlan): Promise<void> {
  await fs.promises.mkdir(plan.localDir, { recursive: true });
  const file = path.join(plan.localDir, 'rows.csv');
  await writeCsvFile(file, plan.table.rows);
  const stage: S.SfName = [plan.target[0], plan.target[1], plan.stageName];
  await sf.query(`CREATE OR REPLACE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
  const stagePath = snowflakeStagePath(stage, 'rows');
  await sf.query(
    `PUT 'file://${file.replaceAll('\\', '/').replaceAll("'", "\\'")}' ${stagePath} AUTO_COMPRESS = TRUE OVERWRITE = TRUE`,
  );
  await sf.query(S.copyRawSql(raw, stagePath));
  await sf.query(`DROP STAGE IF EXISTS ${quoteSnowflakeName(...stage)}`);
  await plan.onRows(plan.table.rows.length);
}
