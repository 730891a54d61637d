/**
 * Routes outside the job and auth routers: `GET /healthz` (liveness), `GET /api/v1/openapi.json` (the
 * OpenAPI document, no token needed) and `GET /metrics` (Prometheus; mounted by the app with or without
 * the METRICS_TOKEN check).
 */
import { Router, type RequestHandler } from 'express';
import type { OpenApiDocument } from '../openapi/document.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/service.js';

/** Router with `/healthz` and `/api/v1/openapi.json`; `document` gives the document (built once by the app). */
export function serviceRouter(document: () => OpenApiDocument): Router {
  const r = Router();
  route(r, ops.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });
  route(r, ops.openApi, (_req, res) => {
    res.json(document());
  });
  return r;
}

/** Router with `GET /metrics` served by `handler` behind `auth` (none: open). */
export function metricsRouter(handler: RequestHandler, ...auth: RequestHandler[]): Router {
  const r = Router();
  route(r, ops.metrics, ...auth, handler);
  return r;
}
