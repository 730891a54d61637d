/** Descriptions of the routes outside the job and auth routers: liveness, metrics, this document, its page. */
import { z } from 'zod';
import type { Operation } from '../openapi/operations.js';
import { answer } from './shapes.js';

export const healthz: Operation = {
  method: 'get',
  path: '/healthz',
  summary: 'Liveness',
  description: 'Answers while the API process serves requests; checks no dependency.',
  responses: { 200: { description: 'The process is up.', body: answer({ status: z.literal('ok') }) } },
};

export const openApi: Operation = {
  method: 'get',
  path: '/api/v1/openapi.json',
  summary: 'This OpenAPI 3.1 document',
  description: "Built from the routes' own descriptions and the zod schemas they validate input with.",
  responses: { 200: { description: 'The OpenAPI document.', body: answer({ openapi: z.literal('3.1.0') }) } },
};

export const metrics: Operation = {
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics',
  description: 'Prometheus text exposition format. Open unless METRICS_AUTH=bearer, which requires METRICS_TOKEN.',
  responses: { 200: { description: 'The metrics.', media: ['text/plain'] } },
};

export const docsPage: Operation = {
  method: 'get',
  path: '/',
  summary: 'API reference page',
  description: 'Swagger UI over this document, its assets served by floe (nothing from a CDN).',
  responses: { 200: { description: 'The HTML page.', media: ['text/html'] } },
};
