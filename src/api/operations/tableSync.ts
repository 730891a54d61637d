/** Descriptions of the table sync routes (src/api/routes/tableSync.ts), mounted under /api/v1. */
import { z } from 'zod';
import {
  createScheduleRequest,
  jobParams,
  listJobsQuery,
  listTablesParams,
  listTablesQuery,
  methodSchema,
  registerRequest,
  sampleRequest,
  scheduleParams,
  startRequest,
  strategySchema,
  tableStatusParams,
  tableStatusQuery,
} from '../../jobs/table-sync/requests.js';
import type { Operation } from '../openapi/operations.js';
import { answer, count, deleted, listOf, timestamp } from './shapes.js';

const jobStatus = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']);
const tableNames = { database_name: z.string(), schema_name: z.string(), table_name: z.string() };
const job = answer({
  job_id: z.string(),
  run_id: z.string(),
  table: z.string().nullable().meta({ description: '`DATABASE.SCHEMA.TABLE`.' }),
  target: z.string().nullable().meta({ description: 'The DuckDB target, `"SCHEMA"."TABLE"`.' }),
  strategy: strategySchema.nullable(),
  method: methodSchema.nullable(),
  status: jobStatus,
  temporal_status: z.string(),
  started_at: timestamp,
  completed_at: timestamp.nullable(),
  stats: z.record(z.string(), z.unknown()).nullable().meta({ description: "A completed job's result." }),
  error: z.string().nullable(),
  error_type: z.string().nullable(),
  progress: z.record(z.string(), z.unknown()).nullable().optional(),
});
const registration = answer({
  table_id: z.number().int(),
  ...tableNames,
  target_schema: z.string(),
  target_table: z.string(),
});

export const listTables: Operation = {
  method: 'get',
  path: '/sync/tables/:schema',
  summary: 'List the tables of a Snowflake schema',
  description: '`database` defaults to SNOWFLAKE_DATABASE.',
  params: listTablesParams,
  query: listTablesQuery,
  responses: {
    200: {
      description: 'The tables with rows, bytes and last change.',
      body: answer({
        database: z.string(),
        schema: z.string(),
        count,
        tables: z.array(
          answer({
            name: z.string(),
            rows: z.number().nullable(),
            bytes: z.number().nullable(),
            last_altered: z.string().nullable(),
            kind: z.string(),
          }),
        ),
      }),
    },
  },
  errors: [404, 502, 503],
};

export const registerTable: Operation = {
  method: 'post',
  path: '/sync/tables/register',
  summary: 'Register a Snowflake table for table sync',
  description:
    'Reads the table from Snowflake and records it with its primary key and watermark column (for ' +
    'incremental sync) and its DuckDB target. Registering again updates it (200).',
  body: registerRequest,
  responses: {
    201: { description: 'Registered.', body: registration.extend({ created: z.literal(true), column_count: count }) },
    200: { description: 'Updated.', body: registration.extend({ created: z.literal(false), column_count: count }) },
  },
  errors: [404, 409, 422, 502],
};

export const startSync: Operation = {
  method: 'post',
  path: '/sync/start',
  summary: 'Start a table sync',
  description:
    'Starts a full refresh or an incremental sync of a registered table (a Temporal workflow); the ' +
    '`Location` header points at the job. One sync per target at a time (409 `sync_already_running`).',
  body: startRequest,
  responses: {
    202: {
      description: 'Started.',
      body: answer({
        job_id: z.string(),
        status: z.literal('pending'),
        table_id: z.number().int(),
        table: z.string(),
        ...tableNames,
        target_schema: z.string(),
        target_table: z.string(),
        strategy: strategySchema,
        method: methodSchema,
        started_at: timestamp,
      }),
    },
  },
  errors: [404, 409, 422, 503],
};

export const listSyncJobs: Operation = {
  method: 'get',
  path: '/sync/jobs',
  summary: 'List table sync jobs',
  description: '`table` is `DATABASE.SCHEMA.TABLE` or `SCHEMA.TABLE`; newest first.',
  query: listJobsQuery,
  responses: { 200: { description: 'The jobs.', body: listOf('jobs', job) } },
  errors: [503],
};

export const getSyncJob: Operation = {
  method: 'get',
  path: '/sync/jobs/:job_id',
  summary: 'Read a table sync job',
  description: 'A running job answers with its progress (phase, rows loaded so far).',
  params: jobParams,
  responses: { 200: { description: 'The job.', body: job } },
  errors: [404, 503],
};

export const cancelSyncJob: Operation = {
  method: 'post',
  path: '/sync/jobs/:job_id/cancel',
  summary: 'Cancel a table sync job',
  description: 'The previous data of the target stays intact.',
  params: jobParams,
  responses: {
    202: {
      description: 'Cancellation requested.',
      body: answer({ job_id: z.string(), status: z.literal('cancelling') }),
    },
  },
  errors: [404, 409, 503],
};

export const tableStatus: Operation = {
  method: 'get',
  path: '/sync/tables/:schema/:table/status',
  summary: "A registered table's status",
  description: 'The registration, the last sync, the high-water mark, a running job and the DuckDB target.',
  params: tableStatusParams,
  query: tableStatusQuery,
  responses: {
    200: {
      description: 'The status.',
      body: answer({
        ...registration.shape,
        status: z.string(),
        primary_key: z.array(z.string()).nullable(),
        watermark_column: z.string().nullable(),
        last_sync_status: z.string().nullable(),
        last_sync_at: timestamp.nullable(),
        row_count: z.number().nullable(),
        watermark: z.unknown(),
        running_job_id: z.string().nullable(),
        duckdb: z.record(z.string(), z.unknown()).nullable(),
      }),
    },
  },
  errors: [404, 503],
};

export const sampleData: Operation = {
  method: 'post',
  path: '/sample_data',
  summary: 'A sample of the synced data',
  description: 'The first or random rows of the DuckDB target, as JSON, CSV or Parquet (`output_format`).',
  body: sampleRequest,
  responses: {
    200: {
      description: 'JSON `{..., columns, rows}`, or the CSV / Parquet file.',
      body: answer({ ...tableNames, row_count: count, columns: z.array(z.unknown()), rows: z.array(z.unknown()) }),
      media: ['text/csv', 'application/vnd.apache.parquet'],
    },
  },
  errors: [404, 409],
};

export const createSchedule: Operation = {
  method: 'post',
  path: '/sync/schedules',
  summary: 'Schedule a table sync',
  description:
    'A Temporal Schedule, every `interval_seconds` or on `cron` (exactly one); overlapping runs are skipped.',
  body: createScheduleRequest,
  responses: {
    201: {
      description: 'The Schedule.',
      body: answer({
        schedule_id: z.string(),
        ...tableNames,
        strategy: strategySchema,
        method: methodSchema,
        interval_seconds: z.number().int().nullable(),
        cron: z.string().nullable(),
        overlap: z.literal('skip'),
      }),
    },
  },
  errors: [404, 409, 422, 503],
};

export const listSchedules: Operation = {
  method: 'get',
  path: '/sync/schedules',
  summary: 'List table sync Schedules',
  responses: { 200: { description: 'The Schedules.', body: listOf('schedules', answer({ schedule_id: z.string() })) } },
  errors: [503],
};

export const deleteSchedule: Operation = {
  method: 'delete',
  path: '/sync/schedules/:schedule_id',
  summary: 'Delete a table sync Schedule',
  params: scheduleParams,
  responses: { 200: { description: 'Deleted.', body: deleted({ schedule_id: z.string() }) } },
  errors: [404, 503],
};
