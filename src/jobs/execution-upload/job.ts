/** Execution upload (PostgreSQL executions → each user's Snowflake) in the job registry. */
import path from 'node:path';
import { createExecutionUploadActivities } from '../../activities/executionUpload.js';
import { createExecutionSyncRouter } from '../../api/executionSync.js';
import { uploadConfigRouter } from '../../api/routes/uploadConfig.js';
import { ensureExecutionUploadSchedule } from '../../client/executionUpload.js';
import { secretKeys } from '../../secrets/crypto.js';
import type { JobModule } from '../registry.js';

export const executionUploadJob: JobModule = {
  kind: 'execution-upload',
  title: 'execution upload',
  migrations: ['0003_execution_upload.sql'],
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
  routes: (deps) => [
    {
      path: '/api/snowflake-sync/config',
      access: 'user',
      router: uploadConfigRouter({
        pool: deps.pool,
        secretKeys: secretKeys(
          deps.config.executionUpload.encryptionKey,
          deps.config.executionUpload.previousEncryptionKey,
        ),
      }),
    },
    {
      path: '/api/snowflake-sync',
      access: 'user',
      router: createExecutionSyncRouter({ pool: deps.pool, temporal: deps.temporal, logger: deps.logger }),
    },
  ],
  ensureSchedules: async (client, config) => [
    await ensureExecutionUploadSchedule(client, {
      taskQueue: config.temporal.taskQueues.executionUpload,
      intervalSeconds: config.executionUpload.intervalSeconds,
      input: { maxConcurrent: config.executionUpload.maxConcurrent },
    }),
  ],
};
