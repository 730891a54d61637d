/** Execution upload (PostgreSQL executions → each user's Snowflake) in the job registry. */
import path from 'node:path';
import { createExecutionUploadActivities } from '../../activities/execution-upload/index.js';
import { executionUploadRouter } from '../../api/routes/executionUpload.js';
import { ensureExecutionUploadSchedule, triggerExecutionUploadDrain } from '../../client/executionUpload.js';
import { secretKeys } from '../../secrets/crypto.js';
import type { JobModule } from '../registry.js';
import { listenForQueuedUploads } from './notify.js';

/** Primary mount path of the router. */
export const EXECUTION_UPLOAD_API_PATH = '/api/v1/execution-upload';
/** The first API's path of the same router, kept for its clients. */
export const EXECUTION_UPLOAD_API_ALIAS = '/api/snowflake-sync';

export const executionUploadJob: JobModule = {
  kind: 'execution-upload',
  title: 'execution upload',
  migrations: ['0003_execution_upload.sql', '0008_execution_upload_notify.sql'],
  // Without the encryption key the uploads cannot decrypt users' credentials: no activities.
  activities: (ctx) =>
    ctx.secretKeys
      ? createExecutionUploadActivities({
          pool: ctx.pool,
          secretKeys: ctx.secretKeys,
          tmpDir: path.join(ctx.tmpRoot, 'execution-upload'),
          logger: ctx.logger,
        })
      : null,
  // Both paths open to `user` tokens: the router scopes them to their own user_id.
  routes: (deps) => {
    const router = executionUploadRouter({
      pool: deps.pool,
      secretKeys: secretKeys(
        deps.config.executionUpload.encryptionKey,
        deps.config.executionUpload.previousEncryptionKey,
      ),
      temporal: deps.temporal,
      scheduleId: deps.config.executionUpload.scheduleId,
      logger: deps.logger,
    });
    return [{ path: EXECUTION_UPLOAD_API_PATH, aliases: [EXECUTION_UPLOAD_API_ALIAS], access: 'user', router }];
  },
  ensureSchedules: async (client, config) => [
    await ensureExecutionUploadSchedule(client, {
      taskQueue: config.temporal.taskQueues.executionUpload,
      intervalSeconds: config.executionUpload.intervalSeconds,
      input: { maxConcurrent: config.executionUpload.maxConcurrent },
      scheduleId: config.executionUpload.scheduleId,
    }),
  ],
  // Queued work triggers the drain at once (the Schedule's tick remains the fallback); only where uploads run.
  watch: (ctx, client) =>
    ctx.secretKeys
      ? listenForQueuedUploads({
          databaseUrl: ctx.config.databaseUrl,
          onQueued: () => triggerExecutionUploadDrain(client, ctx.config.executionUpload.scheduleId),
          logger: ctx.logger,
        })
      : null,
};
