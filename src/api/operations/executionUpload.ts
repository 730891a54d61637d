/**
 * Descriptions of the execution upload routes (src/api/routes/executionUpload.ts), mounted under
 * /api/v1/execution-upload for `admin` and `user` tokens, and the schemas of their requests.
 */
import { z } from 'zod';
import { checkCredentialSecret } from '../../credentials/kinds.js';
import * as monitor from '../../jobs/execution-upload/monitor.js';
import type { Operation } from '../openapi/operations.js';
import { connectionFields, credentialView, signInTest } from './credentials.js';
import { answer, count, deleted, listOf, timestamp } from './shapes.js';

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const intParam = (dflt: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(dflt);
const dateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });
const identifier = z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters');

export const failedQuery = z.object({ limit: intParam(50, 1, 500) }).strict();
export const queueQuery = z
  .object({
    status: z.enum(monitor.QUEUE_STATUSES, { error: `must be one of ${monitor.QUEUE_STATUSES.join(', ')}` }).optional(),
    limit: intParam(100, 1, 1000),
    offset: intParam(0, 0, 1_000_000),
  })
  .strict();
export const backfillBody = z
  .object({
    user_id: uuid.optional(),
    since: dateTime.optional(),
    until: dateTime.optional(),
    limit: intParam(10_000, 1, 100_000),
    include_failed: z.boolean().default(false),
    dry_run: z.boolean().default(false),
  })
  .strict();
export const configBody = z
  .object({ user_id: uuid.optional(), ...connectionFields, database: identifier, schema: identifier })
  .strict()
  .superRefine(checkCredentialSecret);
export const ownerOnly = z.object({ user_id: uuid.optional() }).strict();

export const retryParams = z.object({ sync_id: uuid });
export const syncStatusParams = z.object({ execution_id: z.string().min(1, 'must not be empty') });

const queueStatus = z.enum(monitor.QUEUE_STATUSES);
const queueItem = answer({
  sync_id: z.uuid(),
  execution_id: z.string(),
  user_id: z.uuid(),
  status: queueStatus,
  retry_count: count,
  max_retries: count,
  error_message: z.string().nullable(),
  snowflake_table: z.string().nullable(),
  rows_uploaded: count.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
const statusCounts = answer({
  count,
  oldest_created_at: timestamp.nullable(),
  avg_retry_count: z.number(),
  avg_seconds_to_process: z.number().nullable(),
});
/** A user's Snowflake configuration as the API shows it (no secret). */
const configView = credentialView.omit({ name: true, rotated_at: true }).extend({
  id: z.uuid(),
  user_id: z.uuid(),
  updated_at: timestamp,
});
const scopeNote = 'A `user` token sees only its own user_id; an admin token every user.';

export const stats: Operation = {
  method: 'get',
  path: '/stats',
  summary: 'Upload queue counts by status',
  description: scopeNote,
  responses: {
    200: {
      description: 'Counts, oldest item, average retries and processing time per status.',
      body: answer({ ...Object.fromEntries(monitor.QUEUE_STATUSES.map((s) => [s, statusCounts])), total: count }),
    },
  },
};

export const failed: Operation = {
  method: 'get',
  path: '/failed',
  summary: 'Failed uploads',
  description: scopeNote,
  query: failedQuery,
  responses: { 200: { description: 'The failed items, newest first.', body: listOf('failed', queueItem) } },
};

export const retry: Operation = {
  method: 'post',
  path: '/retry/:sync_id',
  summary: 'Retry a failed or skipped upload',
  description: 'The item goes back to `pending` and the drain Schedule is triggered (best effort).',
  params: retryParams,
  responses: {
    200: {
      description: 'Queued again.',
      body: answer({
        sync_id: z.uuid(),
        execution_id: z.string(),
        status: z.literal('pending'),
        retried: z.literal(true),
        drain_triggered: z.boolean(),
      }),
    },
  },
  errors: [404, 409],
};

export const queue: Operation = {
  method: 'get',
  path: '/queue',
  summary: 'The upload queue',
  description: `Newest first. ${scopeNote}`,
  query: queueQuery,
  responses: { 200: { description: 'The items.', body: listOf('items', queueItem) } },
};

export const syncStatus: Operation = {
  method: 'get',
  path: '/execution/:execution_id/sync-status',
  summary: "An execution's upload status",
  params: syncStatusParams,
  responses: {
    200: {
      description: 'Whether and where the execution was uploaded.',
      body: answer({
        execution_id: z.string(),
        synced: z.boolean(),
        snowflake_table: z.string().nullable(),
        snowflake_synced_at: timestamp.nullable(),
        snowflake_rows: z.number().nullable(),
        sync: queueItem.nullable(),
      }),
    },
  },
  errors: [404],
};

export const backfill: Operation = {
  method: 'post',
  path: '/backfill',
  summary: 'Queue executions that were never uploaded',
  description: `Optionally by user and time range; \`dry_run\` only counts. ${scopeNote}`,
  body: backfillBody,
  responses: {
    200: {
      description: 'What was queued (at most 1000 ids listed).',
      body: answer({
        queued: count,
        execution_ids: z.array(z.string()),
        dry_run: z.boolean(),
        drain_triggered: z.boolean(),
      }),
    },
  },
  errors: [404],
};

const ownerNote =
  'A `user` token addresses its own configuration (naming another `user_id` is 403); an admin token names `user_id`.';

export const saveConfig: Operation = {
  method: 'put',
  path: '/config',
  summary: "Save a user's Snowflake configuration",
  description: `${ownerNote} The secret is stored encrypted (503 without FLOE_ENCRYPTION_KEY).`,
  body: configBody,
  responses: { 200: { description: 'The configuration (no secret).', body: configView } },
  errors: [403, 503],
};

export const getConfig: Operation = {
  method: 'get',
  path: '/config',
  summary: "Read a user's Snowflake configuration",
  description: ownerNote,
  query: ownerOnly,
  responses: { 200: { description: 'The configuration (no secret).', body: configView } },
  errors: [403, 404],
};

export const testConfig: Operation = {
  method: 'post',
  path: '/config/test',
  summary: "Sign in with a user's Snowflake configuration",
  description: `${ownerNote} 422 \`snowflake_sign_in_failed\` carries Snowflake's code.`,
  body: ownerOnly,
  responses: { 200: { description: 'Signed in.', body: signInTest.extend({ user_id: z.uuid() }) } },
  errors: [403, 404, 422, 503],
};

export const deleteConfig: Operation = {
  method: 'delete',
  path: '/config',
  summary: "Delete a user's Snowflake configuration",
  description: ownerNote,
  query: ownerOnly,
  responses: { 200: { description: 'Deleted.', body: deleted({ user_id: z.uuid() }) } },
  errors: [403, 404],
};
