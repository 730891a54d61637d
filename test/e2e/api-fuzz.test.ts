/**
 * Property-based fuzz (fast-check) of every API route that reads a JSON body: random and malformed
 * bodies — wrong types, huge strings, deep nesting, prototype keys (`__proto__`, `constructor`),
 * unicode, NUL, numbers out of range, non-object JSON and text that is not JSON — must never produce
 * a 5xx nor stop the server. A real app on a real PostgreSQL, Temporal calls to the run's dev server,
 * Snowflake calls to an emulator. Runs are bounded so the suite takes seconds.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
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
