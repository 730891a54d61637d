/**
 * The begin activity of a table's run: check the source and the Snowflake target, map columns, read
 * the stored position and probe for new rows. Reads only metadata and one EXISTS probe; its only
 * writes are idempotent (the table's `sync_watermarks` row, status `running`, and with
 * `create_target` a `CREATE TABLE IF NOT EXISTS`), so a retry is harmless.
 */
import type pg from 'pg';
import type { SnowflakeSession } from '../../connectors/snowflake.js';
import { floeError, NonRetryable } from '../../errors.js';
import type { TablePlanRef } from '../../jobs/watermark-sync/contract.js';
import * as Q from '../../jobs/watermark-sync/sql.js';
import { defaultTargetColumn, sourceColumn, sourceParts, targetParts } from '../../jobs/watermark-sync/names.js';
import {
  type PgColumnRow,
  isSupportedWatermark,
  isTimeWatermark,
  pgTextExpr,
  sfTypeOf,
  snowflakeTypeFor,
  sourceColumnsSql,
} from '../../jobs/watermark-sync/typemap.js';
import * as store from '../../jobs/watermark-sync/store.js';
import { getTransform } from '../../jobs/watermark-sync/transforms.js';
import { sourceQuery } from './source.js';
import type { BeginInput, BeginResult, WatermarkSyncActivityDeps, WatermarkSyncDeps } from './types.js';

/** Target column name for a source column: exact, else the one case-insensitive match. */
function matchTarget(name: string, targets: string[]): string | null {
  if (targets.includes(name)) return name;
  const m = targets.filter((t) => t.toUpperCase() === name.toUpperCase());
  return m.length === 1 ? m[0] : null;
}

/** The target's columns with their full Snowflake types (INFORMATION_SCHEMA), in table order; none when it does not exist. */
async function targetColumns(
  sf: SnowflakeSession,
  target: [string, string, string],
): Promise<{ name: string; sfType: string }[]> {
  const rows = await sf.query(Q.targetColumnsSql(target));
  return rows.map((r) => ({ name: String(r.COLUMN_NAME), sfType: sfTypeOf(r as never) }));
}

/** Whether `a < b` as values of the PostgreSQL type `type` (text in, compared by the source). */
async function sourceLess(
  deps: WatermarkSyncDeps,
  table: string,
  type: string,
  a: string,
  b: string,
): Promise<boolean> {
  const r = await sourceQuery(deps.sourcePool, table, `SELECT ($1::${type} < $2::${type})::text AS lt`, [a, b]);
  return r[0].lt === 'true';
}

/**
 * Plan a table's run: check the source (table, watermark, pk, soft-delete columns and their types)
 * and the Snowflake target (created from the source's columns when `create_target` is set), map
 * columns, read the stored position and probe for rows after it. Also marks the run `running`.
 *
 * Throws TableNotFound (source or target missing), SchemaMismatch (a source column without a target
 * column, a missing key column), InvalidRequest (unsupported watermark type, bad names).
 */
export async function beginTable(deps: WatermarkSyncActivityDeps, input: BeginInput): Promise<BeginResult> {
  const t = input.table;
  const source = sourceParts(t.source);
  const target = targetParts(t.target, deps.snowflake.database);
  const row = await store.ensureWatermark(deps.pool, t.source, target.join('.'));
  await store.markRunning(deps.pool, t.source, input.workflowId);

  const cols = await sourceQuery<PgColumnRow & pg.QueryResultRow>(deps.sourcePool, t.source, sourceColumnsSql, source);
  if (cols.length === 0)
    throw floeError(NonRetryable.TableNotFound, `source table ${t.source} does not exist or is not visible`);
  const byName = new Map(cols.map((c) => [c.column_name, c]));
  const need = (configName: string, field: string) => {
    const n = sourceColumn(configName);
    const c = byName.get(n);
    if (!c)
      throw floeError(
        NonRetryable.SchemaMismatch,
        `${t.source}: ${field} column ${JSON.stringify(n)} does not exist in the source`,
      );
    return c;
  };
  const wmCol = need(t.watermarkColumn, 'watermark');
  if (!isSupportedWatermark(wmCol.data_type)) {
    throw floeError(
      NonRetryable.InvalidRequest,
      `${t.source}: watermark column ${wmCol.column_name} has type ${wmCol.pg_type}; use a timestamp, timestamptz, date or integer/numeric column`,
    );
  }
  const pkCols = t.pk.map((k) => need(k, 'primary key'));
  const sd = t.softDeleteColumn ? need(t.softDeleteColumn, 'soft-delete') : null;

  // Row keys and their read expressions: source columns, then SQL-transform columns (replace or add).
  const exprs = new Map<string, string>();
  for (const c of cols) exprs.set(c.column_name, pgTextExpr(`"${c.column_name.replaceAll('"', '""')}"`, c.data_type));
  let added: string[] = [];
  if (t.transform?.kind === 'sql') {
    for (const [k, expr] of Object.entries(t.transform.columns)) {
      const key = byName.has(k)
        ? k
        : (cols.find((c) => c.column_name.toUpperCase() === k.toUpperCase())?.column_name ?? k);
      exprs.set(key, `(${expr})::text`);
    }
  } else if (t.transform?.kind === 'function') {
    const fn = getTransform(t.transform.name);
    added = fn.addsColumns ?? [];
    for (const d of fn.dropsColumns ?? []) exprs.delete(d);
  }

  // The target's columns, the target created first when asked; on a session the run's batches reuse.
  const tcols = await deps.sessions.withSession(deps.snowflake, async (sf) => {
    const found = await targetColumns(sf, target);
    if (found.length > 0 || !t.createTarget) return found;
    const defs = cols.map((c) => ({
      name: defaultTargetColumn(c.column_name),
      sfType: snowflakeTypeFor(c),
      nullable: c.is_nullable === 'YES',
    }));
    await sf.query(
      Q.createTargetSql(
        target,
        defs,
        pkCols.map((c) => defaultTargetColumn(c.column_name)),
      ),
    );
    return targetColumns(sf, target);
  });
  if (tcols.length === 0)
    throw floeError(
      NonRetryable.TableNotFound,
      `target table ${target.join('.')} of ${t.source} does not exist (run discovery, or set create_target: true)`,
    );

  const tnames = tcols.map((c) => c.name);
  const planCols: TablePlanRef['columns'] = [];
  for (const [name, expr] of exprs) {
    const tn = matchTarget(name, tnames);
    if (!tn) {
      if (sd && name === sd.column_name) continue; // the flag travels separately; the target need not keep it
      throw floeError(
        NonRetryable.SchemaMismatch,
        `${t.source}: source column ${JSON.stringify(name)} has no column in target ${target.join('.')} (missing column)`,
      );
    }
    planCols.push({ name, expr, target: tn, sfType: tcols.find((c) => c.name === tn)!.sfType });
  }
  for (const a of added) {
    const tn = matchTarget(a, tnames);
    if (!tn)
      throw floeError(
        NonRetryable.SchemaMismatch,
        `${t.source}: column ${JSON.stringify(a)} added by transform ${t.transform?.kind === 'function' ? t.transform.name : ''} has no column in target ${target.join('.')}`,
      );
    planCols.push({ name: a, expr: null, target: tn, sfType: tcols.find((c) => c.name === tn)!.sfType });
  }
  const pkTargets = pkCols.map((c) => {
    const pc = planCols.find((p) => p.name === c.column_name);
    if (!pc)
      throw floeError(
        NonRetryable.SchemaMismatch,
        `${t.source}: primary key column ${c.column_name} is not loaded into the target`,
      );
    return pc.target;
  });

  let lagFloor: string | null = null;
  if (isTimeWatermark(wmCol.data_type)) {
    const r = await sourceQuery(
      deps.sourcePool,
      t.source,
      `SELECT (now() - make_interval(secs => $1::double precision))::${wmCol.pg_type}::text AS f`,
      [String(t.lagSeconds)],
    );
    lagFloor = r[0].f;
  }
  const plan: TablePlanRef = {
    epoch: row.epoch,
    columns: planCols,
    watermarkType: wmCol.pg_type,
    pkTypes: pkCols.map((c) => c.pg_type),
    lagFloor,
    target,
    softDelete: sd ? { column: sd.column_name, isBoolean: sd.data_type === 'boolean' } : null,
    source,
    watermarkColumn: wmCol.column_name,
    pk: pkCols.map((c) => c.column_name),
    pkTargets,
  };

  // Start: re-read from complete_before when it lies below the position (late commits may be there).
  let start = row.position;
  if (
    row.completeBefore !== null &&
    (row.position === null ||
      (await sourceLess(deps, t.source, plan.watermarkType, row.completeBefore, row.position.watermark)))
  ) {
    start = { watermark: row.completeBefore, pk: null };
  }
  const ex = Q.existsAfterSql(source, plan.watermarkColumn, plan.pk, plan, start);
  const r = await sourceQuery(deps.sourcePool, t.source, ex.sql, ex.params);
  return { plan, start, positionSeq: row.positionSeq, hasRows: r[0].exists === 'true' };
}
