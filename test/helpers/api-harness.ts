/**
 * Harness for the API suites (test/api*.test.ts): a fresh migrated PostgreSQL database, a Temporal
 * client on the run's dev server, and the app listening on an ephemeral port, driven with fetch.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { createPool } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import type { FloeConfig } from '../../src/config.js';
import { startApiServer, type RunningApi } from '../../src/api/server.js';
import type { ApiDeps } from '../../src/api/app.js';
import { freshDatabase, type FreshDatabase } from './db.js';
import { testConfig } from './env.js';

/** A response read fully: status, headers, parsed JSON (or null) and raw text. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  bytes: Buffer;
}

/** Options of one request. */
export interface RequestOptions {
  /** JSON body (serialized) — or a raw string body with `contentType`. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  form?: Record<string, string>;
  /** Bearer token; `null` sends no Authorization header; a string starting with a scheme is sent verbatim. */
  token?: string | null;
  authorization?: string;
}

export interface ApiHarness {
  api: RunningApi;
  config: FloeConfig;
  pool: pg.Pool;
  temporal: Client;
  db: FreshDatabase;
  duckdbPath: string;
  /** A fresh admin token. */
  login(): Promise<string>;
  request(method: string, urlPath: string, opts?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** One request to the API at `baseUrl` (e.g. `http://127.0.0.1:8000`), read fully. */
export async function httpRequest(
  baseUrl: string,
  method: string,
  urlPath: string,
  opts: RequestOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.raw !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    body = opts.raw;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${baseUrl}${urlPath}`, { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, json, text, bytes };
}

/**
 * Start the API on a fresh database. `env` overrides configuration (e.g. SNOWFLAKE_ACCESS_URL of an
 * emulator); `deps` overrides dependencies (e.g. a failing pool).
 */
export async function startApiHarness(
  env: Record<string, string | undefined> = {},
  deps: Partial<ApiDeps> = {},
): Promise<ApiHarness> {
  const db = await freshDatabase({ prefix: 'floe_api' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'floe-api-'));
  const duckdbPath = env.DUCKDB_PATH ?? path.join(tmp, 'target.duckdb');
  const config = testConfig({ DATABASE_URL: db.url, DUCKDB_PATH: duckdbPath, ...env });
  const pool = createPool(db.url, { max: 5 });
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const logger = createLogger({ level: 'silent' });
  const api = await startApiServer(
    { config, pool, temporal, snowflake: config.snowflake, duckdbPath: config.duckdbPath, logger, ...deps },
    { port: 0 },
  );

  const request = (method: string, urlPath: string, opts: RequestOptions = {}): Promise<ApiResponse> =>
    httpRequest(api.url, method, urlPath, opts);

  const login = async (): Promise<string> => {
    const r = await request('POST', '/api/v1/auth/token', {
      form: { username: config.api.adminUsername, password: config.api.adminPassword },
    });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
    return r.json.access_token as string;
  };

  return {
    api,
    config,
    pool,
    temporal,
    db,
    duckdbPath,
    login,
    request,
    close: async () => {
      await api.close();
      await connection.close();
      await pool.end();
      await db.drop().catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
