/** Cache refresh (Snowflake query → DuckLake) in the job registry: its activities and routes. */
import path from 'node:path';
import { createCacheRefreshActivities } from '../../activities/cache-refresh/index.js';
import { createCacheRefreshRouter } from '../../api/routes/cacheRefresh.js';
import { lakeSettingsFromConfig } from './storage.js';
import { credentialResolver } from '../../credentials/store.js';
import { secretKeys } from '../../secrets/crypto.js';
import type { JobModule } from '../registry.js';

export const cacheRefreshJob: JobModule = {
  kind: 'cache-refresh',
  title: 'cache refresh',
  migrations: ['0004_query_cache.sql'],
  activities: (ctx) =>
    createCacheRefreshActivities({
      pool: ctx.pool,
      lake: lakeSettingsFromConfig(ctx.config),
      credentials: ctx.credentials,
      tmpDir: path.join(ctx.tmpRoot, 'cache-refresh'),
      logger: ctx.logger,
    }),
  routes: (deps) => {
    const keys = secretKeys(
      deps.config.executionUpload.encryptionKey,
      deps.config.executionUpload.previousEncryptionKey,
    );
    return [
      {
        path: '/api/v1',
        access: 'admin',
        router: createCacheRefreshRouter({
          pool: deps.pool,
          temporal: deps.temporal,
          taskQueue: deps.config.temporal.taskQueues.cacheRefresh,
          eagerStart: deps.eagerStart,
          lake: lakeSettingsFromConfig(deps.config),
          credentials: credentialResolver(deps.pool, keys, deps.snowflake),
          logger: deps.logger,
        }),
      },
    ];
  },
};
