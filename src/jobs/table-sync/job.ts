/** Table sync (Snowflake → DuckDB) in the job registry: its activities and routes. */
import path from 'node:path';
import { createTableSyncActivities } from '../../activities/table-sync/index.js';
import { tableSyncRouter } from '../../api/routes/tableSync.js';
import type { JobModule } from '../registry.js';

export const tableSyncJob: JobModule = {
  kind: 'table-sync',
  title: 'table sync',
  migrations: ['0001_table-sync.sql', '0007_table_targets.sql'],
  activities: (ctx) =>
    createTableSyncActivities({
      snowflake: ctx.config.snowflake,
      duckdbPath: ctx.config.duckdbPath,
      pool: ctx.pool,
      tmpDir: path.join(ctx.tmpRoot, 'table-sync'),
      stage: ctx.tableSync?.stage,
      maxFileSizeBytes: ctx.tableSync?.maxFileSizeBytes,
      logger: ctx.logger,
    }),
  routes: (deps) => [{ path: '/api/v1', access: 'admin', router: tableSyncRouter(deps) }],
};
