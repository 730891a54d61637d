/**
 * floe's HTTP API (Express 5): auth, table sync, job inspection, samples and schedules under
 * `/api/v1` (seed 001 shapes), with the job log in Temporal.
 *
 * - Every response is JSON except CSV/Parquet samples; errors are
 *   `{ "error": { "code", "message", "field"? } }` (src/api/errors.ts).
 * - Every route but `POST /api/v1/auth/token`, `GET /healthz` and (with METRICS_AUTH=none) `GET /metrics`
 *   needs a Bearer token (src/api/auth.ts). Under `/api/v1` only the auth routes accept a `user`-role
 *   token; every other route there is admin-only (403). `/api/snowflake-sync/*` serves both roles, a
 *   `user` token seeing only its own user_id's data (docs/security.md has the route matrix).
 * - Each request gets an id (`X-Request-Id`, echoed or generated) that server-fault log lines carry.
 *
 * Route table: see src/api/README.md — table sync (routes/sync.ts, routes/data.ts, routes/auth.ts),
 * watermark sync under /api/v1/pg-sync (pgSync.ts, seed 002), caches under /api/v1 (cache.ts, seed 003),
 * named credentials under /api/v1/credentials (routes/credentials.ts), execution upload under
 * /api/snowflake-sync (executionSync.ts, seed 004's paths; per-user configurations routes/uploadConfig.ts), and Prometheus
 * metrics at GET /metrics.
 */
import { randomUUID } from 'node:crypto';
import express, { type Application } from 'express';
import { requireAuth, requireRole, requireStaticBearer } from './auth.js';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { authSettings, revokeRouter, tokenRouter } from './routes/auth.js';
import { dataRouter } from './routes/data.js';
import { usersRouter } from './routes/users.js';
import { syncRouter } from './routes/sync.js';
import { createPgSyncRouter, createMetricsHandler } from './pgSync.js';
import { createCacheRouter } from './cache.js';
import { createExecutionSyncRouter } from './executionSync.js';
import { lakeSettingsFromConfig } from '../cache/storage.js';
import { credentialResolver } from '../credentials/store.js';
import { secretKeys } from '../secrets/crypto.js';
import { credentialsRouter } from './routes/credentials.js';
import { uploadConfigRouter } from './routes/uploadConfig.js';

export type { ApiDeps } from './deps.js';

/** Prefix of every API route. */
export const API_PREFIX = '/api/v1';

/** Deadline of the Temporal calls of one request, ms. */
export const TEMPORAL_DEADLINE_MS = 8_000;

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Build the Express application. Does not listen; the caller owns `deps` (pool, Temporal client)
 * and closes them. See the module comment for the routes and error shapes.
 */
export function createApp(deps: ApiDeps): Application {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const log = deps.logger.child({ component: 'api' });
  const routeDeps: ApiDeps = { ...deps, logger: log };

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      log[level](
        { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  });

  // Bound every Temporal call a request makes (the client otherwise retries UNAVAILABLE for ~20 s):
  // the deadline lives in the client's async context for the rest of this request's chain.
  app.use((_req, res, next) => {
    void deps.temporal
      .withDeadline(
        Date.now() + (deps.temporalDeadlineMs ?? TEMPORAL_DEADLINE_MS),
        () =>
          new Promise<void>((resolve) => {
            res.once('close', resolve);
            next();
          }),
      )
      .catch(() => undefined);
  });

  app.use(express.json({ limit: '1mb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Prometheus scrape endpoint (watermark sync counters, seed 002): open by default for local use,
  // METRICS_AUTH=bearer requires METRICS_TOKEN (Prometheus' `authorization.credentials_file`).
  const metricsToken = deps.config.api.metricsToken;
  if (metricsToken !== undefined)
    app.get('/metrics', requireStaticBearer(metricsToken), createMetricsHandler(deps.pool));
  else app.get('/metrics', createMetricsHandler(deps.pool));

  const auth = requireAuth(deps.pool, authSettings(deps));

  const keys = secretKeys(deps.config.executionUpload.encryptionKey, deps.config.executionUpload.previousEncryptionKey);
  const api = express.Router();
  api.use(tokenRouter(routeDeps));
  api.use(auth);
  api.use(revokeRouter(routeDeps));
  api.use(requireRole('admin'));
  api.use(usersRouter(routeDeps));
  api.use(syncRouter(routeDeps));
  api.use(dataRouter(routeDeps));
  api.use(
    '/pg-sync',
    createPgSyncRouter({
      pool: deps.pool,
      sourcePool: deps.pgSyncSourcePool,
      temporal: deps.temporal,
      taskQueue: deps.config.temporal.taskQueues.watermarkSync,
      snowflake: deps.snowflake,
    }),
  );
  api.use(
    createCacheRouter({
      pool: deps.pool,
      temporal: deps.temporal,
      taskQueue: deps.config.temporal.taskQueues.cacheRefresh,
      lake: lakeSettingsFromConfig(deps.config),
      credentials: credentialResolver(deps.pool, keys, deps.snowflake),
      logger: log,
    }),
  );
  // Named credentials are admin only, like every router after requireRole('admin') above.
  api.use(credentialsRouter({ pool: deps.pool, secretKeys: keys }));
  app.use(API_PREFIX, api);
  app.use('/api/snowflake-sync/config', auth, uploadConfigRouter({ pool: deps.pool, secretKeys: keys }));
  // Seed 004 keeps its own prefix (outside /api/v1), behind the same auth.
  app.use(
    '/api/snowflake-sync',
    auth,
    createExecutionSyncRouter({ pool: deps.pool, temporal: deps.temporal, logger: log }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
