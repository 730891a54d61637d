/**
 * Serving and recording metrics over HTTP: the API's request-duration middleware, the `GET /metrics`
 * handler of the API, and the worker's own optional metrics endpoint (WORKER_METRICS_PORT).
 *
 * Which process serves what (docs/metrics.md): each process serves its own instruments (a worker: the
 * jobs it ran; the API: the requests it served and the routed queries); the API also serves what is
 * read from PostgreSQL at scrape time (queue, cache staleness, the watermark sync's gauges), which a
 * worker leaves out so the same numbers are not scraped from every process.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type RequestHandler } from 'express';
import type pg from 'pg';
import { Registry } from 'prom-client';
import { requireStaticBearer } from '../api/auth.js';
import { errorHandler, notFoundHandler } from '../api/errors.js';
import { createWatermarkSyncMetrics } from '../jobs/watermark-sync/metrics.js';
import type { Logger } from '../logger.js';
import { metricsRegistry, recordHttpRequest } from './index.js';
import { registerPostgresMetrics } from './postgres.js';

/** The `route` label of requests that matched no route (404s, and requests refused before routing). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Express middleware (mount first) that observes every request's duration in
 * `floe_http_request_duration_seconds`, labelled with the route template that handled it
 * (`/api/v1/sync/jobs/:id`): the mount path plus the route's path, captured when Express assigns
 * `req.route`, because a router hands `req.baseUrl` back to its parent before an error handler answers.
 */
export function requestMetrics(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let template: string | undefined;
    let route: Request['route'];
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set: (r: Request['route']) => {
        route = r;
        if (r && typeof r.path === 'string') template = `${req.baseUrl}${r.path}`;
      },
    });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      recordHttpRequest(req.method, template ?? UNMATCHED_ROUTE, res.statusCode, seconds);
    });
    next();
  };
}

/** `GET /metrics` (Prometheus text format) over `registry`. */
function serve(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  };
}

/**
 * What the API serves: this process's instruments, the PostgreSQL-backed metrics read through `pool`
 * on each scrape, and the watermark sync's gauges under their original names.
 */
export function apiMetricsRegistry(pool: pg.Pool): Registry {
  const scraped = new Registry();
  registerPostgresMetrics(pool, scraped);
  createWatermarkSyncMetrics(pool, scraped);
  return Registry.merge([metricsRegistry, scraped]);
}

/** The API's `GET /metrics` handler over {@link apiMetricsRegistry}. */
export function apiMetricsHandler(pool: pg.Pool): RequestHandler {
  return serve(apiMetricsRegistry(pool));
}

/** A listening worker metrics endpoint. */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serve this process's instruments at `GET /metrics` on `host:port` (port 0 picks a free one), behind
 * `token` when given (METRICS_AUTH=bearer). Rejects when the port is taken.
 */
export async function startMetricsServer(opts: {
  port: number;
  host: string;
  token?: string;
  logger: Logger;
}): Promise<MetricsServer> {
  const app = express();
  app.disable('x-powered-by');
  const handler = serve(metricsRegistry);
  if (opts.token !== undefined) app.get('/metrics', requireStaticBearer(opts.token), handler);
  else app.get('/metrics', handler);
  app.use(notFoundHandler);
  app.use(errorHandler(opts.logger));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
