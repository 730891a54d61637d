/**
 * `npm run rotate-key` (scripts/rotate-key.ts) run as a real process over a real PostgreSQL database:
 * a run made to fail on its second update changes nothing, the re-run re-encrypts everything (v1
 * values included), and a third run finds nothing left to do.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialSettings, createCredential } from '../../src/credentials/store.js';
import { createPool } from '../../src/db/index.js';
import { generateEncryptionKey, keyId, secretKeys, type SecretKeys } from '../../src/secrets/crypto.js';
import { activeSettings, saveSnowflakeConfiguration } from '../../src/jobs/execution-upload/configs.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
const oldHex = generateEncryptionKey();
const newHex = generateEncryptionKey();
const oldKeys = secretKeys(oldHex)!;
const newKeys = secretKeys(newHex)!;
const userA = randomUUID();
const userLegacy = randomUUID();

/** Run the command; exit code and output. */
function rotateKey(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(process.cwd(), 'scripts', 'rotate-key.ts')], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every stored secret column, with the key id it is under (null for v1). */
async function keyIds(): Promise<(string | null)[]> {
  const { rows } = await pool.query<{ v: string }>(
    `SELECT v FROM (SELECT 1 AS t, created_at, secret_encrypted AS v FROM snowflake_credentials
                    UNION ALL SELECT 2, created_at, secret_encrypted FROM snowflake_configurations) s ORDER BY t, created_at`,
  );
  return rows.map((r) => (r.v.startsWith('v2.') ? r.v.split('.')[1] : null));
}

/** What every secret decrypts to with `keys` (throws when one does not). */
async function readAll(keys: SecretKeys): Promise<unknown[]> {
  return [
    (await credentialSettings(pool, keys, 'a_cred'))?.password,
    (await credentialSettings(pool, keys, 'b_cred'))?.token,
    (await activeSettings(pool, userA, keys))?.settings.privateKeyPassphrase,
    (await activeSettings(pool, userLegacy, keys))?.settings.password,
  ];
}

/** A v1 value as the first execution-upload release wrote it: the user id alone as associated data. */
function v1(plain: string, key: Buffer, userId: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(userId));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'floe_rotate' });
  pool = createPool(db.url, { max: 3 });
  const base = { account: 'acct', user: 'u' };
  await createCredential(pool, oldKeys, {
    ...base,
    name: 'a_cred',
    authenticator: 'SNOWFLAKE',
    secret: { password: 'pw-a' },
  });
  await createCredential(pool, oldKeys, {
    ...base,
    name: 'b_cred',
    authenticator: 'PROGRAMMATIC_ACCESS_TOKEN',
    secret: { token: 'pat-b-1234' },
  });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'phrase-a' })
    .toString();
  await saveSnowflakeConfiguration(pool, oldKeys, {
    userId: userA,
    account: 'acct',
    database: 'D',
    schema: 'S',
    username: 'u',
    authenticator: 'SNOWFLAKE_JWT',
    secret: { privateKey: pem, privateKeyPassphrase: 'phrase-a' },
  });
  await pool.query(
    `INSERT INTO snowflake_configurations (user_id, account_identifier, database, schema, username, secret_encrypted) VALUES ($1, 'acct', 'D', 'S', 'u', $2)`,
    [userLegacy, v1('legacy-pw', oldKeys.current, userLegacy)],
  );
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop().catch(() => undefined);
});

describe('npm run rotate-key', () => {
  const env = () => ({ DATABASE_URL: db.url, FLOE_ENCRYPTION_KEY: newHex, FLOE_ENCRYPTION_KEY_PREVIOUS: oldHex });
  const plain = ['pw-a', 'pat-b-1234', 'phrase-a', 'legacy-pw'];

  it('a run that fails on its second update changes nothing', async () => {
    // The second of the two credential updates fails (b_cred sorts after a_cred).
    await pool.query(`CREATE FUNCTION fail_b() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'b_cred' THEN RAISE EXCEPTION 'injected failure on b_cred'; END IF; RETURN NEW; END $$`);
    await pool.query(
      'CREATE TRIGGER fail_b BEFORE UPDATE ON snowflake_credentials FOR EACH ROW EXECUTE FUNCTION fail_b()',
    );
    const before = await keyIds();
    expect(before).toEqual([keyId(oldKeys.current), keyId(oldKeys.current), keyId(oldKeys.current), null]);
    const r = await rotateKey(env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).toContain('injected failure on b_cred');
    for (const s of [oldHex, newHex, ...plain]) expect(r.stdout + r.stderr).not.toContain(s);
    // a_cred's update was rolled back with the rest: everything still reads with the old key alone.
    expect(await keyIds()).toEqual(before);
    expect(await readAll(oldKeys)).toEqual(plain);
    await pool.query('DROP TRIGGER fail_b ON snowflake_credentials');
  });

  it('the re-run re-encrypts every value (v1 ones as v2), and a third run skips them all', async () => {
    const r = await rotateKey(env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('snowflake_credentials: 2 re-encrypted, 0 already under the current key');
    expect(r.stdout).toContain('snowflake_configurations: 2 re-encrypted, 0 already under the current key');
    expect(await keyIds()).toEqual(Array(4).fill(keyId(newKeys.current)));
    // The new key alone reads everything; the old one alone reads nothing.
    expect(await readAll(newKeys)).toEqual(plain);
    await expect(credentialSettings(pool, oldKeys, 'a_cred')).rejects.toThrow(/neither FLOE_ENCRYPTION_KEY nor/);
    const again = await rotateKey(env());
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('snowflake_credentials: 0 re-encrypted, 2 already under the current key');
    expect(again.stdout).toContain('snowflake_configurations: 0 re-encrypted, 2 already under the current key');
  });

  it('refuses to run without the keys, or with a value under neither key', async () => {
    const missing = await rotateKey({ DATABASE_URL: db.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('FLOE_ENCRYPTION_KEY');
    const stranger = generateEncryptionKey();
    const wrong = await rotateKey({
      DATABASE_URL: db.url,
      FLOE_ENCRYPTION_KEY: stranger,
      FLOE_ENCRYPTION_KEY_PREVIOUS: oldHex,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/snowflake_credentials row a_cred: encrypted value is under a key that is neither/);
    expect(await keyIds()).toEqual(Array(4).fill(keyId(newKeys.current)));
  });
});
