/**
 * The watermark sync's config file (`sync_config.yaml`, config/sync_config.example.yaml), validated with zod.
 *
 * ```yaml
 * name: default                 # optional; schedule id pg-sync-<name>
 * sync_interval_seconds: 120
 * default_batch_size: 1000
 * default_merge_max_rows: 1000000  # optional
 * default_lag_seconds: 0        # optional
 * max_parallel_tables: 4        # optional
 * tables:
 *   - source: public.users
 *     target: analytics.users
 *     pk: id                    # or [tenant_id, id]
 *     watermark_column: updated_at
 *     batch_size: 500           # optional: rows per read from PostgreSQL
 *     merge_max_rows: 1000000   # optional: rows staged per MERGE while reads come back full
 *     transform: null           # or a registered function name, or {sql: {COLUMN: "pg expression"}}
 *     lag_seconds: 30           # optional
 *     load_method: auto         # auto | binds | files
 *     file_format: csv          # csv | parquet
 *     bind_max_rows: 5000       # optional
 *     soft_delete_column: deleted  # optional
 *     create_target: false      # optional
 * ```
 *
 * Errors name the table and the field (`tables[1] (public.checkins).watermark_column: required`).
 * A `source_database_url` key is refused: the source connection comes from the environment
 * (PG_SYNC_SOURCE_URL, default DATABASE_URL) so no password is written into a schedule.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  DEFAULT_CONFIG_NAME,
  type TransformSpec,
  type WatermarkSyncConfig,
  type WatermarkTableSpec,
} from './contract.js';
import { hasTransform } from './transforms.js';

/** Thrown for an invalid config; `issues` are `{path, message}` with a readable path naming the table. */
export class WatermarkSyncConfigError extends Error {
  override readonly name = 'InvalidRequest';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid watermark sync config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** The value of every optional table field when neither the table nor the config's `default_*` sets it. */
export const TABLE_DEFAULTS = {
  batchSize: 1000,
  mergeMaxRows: 1_000_000,
  transform: null,
  lagSeconds: 0,
  loadMethod: 'auto',
  fileFormat: 'csv',
  bindMaxRows: 5000,
  softDeleteColumn: null,
  createTarget: false,
} as const satisfies Omit<WatermarkTableSpec, 'source' | 'target' | 'pk' | 'watermarkColumn'>;

/** A table spec with the required fields given and the rest at {@link TABLE_DEFAULTS} (programmatic configs). */
export function tableSpec(
  t: Pick<WatermarkTableSpec, 'source' | 'target' | 'pk' | 'watermarkColumn'> & Partial<WatermarkTableSpec>,
): WatermarkTableSpec {
  return { ...TABLE_DEFAULTS, ...t };
}

const identText = z
  .string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
  .trim()
  .min(1, 'must not be empty');
const nameRe = /^[A-Za-z0-9_-]{1,64}$/;

const transformSchema = z
  .union([
    z.null(),
    z.string().trim().min(1),
    z.object({ function: z.string().trim().min(1) }).strict(),
    z.object({ sql: z.record(z.string().min(1), z.string().trim().min(1)) }).strict(),
  ])
  .optional();

const tableSchema = z
  .object({
    source: identText,
    target: identText,
    pk: z.union([identText, z.array(identText).min(1, 'needs at least one column')]),
    watermark_column: identText,
    batch_size: z
      .number()
      .int('must be an integer')
      .positive('must be positive')
      .max(1_000_000, 'must be at most 1000000')
      .optional(),
    merge_max_rows: z
      .number()
      .int('must be an integer')
      .positive('must be positive')
      .max(100_000_000, 'must be at most 100000000')
      .optional(),
    transform: transformSchema,
    lag_seconds: z.number().min(0, 'must be >= 0').optional(),
    load_method: z.enum(['auto', 'binds', 'files']).optional(),
    file_format: z.enum(['csv', 'parquet']).optional(),
    bind_max_rows: z.number().int().positive().optional(),
    soft_delete_column: identText.nullable().optional(),
    create_target: z.boolean().optional(),
  })
  .strict();

const configSchema = z
  .object({
    name: z.string().regex(nameRe, 'must be 1-64 of A-Z a-z 0-9 _ -').optional(),
    sync_interval_seconds: z.number().int('must be an integer').min(10, 'must be at least 10').default(120),
    default_batch_size: z
      .number()
      .int('must be an integer')
      .positive('must be positive')
      .max(1_000_000)
      .default(TABLE_DEFAULTS.batchSize),
    default_merge_max_rows: z
      .number()
      .int('must be an integer')
      .positive('must be positive')
      .max(100_000_000)
      .default(TABLE_DEFAULTS.mergeMaxRows),
    default_lag_seconds: z.number().min(0).default(TABLE_DEFAULTS.lagSeconds),
    max_parallel_tables: z.number().int().min(1).max(64).default(4),
    default_bind_max_rows: z.number().int().positive().default(TABLE_DEFAULTS.bindMaxRows),
    tables: z.array(z.unknown()).min(1, 'needs at least one table'),
  })
  .strict();

/**
 * The config as a document (the OpenAPI description of the routes that take one): the top-level
 * fields with each table's. Parsing checks the tables one by one ({@link validateWatermarkSyncConfig}).
 */
export const watermarkSyncConfigSchema = configSchema.extend({
  tables: z.array(tableSchema).min(1, 'needs at least one table'),
});

function transformOf(t: z.infer<typeof tableSchema>['transform']): TransformSpec | null {
  if (t === null || t === undefined) return null;
  if (typeof t === 'string') return { kind: 'function', name: t };
  if ('function' in t) return { kind: 'function', name: t.function };
  return { kind: 'sql', columns: { ...t.sql } };
}

function fmtPath(path: PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(config)'
  );
}

/**
 * Validate a parsed config object.
 *
 * @returns the normalized config (defaults applied, `pk` always a list).
 * @throws WatermarkSyncConfigError listing every problem; table problems read `tables[i] (<source>).<field>: ...`.
 */
export function validateWatermarkSyncConfig(raw: unknown): WatermarkSyncConfig {
  const issues: { path: string; message: string }[] = [];
  if (raw && typeof raw === 'object' && 'source_database_url' in raw) {
    issues.push({
      path: 'source_database_url',
      message:
        'not allowed in the config: set PG_SYNC_SOURCE_URL in the environment (secrets never go into a schedule)',
    });
  }
  const cleaned =
    raw && typeof raw === 'object'
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'source_database_url'))
      : raw;
  const top = configSchema.safeParse(cleaned);
  if (!top.success) {
    for (const i of top.error.issues) issues.push({ path: fmtPath(i.path), message: i.message });
    throw new WatermarkSyncConfigError(issues);
  }
  const c = top.data;
  const tables: WatermarkTableSpec[] = [];
  const seen = new Set<string>();
  c.tables.forEach((rawTable, i) => {
    const label =
      rawTable && typeof rawTable === 'object' && typeof (rawTable as { source?: unknown }).source === 'string'
        ? `tables[${i}] (${(rawTable as { source: string }).source})`
        : `tables[${i}]`;
    const r = tableSchema.safeParse(rawTable);
    if (!r.success) {
      for (const iss of r.error.issues)
        issues.push({ path: `${label}${iss.path.length ? '.' : ''}${fmtPath(iss.path)}`, message: iss.message });
      return;
    }
    const t = r.data;
    const pk = typeof t.pk === 'string' ? [t.pk] : t.pk;
    const transform = transformOf(t.transform);
    if (transform?.kind === 'function' && !hasTransform(transform.name)) {
      issues.push({
        path: `${label}.transform`,
        message: `no transform function named ${JSON.stringify(transform.name)} is registered`,
      });
    }
    if (seen.has(t.source)) issues.push({ path: `${label}.source`, message: 'configured twice' });
    seen.add(t.source);
    if (new Set(pk).size !== pk.length) issues.push({ path: `${label}.pk`, message: 'lists a column twice' });
    if (pk.includes(t.watermark_column))
      issues.push({ path: `${label}.watermark_column`, message: 'must not be a primary key column' });
    tables.push(
      tableSpec({
        source: t.source,
        target: t.target,
        pk,
        watermarkColumn: t.watermark_column,
        batchSize: t.batch_size ?? c.default_batch_size,
        mergeMaxRows: t.merge_max_rows ?? c.default_merge_max_rows,
        transform,
        lagSeconds: t.lag_seconds ?? c.default_lag_seconds,
        bindMaxRows: t.bind_max_rows ?? c.default_bind_max_rows,
        ...(t.load_method ? { loadMethod: t.load_method } : {}),
        ...(t.file_format ? { fileFormat: t.file_format } : {}),
        ...(t.soft_delete_column ? { softDeleteColumn: t.soft_delete_column } : {}),
        ...(t.create_target !== undefined ? { createTarget: t.create_target } : {}),
      }),
    );
  });
  if (issues.length) throw new WatermarkSyncConfigError(issues);
  return {
    name: c.name ?? DEFAULT_CONFIG_NAME,
    syncIntervalSeconds: c.sync_interval_seconds,
    maxParallelTables: c.max_parallel_tables,
    tables,
  };
}

/**
 * Parse YAML text (or JSON, which is YAML) and validate it.
 * @throws WatermarkSyncConfigError on a YAML syntax error (path `(yaml)`) or an invalid config.
 */
export function parseWatermarkSyncConfig(text: string): WatermarkSyncConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new WatermarkSyncConfigError([{ path: '(yaml)', message: (err as Error).message }]);
  }
  return validateWatermarkSyncConfig(raw);
}
