/**
 * API security through HTTP: sign-in throttling (429 + Retry-After, recovery after the window), API
 * users and roles (a `user` token sees only its own execution-upload data — another user's item is
 * 404 — and gets 403 on admin routes), revocation, disabling and deleting users, password changes,
 * and the optional bearer token on /metrics. Real app, real PostgreSQL, real Temporal dev server.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { createLogger } from '../../src/logger.js';

// Three failures per 3 s window, so the recovery test waits seconds, not minutes.
const WINDOW_MINUTES = 0.05;
const MAX_FAILURES = 3;

let h: ApiHarness;
let admin: string;
const logLines: string[] = [];
const A = randomUUID();
const B = randomUUID();
const PASSWORD = {
  alice: 'alice-password-1',
  bob: 'bob-password-22',
  ops: 'ops-password-333',
  carol: 'carol-password-4',
};

beforeAll(async () => {
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void logLines.push(l) } });
  h = await startApiHarness(
    { AUTH_MAX_FAILURES: String(MAX_FAILURES), AUTH_FAILURE_WINDOW_MINUTES: String(WINDOW_MINUTES) },
    { logger },
  );
  admin = await h.login();
  for (const [username, role, user_id] of [
    ['alice', 'user', A],
    ['bob', 'user', B],
    ['ops', 'admin', undefined],
    ['carol', 'user', A],
  ] as const) {
    const r = await h.request('POST', '/api/v1/users', {
      token: admin,
      body: { username, password: PASSWORD[username], role, ...(user_id && { user_id }) },
    });
    expect(r.status, r.text).toBe(201);
  }
});
afterAll(async () => {
  await h?.close();
});

/** POST /auth/token from a given loopback address (127.0.0.0/8 are all local on Linux). */
function signInFrom(
  address: string,
  username: string,
  password: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; retryAfter: string | undefined; json: any }> {
  const body = new URLSearchParams({ username, password }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${h.api.url}/api/v1/auth/token`,
      {
        method: 'POST',
        localAddress: address,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            json: JSON.parse(text),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tokenOf(username: keyof typeof PASSWORD): Promise<string> {
  const r = await h.request('POST', '/api/v1/auth/token', { form: { username, password: PASSWORD[username] } });
  expect(r.status, r.text).toBe(200);
  return r.json.access_token as string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sign-in throttle', () => {
  it('answers 429 with Retry-After after too many failures for one username, logged without the password, and recovers after the window', async () => {
    for (let i = 0; i < MAX_FAILURES; i++)
      expect((await signInFrom('127.0.0.2', 'carol', `wrong-guess-${i}`)).status).toBe(401);
    // From another address, even the right password is refused while carol's failures are in the window.
    const blocked = await signInFrom('127.0.0.5', 'carol', PASSWORD.carol);
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('too_many_attempts');
    const retryAfter = Number(blocked.retryAfter);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(WINDOW_MINUTES * 60));
    const log = logLines.join('');
    expect(log).toContain('sign-in failed');
    expect(log).toContain('sign-in throttled');
    expect(log).not.toContain('wrong-guess-');
    expect(log).not.toContain(PASSWORD.carol);

    await sleep(retryAfter * 1000 + 200);
    expect((await signInFrom('127.0.0.5', 'carol', PASSWORD.carol)).status).toBe(200);
  });

  it('answers 429 after too many failures from one address, whatever the username', async () => {
    for (let i = 0; i < MAX_FAILURES; i++) expect((await signInFrom('127.0.0.3', `nobody-${i}`, 'x')).status).toBe(401);
    const blocked = await signInFrom('127.0.0.3', 'someone-else', 'x');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    expect((await signInFrom('127.0.0.4', 'someone-else', 'x')).status).toBe(401);
  });
});

describe('users and roles', () => {
  it('creates users with scrypt hashes and never shows them', async () => {
    const { rows } = await h.pool.query<{ password_hash: string }>(
      `SELECT password_hash FROM api_users WHERE username = 'alice'`,
    );
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(rows[0]!.password_hash).not.toContain(PASSWORD.alice);
    const list = await h.request('GET', '/api/v1/users', { token: admin });
    expect(list.status).toBe(200);
    expect(list.json.users.map((u: { username: string }) => u.username)).toEqual(['alice', 'bob', 'carol', 'ops']);
    expect(list.text).not.toContain('scrypt');
    expect(list.json.users[0]).toMatchObject({ username: 'alice', role: 'user', user_id: A, disabled: false });
  });

  it('refuses bad user bodies with a named field, and taken names with 409', async () => {
    const bad = async (body: unknown, field: string) => {
      const r = await h.request('POST', '/api/v1/users', { token: admin, body });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.field).toBe(field);
    };
    await bad({ username: 'dave', password: 'long-enough-pw', role: 'user' }, 'user_id');
    await bad({ username: 'dave', password: 'long-enough-pw', role: 'admin', user_id: A }, 'user_id');
    await bad({ username: 'dave', password: 'short', role: 'admin' }, 'password');
    await bad({ username: 'da ve', password: 'long-enough-pw', role: 'admin' }, 'username');
    await bad({ username: 'dave', password: 'long-enough-pw', role: 'root' }, 'role');
    for (const username of ['alice', h.config.api.adminUsername]) {
      const r = await h.request('POST', '/api/v1/users', {
        token: admin,
        body: { username, password: 'long-enough-pw', role: 'admin' },
      });
      expect(r.status).toBe(409);
      expect(r.json.error.field).toBe('username');
    }
  });

  it('puts the role and user_id in the token and its row', async () => {
    const t = await tokenOf('alice');
    const payload = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'alice', role: 'user', user_id: A });
    const { rows } = await h.pool.query('SELECT role, user_id FROM tokens WHERE token_id = $1', [payload.jti]);
    expect(rows[0]).toEqual({ role: 'user', user_id: A });
  });

  it('gives a user token 403 on admin routes, and an admin user everything', async () => {
    const alice = await tokenOf('alice');
    for (const [method, route] of [
      ['GET', '/api/v1/users'],
      ['POST', '/api/v1/users'],
      ['GET', '/api/v1/sync/jobs'],
      ['POST', '/api/v1/sync/tables/register'],
      ['GET', '/api/v1/pg-sync/status'],
      ['GET', '/api/v1/caches'],
      ['POST', '/api/v1/query'],
      ['GET', '/api/v1/sync/schedules'],
    ] as const) {
      const r = await h.request(method, route, { token: alice, ...(method === 'POST' && { body: {} }) });
      expect(r.status, `${method} ${route}: ${r.text}`).toBe(403);
      expect(r.json.error.code).toBe('forbidden');
      expect(r.json.error.message).toBe("this route needs the 'admin' role; the token's role is 'user'");
    }
    const ops = await tokenOf('ops');
    expect((await h.request('GET', '/api/v1/users', { token: ops })).status).toBe(200);
    expect((await h.request('GET', '/api/v1/sync/jobs', { token: ops })).status).toBe(200);
  });
});

describe('a user token sees only its own execution uploads', () => {
  const ids: Record<string, { exec: string; sync: string }> = {};

  beforeAll(async () => {
    for (const [name, userId] of [
      ['a1', A],
      ['a2', A],
      ['b1', B],
    ] as const) {
      const exec = `sec-${name}-${randomUUID()}`;
      await h.pool.query(
        `INSERT INTO workflow_executions (execution_id, user_id, status, results, completed_at) VALUES ($1, $2, 'completed', '[]', now())`,
        [exec, userId],
      );
      const { rows } = await h.pool.query<{ id: string }>(
        'SELECT id FROM snowflake_sync_queue WHERE execution_id = $1',
        [exec],
      );
      ids[name] = { exec, sync: rows[0]!.id };
    }
    await h.pool.query(`UPDATE snowflake_sync_queue SET status = 'failed', error_message = 'boom' WHERE id = ANY($1)`, [
      [ids.a2!.sync, ids.b1!.sync],
    ]);
    // An execution of B that was never queued: only an admin's or B's backfill may pick it up.
    await h.pool.query(`ALTER TABLE workflow_executions DISABLE TRIGGER trigger_queue_universal_snowflake_sync`);
    await h.pool.query(
      `INSERT INTO workflow_executions (execution_id, user_id, status, results, completed_at) VALUES ($1, $2, 'completed', '[]', now())`,
      [`sec-b2-${randomUUID()}`, B],
    );
    await h.pool.query(`ALTER TABLE workflow_executions ENABLE TRIGGER trigger_queue_universal_snowflake_sync`);
  });

  it('lists only its own queue, stats and failures', async () => {
    const alice = await tokenOf('alice');
    const queue = await h.request('GET', '/api/snowflake-sync/queue', { token: alice });
    expect(queue.status).toBe(200);
    expect(new Set(queue.json.items.map((i: { user_id: string }) => i.user_id))).toEqual(new Set([A]));
    expect(queue.json.count).toBe(2);
    // The primary path and its alias answer alike.
    const stats = await h.request('GET', '/api/v1/execution-upload/stats', { token: alice });
    expect(stats.status).toBe(200);
    expect(stats.json.total).toBe(2);
    expect(stats.json.failed.count).toBe(1);
    const failed = await h.request('GET', '/api/snowflake-sync/failed', { token: alice });
    expect(failed.json.failed.map((f: { sync_id: string }) => f.sync_id)).toEqual([ids.a2!.sync]);
    const all = await h.request('GET', '/api/snowflake-sync/stats', { token: admin });
    expect(all.json.total).toBe(3);
  });

  it("gets 404 for another user's item and execution, and can retry its own", async () => {
    const alice = await tokenOf('alice');
    const other = await h.request('POST', `/api/snowflake-sync/retry/${ids.b1!.sync}`, { token: alice });
    expect(other.status).toBe(404);
    expect(other.json.error.field).toBe('sync_id');
    const { rows } = await h.pool.query('SELECT status FROM snowflake_sync_queue WHERE id = $1', [ids.b1!.sync]);
    expect(rows[0].status).toBe('failed');
    expect(
      (await h.request('GET', `/api/snowflake-sync/execution/${ids.b1!.exec}/sync-status`, { token: alice })).status,
    ).toBe(404);
    const own = await h.request('GET', `/api/snowflake-sync/execution/${ids.a1!.exec}/sync-status`, { token: alice });
    expect(own.status).toBe(200);
    expect(own.json.user_id).toBe(A);
    const retried = await h.request('POST', `/api/snowflake-sync/retry/${ids.a2!.sync}`, { token: alice });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.json.status).toBe('pending');
  });

  it("backfills only its own executions; naming another user's id is 404", async () => {
    const alice = await tokenOf('alice');
    const other = await h.request('POST', '/api/snowflake-sync/backfill', {
      token: alice,
      body: { user_id: B, dry_run: true },
    });
    expect(other.status).toBe(404);
    expect(other.json.error.field).toBe('user_id');
    const own = await h.request('POST', '/api/snowflake-sync/backfill', { token: alice, body: { dry_run: true } });
    expect(own.status).toBe(200);
    expect(own.json.execution_ids).toEqual([]);
    const bob = await tokenOf('bob');
    const bobs = await h.request('POST', '/api/snowflake-sync/backfill', { token: bob, body: { dry_run: true } });
    expect(bobs.json.execution_ids).toHaveLength(1);
    expect(bobs.json.execution_ids[0]).toMatch(/^sec-b2-/);
  });
});

describe('revocation, password changes, disabling and deleting users', () => {
  it("revokes a user's own token; another user's token id is 404", async () => {
    const alice = await tokenOf('alice');
    const bob = await tokenOf('bob');
    const bobId = JSON.parse(Buffer.from(bob.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await h.request('POST', '/api/v1/auth/revoke', { token: alice, body: { token_id: bobId } })).status).toBe(
      404,
    );
    expect((await h.request('GET', '/api/snowflake-sync/stats', { token: bob })).status).toBe(200);
    expect((await h.request('POST', '/api/v1/auth/revoke', { token: alice })).status).toBe(200);
    const after = await h.request('GET', '/api/snowflake-sync/stats', { token: alice });
    expect(after.status).toBe(401);
    expect(after.json.error.message).toBe('token has been revoked');
  });

  it('disabling a user revokes their tokens and refuses their sign-in until re-enabled', async () => {
    const bob = await tokenOf('bob');
    const r = await h.request('PATCH', '/api/v1/users/bob', { token: admin, body: { disabled: true } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ username: 'bob', disabled: true });
    expect(r.json.tokens_revoked).toBeGreaterThanOrEqual(1);
    expect((await h.request('GET', '/api/snowflake-sync/stats', { token: bob })).status).toBe(401);
    // Refused sign-ins come from their own addresses so the suite's own (127.0.0.1) stays unthrottled.
    const refused = await signInFrom('127.0.0.6', 'bob', PASSWORD.bob);
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toBe('incorrect username or password');
    expect((await h.request('PATCH', '/api/v1/users/bob', { token: admin, body: { disabled: false } })).status).toBe(
      200,
    );
    await tokenOf('bob');
  });

  it("an admin's password change and a user's own both replace the old password", async () => {
    const r = await h.request('PATCH', '/api/v1/users/carol', {
      token: admin,
      body: { password: 'carol-new-password' },
    });
    expect(r.status).toBe(200);
    expect((await signInFrom('127.0.0.7', 'carol', PASSWORD.carol)).status).toBe(401);
    PASSWORD.carol = 'carol-new-password';
    const carol = await tokenOf('carol');
    const other = await tokenOf('carol');
    const wrong = await h.request('POST', '/api/v1/auth/password', {
      token: carol,
      body: { current_password: 'nope', new_password: 'carol-third-password' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.field).toBe('current_password');
    const changed = await h.request('POST', '/api/v1/auth/password', {
      token: carol,
      body: { current_password: PASSWORD.carol, new_password: 'carol-third-password' },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json.tokens_revoked).toBe(1);
    expect((await h.request('GET', '/api/snowflake-sync/stats', { token: carol })).status).toBe(200);
    expect((await h.request('GET', '/api/snowflake-sync/stats', { token: other })).status).toBe(401);
    PASSWORD.carol = 'carol-third-password';
    await tokenOf('carol');
  });

  it('deleting a user revokes their tokens and their sign-in', async () => {
    const ops = await tokenOf('ops');
    const r = await h.request('DELETE', '/api/v1/users/ops', { token: admin });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ deleted: true, username: 'ops' });
    expect((await h.request('GET', '/api/v1/users', { token: ops })).status).toBe(401);
    expect((await signInFrom('127.0.0.8', 'ops', PASSWORD.ops)).status).toBe(401);
    expect((await h.request('DELETE', '/api/v1/users/ops', { token: admin })).status).toBe(404);
  });
});

describe('/metrics', () => {
  it('is open by default and needs METRICS_TOKEN with METRICS_AUTH=bearer', async () => {
    expect((await h.request('GET', '/metrics', { token: null })).status).toBe(200);
    const metricsToken = 'metrics-token-that-is-at-least-32-chars';
    const locked = await startApiHarness({ METRICS_AUTH: 'bearer', METRICS_TOKEN: metricsToken });
    try {
      expect((await locked.request('GET', '/metrics', { token: null })).status).toBe(401);
      expect((await locked.request('GET', '/metrics', { token: await locked.login() })).status).toBe(401);
      const ok = await locked.request('GET', '/metrics', { token: metricsToken });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# HELP');
    } finally {
      await locked.close();
    }
  });
});
