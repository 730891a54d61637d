/**
 * Discovery (dry run by default): read each configured source table's columns from PostgreSQL's
 * information_schema and print the Snowflake DDL floe would create for its target (types per
 * {@link snowflakeTypeFor}: numeric precision kept, unbounded numeric → NUMBER(38,20), timestamptz →
 * TIMESTAMP_TZ, json/jsonb → VARIANT, uuid/text → VARCHAR, bytea → BINARY). With `create`, missing
 * targets are created (`CREATE TABLE IF NOT EXISTS`); existing ones are never altered.
 */
import type pg from 'pg';
import { withSnowflake, type SnowflakeSettings } from '../../connectors/snowflake.js';
import type { WatermarkSyncConfig } from './contract.js';
import * as Q from './sql.js';
import { defaultTargetColumn, sourceColumn, sourceParts, targetParts } from './names.js';
import { type PgColumnRow, isSupportedWatermark, snowflakeTypeFor, sourceColumnsSql } from './typemap.js';

/** What discovery found for one table. */
export interface DiscoveredTable {
  source: string;
  target: string;
  columns: { name: string; pgType: string; snowflakeName: string; snowflakeType: string; nullable: boolean }[];
  ddl: string;
  /** Whether the target exists (null when Snowflake was not asked). */
  targetExists: boolean | null;
  created: boolean;
  /** Problems and advice (missing watermark/pk column, index hint, wide numerics). */
  notes: string[];
  error?: string;
}

/**
 * Discover every table of `config`. Never throws for one table's problem (it lands in `error`).
 * @param snowflake settings to check (and with `create`, create) targets; omit for a pure dry run.
 */
export async function discover(
  sourcePool: pg.Pool,
  config: WatermarkSyncConfig,
  opts: { snowflake?: SnowflakeSettings; create?: boolean } = {},
): Promise<DiscoveredTable[]> {
  const out: DiscoveredTable[] = [];
  for (const t of config.tables) {
    const d: DiscoveredTable = {
      source: t.source,
      target: t.target,
      columns: [],
      ddl: '',
      targetExists: null,
      created: false,
      notes: [],
    };
    out.push(d);
    try {
      const src = sourceParts(t.source);
      const target = targetParts(t.target, opts.snowflake?.database ?? 'DATABASE');
      d.target = target.join('.');
      const cols = (await sourcePool.query<PgColumnRow>(sourceColumnsSql, src)).rows;
      if (cols.length === 0) throw new Error(`source table ${t.source} does not exist or is not visible`);
      d.columns = cols.map((c) => ({
        name: c.column_name,
        pgType: c.pg_type,
        snowflakeName: defaultTargetColumn(c.column_name),
        snowflakeType: snowflakeTypeFor(c),
        nullable: c.is_nullable === 'YES',
      }));
      const names = new Set(cols.map((c) => c.column_name));
      const wm = sourceColumn(t.watermarkColumn);
      const pk = t.pk.map(sourceColumn);
      if (!names.has(wm)) d.notes.push(`watermark column ${wm} does not exist`);
      else if (!isSupportedWatermark(cols.find((c) => c.column_name === wm)!.data_type))
        d.notes.push(`watermark column ${wm} has an unsupported type`);
      for (const k of pk) if (!names.has(k)) d.notes.push(`primary key column ${k} does not exist`);
      for (const c of cols)
        if (c.data_type === 'numeric' && (c.numeric_precision ?? 0) > 38)
          d.notes.push(
            `${c.column_name}: numeric(${c.numeric_precision}) exceeds NUMBER(38) — mapped to VARCHAR to keep every digit`,
          );
      d.notes.push(`index for paging: CREATE INDEX ON ${t.source} (${[wm, ...pk].join(', ')})`);
      d.ddl = Q.createTargetSql(
        target,
        d.columns.map((c) => ({ name: c.snowflakeName, sfType: c.snowflakeType, nullable: c.nullable })),
        pk.map(defaultTargetColumn),
      );
      if (opts.snowflake) {
        await withSnowflake(opts.snowflake, async (sf) => {
          d.targetExists = (await sf.query(Q.targetColumnsSql(target))).length > 0;
          if (!d.targetExists && opts.create) {
            await sf.query(d.ddl);
            d.created = true;
          }
        });
      }
    } catch (err) {
      d.error = (err as Error).message;
    }
  }
  return out;
}

/** Discovery as text: one commented DDL block per table. */
export function formatDiscovery(tables: DiscoveredTable[]): string {
  return tables
    .map((d) => {
      const head = [
        `-- ${d.source} -> ${d.target}${d.targetExists === null ? '' : d.targetExists ? ' (target exists)' : d.created ? ' (created)' : ' (target missing)'}`,
      ];
      for (const n of d.notes) head.push(`--   ${n}`);
      if (d.error) return [...head, `--   ERROR: ${d.error}`].join('\n');
      return [...head, `${d.ddl};`].join('\n');
    })
    .join('\n\n');
}
