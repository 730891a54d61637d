/** Watermark sync (PostgreSQL → Snowflake) in the job registry: its activities and routes. */
import path from 'node:path';
import { createWatermarkSyncActivities } from '../../activities/watermark-sync/index.js';
import { createWatermarkSyncRouter } from '../../api/routes/watermarkSync.js';
import type { JobModule } from '../registry.js';

export const watermarkSyncJob: JobModule = {
  kind: 'watermark-sync',
  title: 'watermark sync',
  migrations: ['0002_watermark_sync.sql', '0009_watermark_position_seq.sql'],
  activities: (ctx) =>
    createWatermarkSyncActivities({
      pool: ctx.pool,
      sourcePool: ctx.watermarkSyncSourcePool,
      snowflake: ctx.config.snowflake,
      tmpDir: path.join(ctx.tmpRoot, 'watermark-sync'),
      logger: ctx.logger,
    }),
  routes: (deps) => {
    const router = createWatermarkSyncRouter({
      pool: deps.pool,
      sourcePool: deps.watermarkSyncSourcePool,
      temporal: deps.temporal,
      taskQueue: deps.config.temporal.taskQueues.watermarkSync,
      snowflake: deps.snowflake,
    });
    // `/api/v1/pg-sync` is the path of earlier releases, kept as an alias of the same router.
    return [{ path: '/api/v1/watermark-sync', aliases: ['/api/v1/pg-sync'], access: 'admin', router }];
  },
};
