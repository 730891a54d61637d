/**
 * Descriptions of the cache refresh routes (src/api/routes/cacheRefresh.ts), mounted under /api/v1,
 * and the schemas of their requests.
 */
import { z } from 'zod';
import type { Operation } from '../openapi/operations.js';
import { answer, count, deleted, listOf, timestamp } from './shapes.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const cacheName = z
  .string()
  .regex(NAME, 'must be a name of letters, digits and _ (not starting with a digit), at most 63 characters');
export const emptyBody = z.object({}).strict();
export const sourceBody = z
  .object({
    source_name: z
      .string()
      .regex(NAME, 'must be a name of letters, digits and _ (not starting with a digit), at most 63 characters'),
    driver_type: z.literal('snowflake', { error: "must be 'snowflake'" }),
    credentials_ref: z.string().min(1, 'must not be empty').max(200),
    passthrough_enabled: z.boolean({ error: 'must be a boolean' }).optional().default(false),
  })
  .strict();
export const createBody = z
  .object({
    cache_name: cacheName,
    source_name: z.string().min(1, 'must not be empty'),
    source_query: z.string().min(1, 'must not be empty').max(100_000),
    monitor_tables: z
      .array(z.string().min(1, 'must not be empty'), { error: 'must be an array of DB.SCHEMA.TABLE names' })
      .max(100)
      .optional(),
    ttl_seconds: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .positive('must be positive')
      .nullable()
      .optional(),
    schedule_interval_seconds: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .nullable()
      .optional(),
  })
  .strict();
export const refreshBody = z
  .object({
    force: z.boolean({ error: 'must be a boolean' }).optional().default(false),
    wait: z.boolean({ error: 'must be a boolean' }).optional().default(true),
  })
  .strict();
export const queryBody = z
  .object({
    sql: z.string().min(1, 'must not be empty').max(100_000),
    max_staleness_seconds: z.number({ error: 'must be a number' }).min(0, 'must not be negative').optional(),
    snapshot: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .nonnegative('must not be negative')
      .optional(),
    source_name: z.string().min(1).optional(),
    max_rows: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(100_000, 'must be at most 100000')
      .optional(),
  })
  .strict();
export const nameParams = z.object({ name: cacheName });

const storage = answer({
  catalog: z.string().meta({ description: 'The DuckLake catalog URL, password masked.' }),
  data_path: z.string(),
  metadata_schema: z.string(),
  alias: z.string(),
  snapshot_id: z.number().int(),
});
const source = answer({
  source_name: z.string(),
  driver_type: z.literal('snowflake'),
  credentials_ref: z.string(),
  passthrough_enabled: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});
const cache = answer({
  cache_name: z.string(),
  source_name: z.string(),
  source_query: z.string(),
  monitor_tables: z.array(z.string()),
  monitor_tables_derived: z.boolean(),
  ttl_seconds: z.number().int().nullable(),
  state: z.string(),
  rows: z.number().nullable(),
  refreshed_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
  stale: z.boolean(),
  snapshot_id: z.number().nullable(),
  last_result: z.string().nullable(),
  last_error: z.string().nullable(),
  schedule: answer({
    interval_seconds: z.number().int(),
    schedule_id: z.string().nullable(),
    next_run: timestamp.nullable(),
  }).nullable(),
  created_at: timestamp,
});
const freshness = answer({
  cache_name: z.string(),
  refreshed_at: timestamp.nullable(),
  snapshot_id: z.number().nullable(),
  age_seconds: z.number().nullable(),
  stale: z.boolean(),
});

export const setupStorage: Operation = {
  method: 'post',
  path: '/cache/storage',
  summary: 'Set up the DuckLake storage',
  description: 'Attaches (creating if needed) the DuckLake catalog and data path; idempotent.',
  body: emptyBody,
  responses: { 200: { description: 'The storage.', body: storage } },
  errors: [502],
};

export const getStorage: Operation = {
  method: 'get',
  path: '/cache/storage',
  summary: 'The DuckLake storage',
  responses: { 200: { description: 'The storage.', body: storage } },
  errors: [502],
};

export const upsertSource: Operation = {
  method: 'post',
  path: '/cache/sources',
  summary: 'Create or update a cache source',
  description:
    'A Snowflake connection by reference: `credentials_ref` names a stored credential (or `default`, ' +
    "the server's own); secret fields are refused.",
  body: sourceBody,
  responses: {
    201: { description: 'Created.', body: source },
    200: { description: 'Updated.', body: source },
  },
  errors: [422],
};

export const listSources: Operation = {
  method: 'get',
  path: '/cache/sources',
  summary: 'List cache sources',
  responses: { 200: { description: 'The sources.', body: listOf('sources', source) } },
};

export const createCache: Operation = {
  method: 'post',
  path: '/caches',
  summary: 'Create a query cache',
  description:
    'One SELECT materialised in DuckLake. `monitor_tables` (derived from the query when omitted) drive ' +
    'the smart refresh; `ttl_seconds` marks it stale; `schedule_interval_seconds` creates a Schedule.',
  body: createBody,
  responses: { 201: { description: 'The cache.', body: cache } },
  errors: [404, 409, 422, 502, 503],
};

export const listCaches: Operation = {
  method: 'get',
  path: '/caches',
  summary: 'List query caches',
  responses: { 200: { description: 'The caches.', body: listOf('caches', cache) } },
};

export const getCache: Operation = {
  method: 'get',
  path: '/caches/:name',
  summary: 'Read a query cache',
  params: nameParams,
  responses: { 200: { description: 'The cache and its state.', body: cache } },
  errors: [404, 503],
};

export const deleteCache: Operation = {
  method: 'delete',
  path: '/caches/:name',
  summary: 'Delete a query cache',
  description: 'Its Schedule, DuckLake table and rows go.',
  params: nameParams,
  responses: { 200: { description: 'Deleted.', body: deleted({ cache_name: z.string() }) } },
  errors: [404, 503],
};

export const refreshCache: Operation = {
  method: 'post',
  path: '/caches/:name/refresh',
  summary: 'Refresh a query cache',
  description:
    'Skipped when the monitored tables did not change (unless `force`). Waits for the result unless ' +
    '`wait: false` (202 with the job id).',
  params: nameParams,
  body: refreshBody,
  responses: {
    200: {
      description: 'The refresh result.',
      body: answer({
        cache_name: z.string(),
        job_id: z.string(),
        result: z.enum(['SKIPPED', 'REFRESHED', 'ERROR']),
        message: z.string(),
        rows_refreshed: count,
        duration_ms: z.number(),
        snapshot_id: z.number().nullable(),
      }),
    },
    202: {
      description: 'Started (`wait: false`).',
      body: answer({ cache_name: z.string(), job_id: z.string(), status: z.literal('pending') }),
    },
  },
  errors: [404, 503],
};

export const query: Operation = {
  method: 'post',
  path: '/query',
  summary: 'Run a query, routed to the caches or Snowflake',
  description:
    'Answered from the DuckLake caches when every table it reads is cached and fresh enough ' +
    '(`max_staleness_seconds`, `snapshot` for time travel), else passed through to the source when ' +
    "allowed. SQL is routed on DuckDB's parse tree: file readers, table functions, non-SELECT and " +
    'several statements are 422 `sql_not_allowed`.',
  body: queryBody,
  responses: {
    200: {
      description: 'The rows and how they were answered.',
      body: answer({
        route: z.enum(['cache', 'passthrough']),
        reason: z.string(),
        columns: z.array(z.string()),
        rows: z.array(z.record(z.string(), z.unknown())),
        row_count: count,
        truncated: z.boolean(),
        caches: z.array(freshness),
        snapshot: z.number().nullable(),
        source_name: z.string().nullable(),
        duration_ms: z.number(),
      }),
    },
  },
  errors: [404, 409, 422, 502],
};
