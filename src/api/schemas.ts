/**
 * zod schemas of every request body, query and path parameter (snake_case).
 * Objects are strict: an unknown field (a typo such as `stratgy`) is a 400 naming it.
 */
import { z } from 'zod';
import { ROLES } from './users.js';

/** A required string field with messages that say what is wrong ("is required", "must be a string"). */
export const requiredString = (max = 255) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

/** A Snowflake object name (database, schema, table, column) as the user typed it. */
export const objectName = requiredString(255);

const optionalName = objectName.optional();

export const strategySchema = z.enum(['full', 'incremental'], { error: "must be 'full' or 'incremental'" });
export const methodSchema = z.enum(['auto', 'stage', 'stream'], { error: "must be 'auto', 'stage' or 'stream'" });
const lagSeconds = z
  .number({ error: 'must be a number of seconds' })
  .int('must be an integer')
  .min(0, 'must be ≥ 0')
  .max(30 * 86_400, 'must be at most 2592000 (30 days)');

/** `POST /auth/token` (form fields, OAuth2 password grant). */
export const tokenRequest = z.object({
  username: requiredString(200),
  password: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(1000),
  grant_type: z.string().optional(),
  scope: z.string().optional(),
});

/** `POST /auth/revoke`: the presented token when empty, else a given token or token id. */
export const revokeRequest = z
  .object({
    token: requiredString(8192).optional(),
    token_id: z.uuid({ error: 'must be a token id (UUID)' }).optional(),
  })
  .strict()
  .refine((b) => !(b.token && b.token_id), {
    message: "give either 'token' or 'token_id', not both",
    path: ['token_id'],
  });

/** The Snowflake table a request names ; database defaults to SNOWFLAKE_DATABASE. */
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

/** An API username: 1–64 letters, digits, `.`, `_`, `@`, `-`. */
const username = requiredString(64).regex(/^[A-Za-z0-9._@-]+$/, 'must be 1–64 letters, digits, ".", "_", "@" or "-"');
/** A new password: 12–1000 characters. */
const newPassword = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .min(12, 'must be at least 12 characters')
  .max(1000, 'must be at most 1000 characters');

/** `POST /users`: a `user` is bound to one execution-upload `user_id`; an `admin` is not. */
export const createUserRequest = z
  .object({
    username,
    password: newPassword,
    role: z.enum(ROLES, { error: "must be 'admin' or 'user'" }),
    user_id: z.uuid({ error: 'must be a UUID' }).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.role === 'user' && b.user_id === undefined)
      ctx.addIssue({ code: 'custom', path: ['user_id'], message: "is required for role 'user'" });
    if (b.role === 'admin' && b.user_id !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['user_id'],
        message: "must be omitted for role 'admin' (admins see every user)",
      });
  });

/** `/users/{username}` path. */
export const userParams = z.object({ username: requiredString(64) });

/** `PATCH /users/{username}`: a new password and/or enabling or disabling the user. */
export const updateUserRequest = z
  .object({ password: newPassword.optional(), disabled: z.boolean({ error: 'must be true or false' }).optional() })
  .strict()
  .refine((b) => b.password !== undefined || b.disabled !== undefined, {
    message: "give 'password' and/or 'disabled'",
    path: ['password'],
  });

/** `POST /auth/password`: an API user changes their own password. */
export const changePasswordRequest = z
  .object({
    current_password: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(1000),
    new_password: newPassword,
  })
  .strict();
