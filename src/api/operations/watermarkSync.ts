/**
 * Descriptions of the watermark sync routes (src/api/routes/watermarkSync.ts), mounted under
 * /api/v1/watermark-sync, and the schemas of their requests. `name` (a config name) defaults to `default`.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG_NAME } from '../../jobs/watermark-sync/contract.js';
import { watermarkSyncConfigSchema } from '../../jobs/watermark-sync/config.js';
import type { Operation } from '../openapi/operations.js';
import { answer, timestamp } from './shapes.js';

/** A config name: the Schedule id's suffix. Empty or null means the default. */
const configName = z
  .union([z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -'), z.literal(''), z.null()])
  .optional()
  .transform((v) => v || DEFAULT_CONFIG_NAME);

export const nameOnly = z.object({ name: configName }).strict();
export const statusQuery = z.object({ name: configName });
export const backfillBody = z
  .object({
    name: configName,
    tables: z.array(z.string().min(1, 'must not be empty'), 'must be a list of source table names').optional(),
    after: z.string('must be a watermark value as text').nullable().optional(),
  })
  .strict();
export const discoverFlags = z.object({ create: z.boolean().optional(), name: configName });
export const errorsQuery = z.object({
  table: z.string().min(1).optional(),
  limit: z.coerce.number().int('must be an integer').min(1).max(500).default(50),
});

/** A config as a request body: `{yaml}` (the YAML file's text) or the config object itself. */
const configBody = z.union([z.object({ yaml: z.string() }), watermarkSyncConfigSchema]);
const scheduleAnswer = answer({ schedule_id: z.string(), status: z.string() });
const syncError = answer({
  id: z.number(),
  source_table: z.string(),
  occurred_at: timestamp,
  error_type: z.string().nullable(),
  error_message: z.string().nullable(),
  sample_keys: z.array(z.array(z.string())).nullable(),
});

export const status: Operation = {
  method: 'get',
  path: '/status',
  summary: "A watermark sync config's Schedule and tables",
  description: "The Schedule, each table's high-water mark and counters, and recent errors.",
  query: statusQuery,
  responses: {
    200: {
      description: 'The status.',
      body: answer({
        name: z.string(),
        schedule: answer({ schedule_id: z.string(), paused: z.boolean(), interval_seconds: z.number() }).nullable(),
        tables: z.array(
          answer({ source_table: z.string(), target_table: z.string(), last_status: z.string().nullable() }),
        ),
        recent_errors: z.array(syncError),
      }),
    },
  },
  errors: [503],
};

export const apply: Operation = {
  method: 'post',
  path: '/apply',
  summary: 'Apply a watermark sync config',
  description:
    "Creates or updates the config's Schedule (every `sync_interval_seconds`). 400 `invalid_config` names the table and field.",
  body: configBody,
  responses: {
    201: { description: 'Created.', body: answer({ schedule_id: z.string(), action: z.literal('created') }) },
    200: {
      description: 'Updated or unchanged.',
      body: answer({
        schedule_id: z.string(),
        action: z.enum(['updated', 'unchanged']),
        name: z.string(),
        tables: z.array(z.string()),
      }),
    },
  },
  errors: [503],
};

const control = (path: string, summary: string): Operation => ({
  method: 'post',
  path,
  summary,
  description: '`name` in the body or the query.',
  body: nameOnly,
  query: statusQuery,
  responses: { 200: { description: 'Done.', body: scheduleAnswer } },
  errors: [404, 503],
});
export const pause = control('/pause', 'Pause a watermark sync');
export const resume = control('/resume', 'Resume a watermark sync');
export const trigger = control('/trigger', 'Run a watermark sync now');

export const backfill: Operation = {
  method: 'post',
  path: '/backfill',
  summary: 'Backfill watermark sync tables',
  description: 'Re-reads the tables (all, or `tables`) from the start or from the watermark `after`.',
  body: backfillBody,
  responses: {
    202: { description: 'Started.', body: answer({ workflow_id: z.string(), tables: z.array(z.string()) }) },
  },
  errors: [404, 503],
};

export const discover: Operation = {
  method: 'post',
  path: '/discover',
  summary: 'Discover target tables from the source',
  description:
    'Reads the source tables of a config (the body, or the applied config `name`) and derives the ' +
    'Snowflake DDL; `create: true` creates the missing targets, otherwise a dry run.',
  body: z.union([configBody, discoverFlags]),
  responses: {
    200: {
      description: 'The tables and DDL.',
      body: answer({ dry_run: z.boolean(), tables: z.array(z.unknown()), ddl: z.string() }),
    },
  },
  errors: [404, 502, 503],
};

export const errors: Operation = {
  method: 'get',
  path: '/errors',
  summary: 'Recent failed batches',
  description: "Each with `sample_keys`: the primary keys of the failing batch's first rows (up to 100).",
  query: errorsQuery,
  responses: { 200: { description: 'The errors, newest first.', body: answer({ errors: z.array(syncError) }) } },
};
