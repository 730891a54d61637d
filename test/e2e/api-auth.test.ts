/**
 * API: authentication (OAuth2 password grant), input validation with named fields, error shapes, 404s and
 * server-fault handling. Needs PostgreSQL and Temporal from test/global-setup.ts; no Snowflake.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { startApiHarness, type ApiHarness, type ApiResponse } from '../helpers/api-harness.js';
import { createLogger } from '../../src/logger.js';

let h: ApiHarness;
let token: string;

beforeAll(async () => {
  h = await startApiHarness();
  token = await h.login();
});
afterAll(async () => {
  await h?.close();
});

const secret = (s: string) => new TextEncoder().encode(s);

async function signToken(opts: {
  secret?: string;
  jti?: string;
  exp?: number;
  sub?: string;
  alg?: string;
}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject(opts.sub ?? 'admin')
    .setJti(opts.jti ?? randomUUID())
    .setIssuedAt(now - 10)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(secret(opts.secret ?? h.config.api.jwtSecretKey));
}

function expectError(r: ApiResponse, status: number, field?: string): void {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json).toHaveProperty('error.code');
  expect(typeof r.json.error.message).toBe('string');
  if (field !== undefined) {
    expect(r.json.error.field).toBe(field);
    // 400/422 messages name the field; 404 messages name the missing thing (table, job, ...).
    if (status === 400 || status === 422) expect(r.json.error.message).toContain(field);
  }
}

describe('POST /api/v1/auth/token', () => {
  it('issues a bearer JWT for the admin credentials and records it in tokens', async () => {
    const r = await h.request('POST', '/api/v1/auth/token', {
      form: { username: 'admin', password: 'admin-test-password' },
    });
    expect(r.status).toBe(200);
    expect(r.json.token_type).toBe('bearer');
    expect(r.json.expires_in).toBe(30 * 60);
    const [, payloadB64] = (r.json.access_token as string).split('.');
    const payload = JSON.parse(Buffer.from(payloadB64!, 'base64url').toString());
    expect(payload.sub).toBe('admin');
    expect(payload.jti).toBe(r.json.token_id);
    expect(payload.exp - payload.iat).toBe(30 * 60);
    expect(payload.role).toBe('admin');
    const { rows } = await h.pool.query(
      'SELECT subject, role, user_id, expires_at, revoked_at FROM tokens WHERE token_id = $1',
      [payload.jti],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].subject).toBe('admin');
    expect(rows[0].role).toBe('admin');
    expect(rows[0].user_id).toBeNull();
    expect(rows[0].revoked_at).toBeNull();
    expect(Math.abs(rows[0].expires_at.getTime() / 1000 - payload.exp)).toBeLessThan(2);
    expect(r.text).not.toContain('admin-test-password');
  });

  it('accepts a JSON body too', async () => {
    const r = await h.request('POST', '/api/v1/auth/token', {
      body: { username: 'admin', password: 'admin-test-password' },
    });
    expect(r.status).toBe(200);
  });

  it('refuses wrong credentials with 401 without saying which part is wrong', async () => {
    for (const form of [
      { username: 'admin', password: 'nope' },
      { username: 'root', password: 'admin-test-password' },
    ]) {
      const r = await h.request('POST', '/api/v1/auth/token', { form });
      expectError(r, 401);
      expect(r.json.error.message).toBe('incorrect username or password');
    }
  });

  it('names a missing field with 400', async () => {
    expectError(await h.request('POST', '/api/v1/auth/token', { form: { password: 'x' } }), 400, 'username');
    expectError(await h.request('POST', '/api/v1/auth/token', { form: { username: 'admin' } }), 400, 'password');
  });
});

describe('Bearer token checks', () => {
  const path = '/api/v1/sync/jobs';

  it('accepts a valid token', async () => {
    const r = await h.request('GET', path, { token });
    expect(r.status).toBe(200);
  });

  it('401 without an Authorization header', async () => {
    const r = await h.request('GET', path, { token: null });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/missing Authorization header/);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('401 for a malformed header or token', async () => {
    let r = await h.request('GET', path, { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/malformed Authorization header/);
    r = await h.request('GET', path, { authorization: 'Bearer' });
    expect(r.json.error.message).toMatch(/malformed Authorization header/);
    r = await h.request('GET', path, { token: 'not.a.jwt' });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/malformed/);
  });

  it('401 for a bad signature', async () => {
    const forged = await signToken({ secret: 'another-secret-that-is-at-least-32-characters' });
    const r = await h.request('GET', path, { token: forged });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/signature/);
  });

  it('401 for a token signed with another algorithm', async () => {
    const r = await h.request('GET', path, { token: await signToken({ alg: 'HS512' }) });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/algorithm/);
  });

  it('401 for an expired token', async () => {
    const jti = randomUUID();
    await h.pool.query(
      `INSERT INTO tokens (token_id, subject, type, expires_at) VALUES ($1, 'admin', 'admin', now() - interval '1 minute')`,
      [jti],
    );
    const expired = await signToken({ jti, exp: Math.floor(Date.now() / 1000) - 60 });
    const r = await h.request('GET', path, { token: expired });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/expired/);
  });

  it('401 for a well-signed token this server never issued', async () => {
    const r = await h.request('GET', path, { token: await signToken({}) });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/unknown/);
  });

  it('401 once the token is revoked (POST /auth/revoke revokes the presented token)', async () => {
    const t = await h.login();
    expect((await h.request('GET', path, { token: t })).status).toBe(200);
    const rv = await h.request('POST', '/api/v1/auth/revoke', { token: t });
    expect(rv.status).toBe(200);
    expect(rv.json.revoked).toBe(true);
    const r = await h.request('GET', path, { token: t });
    expectError(r, 401);
    expect(r.json.error.message).toMatch(/revoked/);
  });

  it('revokes a given token or token id; 404 for an unknown id; 400 for a bad one', async () => {
    const other = await h.login();
    const rv = await h.request('POST', '/api/v1/auth/revoke', { token, body: { token: other } });
    expect(rv.status).toBe(200);
    expect((await h.request('GET', path, { token: other })).status).toBe(401);
    expect((await h.request('GET', path, { token })).status).toBe(200);

    const third = await h.login();
    const jti = JSON.parse(Buffer.from(third.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await h.request('POST', '/api/v1/auth/revoke', { token, body: { token_id: jti } })).status).toBe(200);
    expect((await h.request('GET', path, { token: third })).status).toBe(401);

    expectError(
      await h.request('POST', '/api/v1/auth/revoke', { token, body: { token_id: randomUUID() } }),
      404,
      'token_id',
    );
    expectError(await h.request('POST', '/api/v1/auth/revoke', { token, body: { token_id: 'abc' } }), 400, 'token_id');
    expectError(await h.request('POST', '/api/v1/auth/revoke', { token, body: { token: 'garbage' } }), 400, 'token');
  });
});

describe('errors, 404s and validation', () => {
  it('unknown routes are JSON 404s', async () => {
    let r = await h.request('GET', '/api/v1/nope', { token });
    expectError(r, 404);
    r = await h.request('GET', '/elsewhere', { token: null });
    expectError(r, 404);
    r = await h.request('PUT', '/api/v1/sync/start', { token, body: {} });
    expectError(r, 404);
  });

  it('routes under /api/v1 need a token before anything else', async () => {
    expectError(await h.request('GET', '/api/v1/nope', { token: null }), 401);
  });

  it('malformed JSON is a 400', async () => {
    const r = await h.request('POST', '/api/v1/sync/start', { token, raw: '{"table_name": ' });
    expectError(r, 400);
    expect(r.json.error.code).toBe('malformed_json');
  });

  it('GET /healthz is public', async () => {
    const r = await h.request('GET', '/healthz', { token: null });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ok');
  });

  it('every response carries a request id', async () => {
    const r = await h.request('GET', '/api/v1/sync/jobs', { token });
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  const base = { table_name: 'T', schema_name: 'S' };
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/api/v1/sync/start', { ...base }, 'strategy'],
    ['POST', '/api/v1/sync/start', { ...base, strategy: 'partial' }, 'strategy'],
    ['POST', '/api/v1/sync/start', { schema_name: 'S', strategy: 'full' }, 'table_name'],
    ['POST', '/api/v1/sync/start', { ...base, strategy: 'full', method: 'ftp' }, 'method'],
    ['POST', '/api/v1/sync/start', { ...base, strategy: 'full', lag_seconds: -1 }, 'lag_seconds'],
    ['POST', '/api/v1/sync/start', { ...base, strategy: 'full', stratgy: 'x' }, 'stratgy'],
    ['POST', '/api/v1/sync/start', { ...base, table_name: '', strategy: 'full' }, 'table_name'],
    ['POST', '/api/v1/sync/start', { ...base, table_name: 42, strategy: 'full' }, 'table_name'],
    ['POST', '/api/v1/sync/tables/register', { table_name: 'T' }, 'schema_name'],
    ['POST', '/api/v1/sync/tables/register', { ...base, primary_key: [] }, 'primary_key'],
    ['POST', '/api/v1/sync/tables/register', { ...base, primary_key: ['ID', ''] }, 'primary_key.1'],
    ['POST', '/api/v1/sync/tables/register', { ...base, watermark_column: 5 }, 'watermark_column'],
    ['POST', '/api/v1/sample_data', { ...base, sample_size: 0 }, 'sample_size'],
    ['POST', '/api/v1/sample_data', { ...base, sample_size: 10001 }, 'sample_size'],
    ['POST', '/api/v1/sample_data', { ...base, sample_size: 1.5 }, 'sample_size'],
    ['POST', '/api/v1/sample_data', { ...base, output_format: 'xml' }, 'output_format'],
    ['POST', '/api/v1/sample_data', { ...base, sample_type: 'last' }, 'sample_type'],
    ['POST', '/api/v1/sync/schedules', { ...base, strategy: 'full' }, 'interval_seconds'],
    ['POST', '/api/v1/sync/schedules', { ...base, strategy: 'full', interval_seconds: 60, cron: '* * * * *' }, 'cron'],
    ['POST', '/api/v1/sync/schedules', { ...base, strategy: 'full', interval_seconds: 1 }, 'interval_seconds'],
    ['POST', '/api/v1/sync/schedules', { ...base, strategy: 'full', cron: 'every minute' }, 'cron'],
    ['GET', '/api/v1/sync/jobs?limit=0', undefined, 'limit'],
    ['GET', '/api/v1/sync/jobs?limit=abc', undefined, 'limit'],
    ['GET', '/api/v1/sync/jobs?status=done', undefined, 'status'],
    ['GET', '/api/v1/sync/jobs?table=a.b.c.d', undefined, 'table'],
    ['GET', '/api/v1/sync/jobs?colour=red', undefined, 'colour'],
  ];
  it.each(cases)('%s %s %j → 400 naming %s', async (method, url, body, field) => {
    expectError(await h.request(method, url, { token, body }), 400, field);
  });

  it('a body that is not an object is a 400', async () => {
    expectError(await h.request('POST', '/api/v1/sync/start', { token, body: [1, 2] }), 400);
  });

  it('unregistered tables are 404s naming table_name', async () => {
    const body = { table_name: 'NOPE', schema_name: 'S', database_name: 'D' };
    expectError(
      await h.request('POST', '/api/v1/sync/start', { token, body: { ...body, strategy: 'full' } }),
      404,
      'table_name',
    );
    expectError(await h.request('POST', '/api/v1/sample_data', { token, body }), 404, 'table_name');
    expectError(
      await h.request('POST', '/api/v1/sync/schedules', {
        token,
        body: { ...body, strategy: 'full', interval_seconds: 60 },
      }),
      404,
      'table_name',
    );
    expectError(await h.request('GET', '/api/v1/sync/tables/S/NOPE/status?database=D', { token }), 404, 'table');
  });

  it('incremental without a registered watermark column is a 422 naming strategy', async () => {
    await h.pool.query(
      `INSERT INTO allowed_tables (database_name, schema_name, table_name, target_schema, target_table) VALUES ('D', 'S', 'NOWM', 'D__S', 'NOWM')`,
    );
    const body = { table_name: 'NOWM', schema_name: 'S', database_name: 'D', strategy: 'incremental' };
    const r = await h.request('POST', '/api/v1/sync/start', { token, body });
    expectError(r, 422, 'strategy');
    expect(r.json.error.message).toMatch(/watermark/);
    expectError(
      await h.request('POST', '/api/v1/sync/schedules', { token, body: { ...body, interval_seconds: 60 } }),
      422,
      'strategy',
    );
  });

  it('unknown jobs and schedules are 404s', async () => {
    const r = await h.request('GET', '/api/v1/sync/jobs/tableSync-nope', { token });
    expectError(r, 404, 'job_id');
    expect(r.json.error.message).toContain('tableSync-nope');
    expectError(await h.request('POST', '/api/v1/sync/jobs/tableSync-nope/cancel', { token }), 404, 'job_id');
    expectError(await h.request('DELETE', '/api/v1/sync/schedules/tableSync-nope', { token }), 404, 'schedule_id');
  });
});

describe('server faults', () => {
  it('answer 500 with a request id and no internals', async () => {
    const failing = {
      query: async () => {
        throw new Error('connection to 10.1.2.3 failed: secret-detail');
      },
      connect: async () => {
        throw new Error('connection to 10.1.2.3 failed: secret-detail');
      },
    } as unknown as pg.Pool;
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const broken = await startApiHarness({}, { pool: failing, logger });
    try {
      const r = await broken.request('POST', '/api/v1/auth/token', {
        form: { username: 'admin', password: 'admin-test-password' },
      });
      expect(r.status).toBe(500);
      expect(r.json.error.code).toBe('internal_error');
      expect(r.json.error.request_id).toBe(r.headers.get('x-request-id'));
      // The fault is logged with the request id (and its detail), for the operator only.
      const fault = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
      expect(fault).toMatchObject({ requestId: r.json.error.request_id, level: 50 });
      expect(JSON.stringify(fault)).toContain('secret-detail');
      expect(r.text).not.toContain('secret-detail');
      expect(r.text).not.toContain('at ');
    } finally {
      await broken.close();
    }
  });

  it('answer 503 naming Temporal when it is unreachable', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
    const broken = await startApiHarness({}, { temporal: new Client({ connection }), temporalDeadlineMs: 1500 });
    try {
      const t = await broken.login();
      const r = await broken.request('GET', '/api/v1/sync/jobs', { token: t });
      expect(r.status, r.text).toBe(503);
      expect(r.json.error.code).toBe('temporal_unavailable');
    } finally {
      await broken.close();
      await connection.close().catch(() => undefined);
    }
  });

  it('never log secrets: passwords, the JWT key, tokens', async () => {
    const lines: string[] = [];
    const destination = { write: (l: string) => void lines.push(l) };
    const logged = await startApiHarness({}, { logger: createLogger({ level: 'trace', destination }) });
    try {
      const t = await logged.login();
      await logged.request('POST', '/api/v1/auth/token', {
        form: { username: 'admin', password: 'wrong-password-123' },
      });
      await logged.request('GET', '/api/v1/sync/jobs', { token: t });
      await logged.request('GET', '/api/v1/sync/jobs', { token: 'garbage.token.value' });
      await logged.request('POST', '/api/v1/auth/revoke', { token: t });
      const out = lines.join('');
      expect(out).toContain('token issued');
      for (const secretValue of [
        logged.config.api.adminPassword,
        'wrong-password-123',
        logged.config.api.jwtSecretKey,
        t,
        'garbage.token.value',
      ]) {
        expect(out).not.toContain(secretValue);
      }
    } finally {
      await logged.close();
    }
  });
});
