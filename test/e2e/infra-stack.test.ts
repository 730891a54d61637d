import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSnowflake } from '../../src/connectors/snowflake.js';
import { startStack, STATE_DIR_MODE } from '../../src/infra/stack.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';

async function tableNames(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'",
    );
    return r.rows.map((x) => x.t);
  } finally {
    await client.end();
  }
}

describe('startStack', () => {
  let db: FreshDatabase;
  let stateDir: string;
  beforeAll(async () => {
    db = await freshDatabase({ migrated: false });
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-stack-test-'));
    fs.chmodSync(stateDir, 0o755); // reachable by the postgres OS user when we run as root
  });
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('uses external PostgreSQL, Temporal and Snowflake settings and runs migrations', async () => {
    const env = testEnv({ DATABASE_URL: db.url, FLOE_STATE_DIR: stateDir });
    const stack = await startStack({ env, worker: false, api: false });
    try {
      expect(stack.embeddedEmulator).toBe(false);
      expect(stack.config.databaseUrl).toBe(db.url);
      expect(stack.urls.temporal).toBe(env.TEMPORAL_ADDRESS);
      expect(stack.urls.temporalUi).toBeNull();
      expect(stack.urls.postgres).not.toContain(new URL(db.url).password);
      expect(await tableNames(db.url)).toContain('allowed_tables');
    } finally {
      await stack.stop();
      await stack.stop(); // idempotent
    }
  });

  it('starts its own PostgreSQL and the embedded emulator, generating session secrets', async () => {
    const env = testEnv({
      DATABASE_URL: undefined,
      SNOWFLAKE_ACCOUNT: undefined,
      SNOWFLAKE_ACCESS_URL: undefined,
      SNOWFLAKE_PASSWORD: undefined,
      JWT_SECRET_KEY: undefined,
      ADMIN_PASSWORD: undefined,
      FLOE_STATE_DIR: stateDir,
    });
    const stack = await startStack({ env, worker: false, api: false, emulatorPort: 0, seedTpch: 0 });
    try {
      expect(stack.config.databaseUrl).toMatch(/^postgres:\/\/floe:.+@127\.0\.0\.1:\d+\/floe$/);
      expect(await tableNames(stack.config.databaseUrl)).toContain('tokens');
      expect(stack.config.api.jwtSecretKey.length).toBeGreaterThanOrEqual(32);
      const pwFile = path.join(stateDir, 'admin-password');
      expect(fs.readFileSync(pwFile, 'utf8').trim()).toBe(stack.config.api.adminPassword);
      expect(fs.statSync(pwFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(stateDir, 'encryption-key')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(stateDir).mode & 0o066).toBe(0); // no read or write for group/others
      expect(fs.statSync(stateDir).mode & 0o777).toBe(STATE_DIR_MODE);
      expect(stack.notes.join('\n')).not.toContain(stack.config.api.adminPassword);
      expect(stack.embeddedEmulator).toBe(true);
      expect(stack.config.snowflake.accessUrl).toBe(stack.urls.snowflake);
      // floe signs in to the embedded emulator with the stack's key pair, made under the state directory.
      const keyFile = path.join(stateDir, 'snowflake-key.p8');
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(stack.config.snowflake).toMatchObject({
        authenticator: 'SNOWFLAKE_JWT',
        username: 'floe',
        privateKey: fs.readFileSync(keyFile, 'utf8'),
      });
      expect(stack.config.snowflake.password).toBeUndefined();
      const [row] = await withSnowflake(stack.config.snowflake, (s) => s.query<{ ONE: string }>('SELECT 1 AS ONE'));
      expect(row.ONE).toBe('1');
      // ... and a password is not a way in.
      const res = await fetch(`${stack.urls.snowflake}/session/v1/login-request`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { ACCOUNT_NAME: 'floe', LOGIN_NAME: 'floe', PASSWORD: 'x' } }),
      });
      expect(await res.json()).toMatchObject({ success: false, code: '390100' });
    } finally {
      await stack.stop();
    }
  });
});
