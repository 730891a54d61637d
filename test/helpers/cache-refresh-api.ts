/**
 * The cache routes (src/api/routes/cacheRefresh.ts) served over HTTP behind floe's bearer-token auth, for the cache
 * suites: an Express app on 127.0.0.1 with a free port, and an admin token.
 *
 *   const api = await serveCacheApi(pool, { pool, temporal, taskQueue, lake, credentials, logger });
 *   const { status, body } = await api.call('POST', '/api/v1/query', { sql: 'SELECT * FROM sales' });
 *   api.close();
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type pg from 'pg';
import { issueToken, requireAuth } from '../../src/api/auth.js';
import { createCacheRefreshRouter, type CacheRefreshApiDeps } from '../../src/api/routes/cacheRefresh.js';
import { errorHandler, notFoundHandler } from '../../src/api/errors.js';

/** A running cache API. */
export interface CacheApi {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** An admin bearer token. */
  token: string;
  /**
   * One request: `body` sent as JSON (a string as is), the admin token unless `auth` is false. The
   * answer's status, raw text and parsed JSON (null when empty).
   */
  call(method: string, url: string, body?: unknown, auth?: boolean): Promise<ApiAnswer>;
  close(): void;
}

/** An HTTP answer of {@link CacheApi.call}. */
export interface ApiAnswer {
  status: number;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Serve the cache router (then `more` routers) under `/api/v1` with auth over `pool` (migrated floe database). */
export async function serveCacheApi(
  pool: pg.Pool,
  deps: CacheRefreshApiDeps,
  more: RequestHandler[] = [],
): Promise<CacheApi> {
  const auth = { adminUsername: 'admin', adminPassword: 'pw', jwtSecret: 'x'.repeat(40), tokenTtlMinutes: 30 };
  const token = (await issueToken(pool, auth, 'admin', 'pw')).access_token;
  const app = express();
  app.use(express.json());
  const v1 = express.Router();
  v1.use(requireAuth(pool, auth));
  v1.use(createCacheRefreshRouter(deps));
  for (const router of more) v1.use(router);
  app.use('/api/v1', v1);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, url: string, body?: unknown, auth = true): Promise<ApiAnswer> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };
  return { base, token, call, close: () => server.close() };
}
