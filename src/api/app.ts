/**
 * floe's HTTP API (Express 5): auth, table sync, job inspection, samples and schedules under
 * `/api/v1` (snake_case bodies), with the job log in Temporal.
 *
 * - Every response is JSON except CSV/Parquet samples; errors are
 *   `{ "error": { "code", "message", "field"? } }` (src/api/errors.ts).
 * - Every route but `POST /api/v1/auth/token`, `GET /healthz`, `GET /api/v1/openapi.json`, the page
 *   `/api/docs` and (with METRICS_AUTH=none) `GET /metrics` needs a Bearer token (src/api/auth.ts).
 *   Under `/api/v1` only the auth routes and the job routes registered with `access: 'user'` accept a
 *   `user`-role token; every other route there is admin-only (403). `/api/v1/execution-upload/*` (alias `/api/snowflake-sync/*`) serves both roles, a `user`
 *   token seeing only its own user_id's data (docs/security.md has the route matrix).
 * - Every route is registered with its description (src/api/openapi/operations.ts); the OpenAPI 3.1
 *   document built from them is `GET /api/v1/openapi.json`, shown as a page at `/api/docs`.
 * - Each request gets an id (`X-Request-Id`, echoed or generated) that server-fault log lines carry.
 *
 * Route table: see docs/api.md — table sync (routes/tableSync.ts), sign-in (routes/auth.ts),
 * watermark sync under /api/v1/watermark-sync (alias /api/v1/pg-sync; routes/watermarkSync.ts), caches under /api/v1 (cache.ts),
 * named credentials under /api/v1/credentials (routes/credentials.ts), execution upload under
 * /api/v1/execution-upload and /api/snowflake-sync (routes/executionUpload.ts), and Prometheus
 * metrics at GET /metrics (src/metrics/http.ts; every request's duration is recorded there too).
 */
import { randomUUID } from 'node:crypto';
import express, { type Application } from 'express';
import { requireAuth, requireRole, requireStaticBearer } from './auth.js';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { authSettings, revokeRouter, tokenRouter } from './routes/auth.js';
import { usersRouter } from './routes/users.js';
import { secretKeys } from '../secrets/crypto.js';
import { credentialsRouter } from './routes/credentials.js';
import { JOBS } from '../jobs/registry.js';
import { apiMetricsHandler, requestMetrics } from '../metrics/http.js';
import { docsPageRouter } from './openapi/docsPage.js';
import { openApiDocument, type Access, type Mount, type OpenApiDocument } from './openapi/document.js';
import { metricsRouter, serviceRouter } from './routes/service.js';

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

  app.use(requestMetrics());
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

  // Every router is described (src/api/openapi/operations.ts); `mounts` is what the OpenAPI document
  // covers: each router where it is mounted (aliases of earlier releases left out), for whom, under a tag.
  const mounts: Mount[] = [];
  const described = (prefix: string, access: Access, tag: string, router: express.Router): express.Router => {
    mounts.push({ prefix, access, tag, router });
    return router;
  };
  let document: OpenApiDocument | undefined;
  app.use(
    described(
      '',
      'public',
      'service',
      serviceRouter(() => (document ??= openApiDocument(mounts))),
    ),
  );
  // Prometheus scrape endpoint (docs/metrics.md): open by default for local use,
  // METRICS_AUTH=bearer requires METRICS_TOKEN (Prometheus' `authorization.credentials_file`).
  const metricsToken = deps.config.api.metricsToken;
  const metricsAuth = metricsToken !== undefined ? [requireStaticBearer(metricsToken)] : [];
  const metrics = metricsRouter(apiMetricsHandler(deps.pool), ...metricsAuth);
  app.use(described('', metricsToken !== undefined ? 'metrics' : 'public', 'service', metrics));
  app.use('/api/docs', described('/api/docs', 'public', 'service', docsPageRouter()));

  const auth = requireAuth(deps.pool, authSettings(deps));

  const keys = secretKeys(deps.config.executionUpload.encryptionKey, deps.config.executionUpload.previousEncryptionKey);
  const api = express.Router();
  api.use(described(API_PREFIX, 'public', 'auth', tokenRouter(routeDeps)));
  api.use(auth);
  api.use(described(API_PREFIX, 'user', 'auth', revokeRouter(routeDeps)));
  api.use(requireRole('admin'));
  api.use(described(API_PREFIX, 'admin', 'users', usersRouter(routeDeps)));
  // Named credentials are admin only, like every router after requireRole('admin') above.
  api.use(described(API_PREFIX, 'admin', 'credentials', credentialsRouter({ pool: deps.pool, secretKeys: keys })));
  // Each job's routes (src/jobs/registry.ts): admin routes under /api/v1 join the admin chain above;
  // routes open to `user` tokens are mounted with authentication only (they scope by the token's user).
  const userRoutes: { path: string; router: express.Router }[] = [];
  for (const job of JOBS) {
    for (const route of job.routes(routeDeps)) {
      described(route.path, route.access, job.title, route.router);
      for (const path of [route.path, ...(route.aliases ?? [])]) {
        if (route.access === 'admin' && (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)))
          api.use(path.slice(API_PREFIX.length) || '/', route.router);
        else userRoutes.push({ path, router: route.access === 'admin' ? adminOnly(route.router) : route.router });
      }
    }
  }
  // Before the /api/v1 chain, whose requireRole('admin') would refuse a `user` token on a path under it.
  for (const route of userRoutes) app.use(route.path, auth, route.router);
  app.use(API_PREFIX, api);

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}

/** `router` behind the admin role check (for admin routes mounted outside /api/v1). */
function adminOnly(router: express.Router): express.Router {
  const r = express.Router();
  r.use(requireRole('admin'), router);
  return r;
}
