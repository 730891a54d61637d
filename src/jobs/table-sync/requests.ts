/**
 * Table sync requests: zod schemas of every body, query and path parameter of the table sync routes
 * (snake_case), and the workflow input a registered table gives. Objects are strict: an unknown field
 * (a typo such as `stratgy`) is a 400 naming it.
 */
import { z } from 'zod';
import { objectName, requiredString } from '../../api/schemas.js';

const optionalName = objectName.optional();

export const strategySchema = z.enum(['full', 'incremental'], { error: "must be 'full' or 'incremental'" });
export const methodSchema = z.enum(['auto', 'stage', 'stream'], { error: "must be 'auto', 'stage' or 'stream'" });
const lagSeconds = z
  .number({ error: 'must be a number of seconds' })
  .int('must be an integer')
  .min(0, 'must be ≥ 0')
  .max(30 * 86_400, 'must be at most 2592000 (30 days)');

/** The Snowflake table a request names; the database defaults to SNOWFLAKE_DATABASE. */
const tableRef = { table_name: objectName, schema_name: objectName, database_name: optionalName };

/** `GET /sync/tables/{schema}` path and query. */
export const listTablesParams = z.object({ schema: objectName });
export const listTablesQuery = z.object({ database: optionalName }).strict();

/**
 * A DuckDB schema or table name of a sync target, used as given (quoted). Names starting with
 * `_floe` are floe's own (the `_floe.state` schema, `_floe_staging_*` tables).
 */
const targetName = requiredString(255).refine(
  (s) => !s.toLowerCase().startsWith('_floe'),
  "must not start with '_floe' (reserved for floe's own tables)",
);

/** `POST /sync/tables/register` (with the keys of incremental sync). */
export const registerRequest = z
  .object({
    ...tableRef,
    /** One column or several; null clears it on re-register; omitted keeps the stored value. */
    primary_key: z
      .union([objectName, z.array(objectName).min(1, 'must name at least one column').max(32)], {
        error: 'must be a column name or a non-empty list of column names',
      })
      .nullable()
      .optional(),
    watermark_column: objectName.nullable().optional(),
    /** DuckDB target; omitted keeps the stored one (new registrations: `<DATABASE>__<SCHEMA>` and the table name). */
    target_schema: targetName.optional(),
    target_table: targetName.optional(),
  })
  .strict();

/** `POST /sync/start`. */
export const startRequest = z
  .object({
    ...tableRef,
    strategy: strategySchema,
    method: methodSchema.default('auto'),
    lag_seconds: lagSeconds.optional(),
  })
  .strict();

/** `GET /sync/jobs/{job_id}` and `POST /sync/jobs/{job_id}/cancel`. */
export const jobParams = z.object({ job_id: requiredString(1000) });

/** `GET /sync/jobs?table=&status=&limit=`. `table` is `DB.SCHEMA.TABLE` or `SCHEMA.TABLE`. */
export const listJobsQuery = z
  .object({
    table: requiredString(800).optional(),
    status: z
      .enum(['pending', 'running', 'completed', 'failed', 'cancelled'], {
        error: 'must be one of pending, running, completed, failed, cancelled',
      })
      .optional(),
    limit: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be 1..1000')
      .max(1000, 'must be 1..1000')
      .default(50),
  })
  .strict();

/** `GET /sync/tables/{schema}/{table}/status`. */
export const tableStatusParams = z.object({ schema: objectName, table: objectName });
export const tableStatusQuery = z.object({ database: optionalName }).strict();

/** `POST /sample_data` (a sample of the synced data). */
export const sampleRequest = z
  .object({
    ...tableRef,
    sample_type: z.enum(['first', 'random'], { error: "must be 'first' or 'random'" }).default('first'),
    sample_size: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be 1..10000')
      .max(10_000, 'must be 1..10000')
      .default(10),
    output_format: z
      .string({ error: 'must be JSON, CSV or Parquet' })
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['json', 'csv', 'parquet'], { error: 'must be JSON, CSV or Parquet' }))
      .transform((s) => ({ json: 'JSON', csv: 'CSV', parquet: 'Parquet' })[s] as 'JSON' | 'CSV' | 'Parquet')
      .default('JSON'),
  })
  .strict();

/**
 * 5-field cron (minute hour day-of-month month day-of-week), or a Temporal-accepted @-macro. The
 * server validates it again; this catches obvious mistakes with a field-named 400.
 */
const cronSchema = requiredString(200).refine(
  (s) =>
    /^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(s) ||
    /^@every\s+\S+$/.test(s) ||
    s.split(/\s+/).length === 5,
  'must be a 5-field cron expression (minute hour day month weekday) or @hourly/@daily/...',
);

/** `POST /sync/schedules`: exactly one of interval_seconds and cron. */
export const createScheduleRequest = z
  .object({
    ...tableRef,
    strategy: strategySchema,
    method: methodSchema.default('auto'),
    lag_seconds: lagSeconds.optional(),
    interval_seconds: z
      .number({ error: 'must be a number of seconds' })
      .int('must be an integer')
      .min(10, 'must be at least 10')
      .max(366 * 86_400, 'must be at most 31622400 (366 days)')
      .optional(),
    cron: cronSchema.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.interval_seconds === undefined && b.cron === undefined)
      ctx.addIssue({ code: 'custom', path: ['interval_seconds'], message: "is required (or give 'cron')" });
    if (b.interval_seconds !== undefined && b.cron !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cron'], message: "give either 'interval_seconds' or 'cron', not both" });
  });

/** `DELETE /sync/schedules/{schedule_id}`. */
export const scheduleParams = z.object({ schedule_id: requiredString(1000) });
