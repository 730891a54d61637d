/**
 * Property-based fuzz (fast-check) of every API route that reads a JSON body: random and malformed
 * bodies — wrong types, huge strings, deep nesting, prototype keys (`__proto__`, `constructor`),
 * unicode, NUL, numbers out of range, non-object JSON and text that is not JSON — must never produce
 * a 5xx nor stop the server. A real app on a real PostgreSQL, Temporal calls to the run's dev server,
 * Snowflake calls to an emulator. Runs are bounded so the suite takes seconds.
 *
 * Then, as fixed cases, what the fuzz found: text holding NUL, which PostgreSQL's text types cannot store,
 * is refused by every route with a 400 naming the field, whether it comes in a JSON body (at any depth, keys
 * included), a form body, a query string or a path parameter; and a PostgreSQL "cannot store this text"
 * error (SQLSTATE 22021) that reaches the API's error handler is a 400, not a 500.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { errorHandler } from '../../src/api/errors.js';
import { createLogger } from '../../src/logger.js';
import { httpRequest, startApiHarness, type ApiHarness, type RequestOptions } from '../helpers/api-harness.js';
import { TEST_SNOWFLAKE_USER } from '../helpers/env.js';

/** Runs per route (each run is one request). */
const RUNS = 50;

const TABLE = { table_name: 'T', schema_name: 'S', database_name: 'D' };

/**
 * Every route with a JSON body: the field names its schema knows, and (when it has one) a valid body
 * whose fields are replaced one at a time by hostile values, so fuzzing also reaches past validation.
 */
const ROUTES: { method: string; path: string; fields: string[]; base?: Record<string, unknown> }[] = [
  {
    method: 'POST',
    path: '/api/v1/auth/token',
    fields: ['username', 'password', 'grant_type', 'scope'],
    base: { username: 'admin', password: 'not-the-password' },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/revoke',
    fields: ['token', 'token_id'],
    base: { token_id: '00000000-0000-4000-8000-000000000000' },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/password',
    fields: ['current_password', 'new_password'],
    base: { current_password: 'x', new_password: 'long-enough-password' },
  },
  {
    method: 'POST',
    path: '/api/v1/users',
    fields: ['username', 'password', 'role', 'user_id'],
    base: {
      username: 'fuzz',
      password: 'long-enough-password',
      role: 'user',
      user_id: '00000000-0000-4000-8000-000000000001',
    },
  },
  { method: 'PATCH', path: '/api/v1/users/fuzz_user', fields: ['password', 'disabled'], base: { disabled: true } },
  {
    method: 'POST',
    path: '/api/v1/sync/tables/register',
    fields: ['table_name', 'schema_name', 'database_name', 'primary_key', 'watermark_column'],
    base: { ...TABLE, primary_key: ['ID'] },
  },
  {
    method: 'POST',
    path: '/api/v1/sync/start',
    fields: ['table_name', 'schema_name', 'database_name', 'strategy', 'method', 'lag_seconds'],
    base: { ...TABLE, strategy: 'full' },
  },
  { method: 'POST', path: '/api/v1/sync/jobs/fuzz-job/cancel', fields: ['reason'] },
  {
    method: 'POST',
    path: '/api/v1/sample_data',
    fields: ['table_name', 'schema_name', 'database_name', 'sample_type', 'sample_size', 'output_format'],
    base: { ...TABLE, sample_size: 5 },
  },
  {
    method: 'POST',
    path: '/api/v1/sync/schedules',
    fields: ['table_name', 'schema_name', 'strategy', 'method', 'interval_seconds', 'cron', 'lag_seconds'],
    base: { ...TABLE, strategy: 'full', cron: '0 * * * *' },
  },
  {
    method: 'POST',
    path: '/api/v1/pg-sync/apply',
    fields: ['name', 'yaml', 'tables', 'interval_seconds', 'source', 'target'],
  },
  { method: 'POST', path: '/api/v1/pg-sync/pause', fields: ['name'], base: { name: 'fuzz' } },
  { method: 'POST', path: '/api/v1/pg-sync/resume', fields: ['name'], base: { name: 'fuzz' } },
  { method: 'POST', path: '/api/v1/pg-sync/trigger', fields: ['name'], base: { name: 'fuzz' } },
  {
    method: 'POST',
    path: '/api/v1/pg-sync/backfill',
    fields: ['name', 'tables', 'after'],
    base: { name: 'fuzz', tables: ['public.t'], after: '0' },
  },
  { method: 'POST', path: '/api/v1/pg-sync/discover', fields: ['name', 'create', 'tables', 'schema'] },
  { method: 'POST', path: '/api/v1/cache/storage', fields: ['path'] },
  {
    method: 'POST',
    path: '/api/v1/cache/sources',
    fields: ['source_name', 'driver_type', 'credentials_ref', 'passthrough_enabled'],
    base: { source_name: 'src', driver_type: 'snowflake', credentials_ref: 'default' },
  },
  {
    method: 'POST',
    path: '/api/v1/caches',
    fields: ['cache_name', 'source_name', 'source_query', 'monitor_tables', 'ttl_seconds', 'schedule_interval_seconds'],
    base: { cache_name: 'c1', source_name: 'src', source_query: 'SELECT 1 AS x' },
  },
  {
    method: 'POST',
    path: '/api/v1/caches/fuzz_cache/refresh',
    fields: ['force', 'wait'],
    base: { force: true, wait: false },
  },
  {
    method: 'POST',
    path: '/api/v1/query',
    fields: ['sql', 'max_staleness_seconds', 'snapshot', 'source_name', 'max_rows'],
    base: { sql: 'SELECT 1 AS x', max_rows: 10 },
  },
  { method: 'POST', path: '/api/snowflake-sync/retry/00000000-0000-4000-8000-000000000000', fields: [] },
  {
    method: 'POST',
    path: '/api/snowflake-sync/backfill',
    fields: ['user_id', 'since', 'until', 'limit', 'include_failed', 'dry_run'],
    base: { dry_run: true, limit: 5 },
  },
];

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

/** Values that break naive code: wrong types, extremes, huge or strange strings, deep nesting. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    1e308,
    -1e308,
    5e-324,
    '',
    ' ',
    '\u0000',
    'NaN',
    '-0',
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    'x'.repeat(300_000),
    '🦆'.repeat(20_000),
    "'; DROP TABLE tokens; --",
    '"quoted"."ident;"',
    '../../../etc/passwd',
    '${jndi:x}',
    '2024-13-45T99:99:99Z',
    '00000000-0000-0000-0000-000000000000',
    'admin',
    'full',
    'SELECT 1',
  ),
  fc.integer({ min: 2, max: 2000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
  fc.anything({ maxDepth: 3, maxKeys: 4, withNullPrototype: true, withObjectString: true }),
);

/** A JSON object text from `[key, value]` entries, written by hand so `__proto__` stays a plain key. */
const objectText = (entries: [string, unknown][]): string =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;

/**
 * Raw body text for a route: its valid body with one field made hostile, objects over its fields
 * (with prototype and random keys), non-object JSON, or not JSON at all.
 */
function bodies(fields: string[], base?: Record<string, unknown>): fc.Arbitrary<string> {
  const key = fc.oneof(
    ...(fields.length > 0 ? [fc.constantFrom(...fields)] : []),
    fc.constantFrom(...PROTO_KEYS),
    fc.string({ maxLength: 12 }),
  );
  const nearlyValid = base
    ? [
        {
          weight: 6,
          arbitrary: fc
            .tuple(fc.constantFrom(...Object.keys(base)), hostile)
            .map(([k, v]) => objectText(Object.entries({ ...base, [k]: v }))),
        },
      ]
    : [];
  return fc.oneof(
    ...nearlyValid,
    { weight: 6, arbitrary: fc.array(fc.tuple(key, hostile), { maxLength: 8 }).map(objectText) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...PROTO_KEYS)
        .chain((k) => hostile.map((v) => objectText([[k, { polluted: true, role: 'admin', v }]]))),
    },
    { weight: 1, arbitrary: hostile.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );
}

let h: ApiHarness;
let emu: RunningEmulator;
let token: string;
const root = mkdtempSync(path.join(os.tmpdir(), 'floe-fuzz-'));

beforeAll(async () => {
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: TEST_SNOWFLAKE_USER });
  // Failed sign-ins are the point here: keep the throttle out of the way of the suite's own logins.
  h = await startApiHarness({ SNOWFLAKE_ACCESS_URL: emu.url, AUTH_MAX_FAILURES: '1000000' });
  token = await h.login();
});
afterAll(async () => {
  await h?.close();
  await emu?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fuzzed JSON bodies', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path} never answers 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies(route.fields, route.base), async (raw) => {
          const r = await h.request(route.method, route.path, { raw, token });
          expect(r.status, `${route.method} ${route.path} ${raw.slice(0, 300)} → ${r.text.slice(0, 300)}`).toBeLessThan(
            500,
          );
          if (r.status >= 400) expect(typeof r.json?.error?.message).toBe('string');
          // /auth/revoke with an empty body revokes the presented token: take a new one.
          if (route.path === '/api/v1/auth/revoke' && r.status === 200) token = await h.login();
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }

  it('leaves no prototype polluted and the server answering', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await h.request('GET', '/healthz')).status).toBe(200);
    expect((await h.request('GET', '/api/v1/users', { token })).status).toBe(200);
  });
});

/** One request per way a string reaches a route, with the field the 400 must name. */
const CASES: { name: string; method: string; path: string; opts: RequestOptions; field: string }[] = [
  {
    name: 'cache source name (JSON body)',
    method: 'POST',
    path: '/api/v1/caches',
    opts: { body: { cache_name: 'c1', source_name: '\u0000', source_query: 'SELECT 1 AS x' } },
    field: 'source_name',
  },
  {
    name: 'table sync primary key column (array item)',
    method: 'POST',
    path: '/api/v1/sync/tables/register',
    opts: { body: { ...TABLE, primary_key: ['ID', 'A\u0000B'] } },
    field: 'primary_key.1',
  },
  {
    name: 'API user name',
    method: 'POST',
    path: '/api/v1/users',
    opts: { body: { username: 'nul\u0000user', password: 'long-enough-password', role: 'user' } },
    field: 'username',
  },
  {
    name: 'an object key',
    method: 'POST',
    path: '/api/v1/pg-sync/pause',
    opts: { body: { name: 'fuzz', 'x\u0000': 1 } },
    field: 'x\\u0000',
  },
  {
    name: 'watermark sync name',
    method: 'POST',
    path: '/api/v1/watermark-sync/backfill',
    opts: { body: { name: 'w\u0000', tables: ['public.t'], after: '0' } },
    field: 'name',
  },
  {
    name: 'execution upload user id (query string)',
    method: 'GET',
    path: '/api/v1/execution-upload/config?user_id=%00',
    opts: {},
    field: 'user_id',
  },
  {
    name: 'API user name (path parameter)',
    method: 'GET',
    path: '/api/v1/users/a%00b',
    opts: {},
    field: 'username',
  },
];

describe('NUL in request text', () => {
  for (const c of CASES) {
    it(`${c.method} ${c.path.split('?')[0]}: 400 naming ${c.field} (${c.name})`, async () => {
      const r = await h.request(c.method, c.path, { ...c.opts, token });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'invalid_request', field: c.field });
      expect(r.json.error.message).toContain('NUL');
    });
  }

  it('POST /api/v1/auth/token (form body): 400 naming username', async () => {
    const r = await h.request('POST', '/api/v1/auth/token', { form: { username: 'admin\u0000', password: 'x' } });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_request', field: 'username' });
  });
});

describe("PostgreSQL's refusal of the text", () => {
  it('is answered 400 by the error handler, not 500', async () => {
    const app = express();
    app.get('/echo', async (_req, res, next) => {
      try {
        res.json((await h.pool.query('SELECT $1::text AS t', ['a\u0000b'])).rows);
      } catch (err) {
        next(err);
      }
    });
    app.use(errorHandler(createLogger({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const r = await httpRequest(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'GET', '/echo');
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
      expect(r.json.error.message).toContain('PostgreSQL cannot store');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
