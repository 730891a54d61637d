/**
 * The OpenAPI document: served without a token, valid OpenAPI 3.1 (checked by an OpenAPI validator),
 * and complete — every route Express has registered (walked from the app's router stack, aliases of
 * earlier releases mapped to their canonical paths) is described, and nothing else is.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Application } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { openApiPath } from '../../src/api/openapi/document.js';
import { JOBS } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/logger.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
}

/** `METHOD /path` of every route registered on `stack` (Express 5's router), mount paths prepended. */
function expressRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path === '/' && prefix ? prefix : `${prefix}${layer.route.path}`;
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${path}`);
    }
    if (!layer.handle.stack) return [];
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    return expressRoutes(layer.handle.stack, `${prefix}${mount}`);
  });
}

let h: ApiHarness;
let deps: ApiDeps;
let doc: { paths: Record<string, Record<string, { summary?: string; security?: unknown; 'x-floe-access'?: string }>> };

beforeAll(async () => {
  h = await startApiHarness();
  deps = {
    config: h.config,
    pool: h.pool,
    temporal: h.temporal,
    snowflake: h.config.snowflake,
    duckdbPath: h.duckdbPath,
    logger: createLogger({ level: 'silent' }),
  };
  const r = await h.request('GET', '/api/v1/openapi.json', { token: null });
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(async () => {
  await h?.close();
});

/** Routes of `app` that the document lacks, as `METHOD /path` (alias paths mapped to the canonical ones). */
function undescribed(app: Application): string[] {
  const aliases = JOBS.flatMap((j) => j.routes(deps)).flatMap((r) => (r.aliases ?? []).map((a) => [a, r.path]));
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  return expressRoutes(stack).filter((entry) => {
    const [method, raw] = entry.split(' ') as [string, string];
    const alias = aliases.find(([a]) => raw === a || raw.startsWith(`${a}/`));
    const path = openApiPath('', alias ? alias[1]! + raw.slice(alias[0]!.length) : raw);
    return !doc.paths[path]?.[method.toLowerCase()];
  });
}

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('describes every route Express registered, and only those', () => {
    const app = createApp(deps);
    expect(undescribed(app)).toEqual([]);
    const registered = new Set(expressRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack));
    for (const [path, item] of Object.entries(doc.paths))
      for (const method of Object.keys(item)) {
        const express = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
        expect(registered.has(express), express).toBe(true);
      }
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
  });

  it('fails on a route registered without a description', () => {
    const app = createApp(deps);
    app.get('/api/v1/not-described', (_req, res) => {
      res.json({});
    });
    expect(undescribed(app)).toEqual(['GET /api/v1/not-described']);
  });

  it('names auth, roles and the shared error shape', () => {
    const start = doc.paths['/api/v1/sync/start']!.post!;
    expect(start.summary).toBe('Start a table sync');
    expect(start.security).toBeUndefined(); // the document's default: bearer JWT
    expect(start['x-floe-access']).toBe('admin');
    expect(doc.paths['/api/v1/auth/token']!.post!.security).toEqual([]);
    expect(doc.paths['/api/v1/openapi.json']!.get!.security).toEqual([]);
    expect(doc.paths['/api/v1/execution-upload/stats']!.get!['x-floe-access']).toBe('user');
    expect(doc.paths['/api/v1/pg-sync/status']).toBeUndefined();
    const full = doc as unknown as { security: unknown; components: Record<string, Record<string, unknown>> };
    expect(full.security).toEqual([{ bearer: [] }]);
    expect(full.components.securitySchemes!.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(full.components.schemas!.Error).toMatchObject({ required: ['error'] });
    expect(JSON.stringify(start)).toContain('#/components/responses/Error409');
  });
});
