/**
 * floe's Snowflake connector signing in each way it supports: the real snowflake-sdk against the
 * emulator, which checks every credential. Failures must name the authenticator and user, never
 * the secret.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import {
  connectSnowflake,
  SnowflakeSignInError,
  withSnowflake,
  type SnowflakeSettings,
} from '../../src/connectors/snowflake.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sf-connect-'));
const admin = { name: 'admin', password: 'admin-pw-123' };
let emu: RunningEmulator;
let base: Pick<SnowflakeSettings, 'account' | 'accessUrl'>;

/** Runs SQL as the bootstrap user. */
function asAdmin<T extends Record<string, unknown>>(sql: string): Promise<T[]> {
  return withSnowflake({ ...base, username: admin.name, password: admin.password }, (s) => s.query<T>(sql));
}

/** Signs in, runs a trivial query, returns its value. */
function signIn(settings: SnowflakeSettings): Promise<string> {
  return withSnowflake(settings, async (s) => String((await s.query<{ ONE: string }>('SELECT 1 AS ONE'))[0].ONE));
}

async function signInError(settings: SnowflakeSettings): Promise<SnowflakeSignInError> {
  const err = await connectSnowflake(settings).then(
    async (s) => {
      await s.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SnowflakeSignInError);
  return err as SnowflakeSignInError;
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: admin });
  base = { account: 'floe', accessUrl: emu.url };
});

afterAll(async () => {
  await emu.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('connectSnowflake', () => {
  it('signs in with a password, and names the user but not the password when it is wrong', async () => {
    expect(await signIn({ ...base, username: admin.name, password: admin.password })).toBe('1');
    const err = await signInError({ ...base, username: admin.name, password: 'wrong-pw-456' });
    expect(err.code).toBe('390100');
    expect(err.message).toBe(
      'Snowflake sign-in failed (SNOWFLAKE as admin (password), account floe): 390100 Incorrect username or password was specified.',
    );
    expect(err.message).not.toContain('wrong-pw-456');
  });

  it('signs in with an encrypted PKCS#8 key and its passphrase (SNOWFLAKE_JWT)', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const privateKey = pair.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'key-pass',
    }) as string;
    await asAdmin(
      `CREATE USER svc TYPE = SERVICE RSA_PUBLIC_KEY = '${publicKey.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s+/g, '')}'`,
    );
    const settings: SnowflakeSettings = {
      ...base,
      username: 'svc',
      authenticator: 'SNOWFLAKE_JWT',
      privateKey,
      privateKeyPassphrase: 'key-pass',
    };
    expect(await signIn(settings)).toBe('1');
    await asAdmin(`ALTER USER svc UNSET RSA_PUBLIC_KEY`);
    const err = await signInError(settings);
    expect(err.code).toBe('390144');
    expect(err.message).toMatch(
      /^Snowflake sign-in failed \(SNOWFLAKE_JWT as svc \(key pair\), account floe\): 390144 /,
    );
  });

  it('re-reads a token file for every session, so a rotated programmatic access token works without a restart', async () => {
    await asAdmin(`CREATE USER bot PASSWORD = 'bot-pw-789'`);
    const [first] = await asAdmin<{ token_secret: string }>('ALTER USER bot ADD PROGRAMMATIC ACCESS TOKEN first');
    const tokenFile = path.join(root, 'bot.token');
    fs.writeFileSync(tokenFile, `${first.token_secret}\n`, { mode: 0o600 });
    const settings: SnowflakeSettings = {
      ...base,
      username: 'bot',
      authenticator: 'PROGRAMMATIC_ACCESS_TOKEN',
      tokenFilePath: tokenFile,
    };
    expect(await signIn(settings)).toBe('1');

    const [second] = await asAdmin<{ token_secret: string }>('ALTER USER bot ADD PROGRAMMATIC ACCESS TOKEN second');
    fs.writeFileSync(tokenFile, `${second.token_secret}\n`);
    await asAdmin('ALTER USER bot REMOVE PROGRAMMATIC ACCESS TOKEN first');
    expect(await signIn(settings)).toBe('1');

    await asAdmin('ALTER USER bot REMOVE PROGRAMMATIC ACCESS TOKEN second');
    const err = await signInError(settings);
    expect(err.code).toBe('394400');
    expect(err.message).toContain(`PROGRAMMATIC_ACCESS_TOKEN as bot (token file ${tokenFile})`);
    expect(err.message).not.toContain(second.token_secret);
    const direct = await signInError({
      ...base,
      username: 'bot',
      authenticator: 'PROGRAMMATIC_ACCESS_TOKEN',
      token: first.token_secret,
    });
    expect(direct.message).toContain('PROGRAMMATIC_ACCESS_TOKEN as bot (programmatic access token)');
    expect(direct.message).not.toContain(first.token_secret);
  });

  it('signs in with an OAuth access token the emulator issued', async () => {
    const [row] = await asAdmin<Record<string, string>>(`SELECT SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('bot')`);
    const token = Object.values(row)[0];
    expect(await signIn({ ...base, username: 'bot', authenticator: 'OAUTH', token })).toBe('1');
    const err = await signInError({ ...base, username: 'bot', authenticator: 'OAUTH', token: `${token}x` });
    expect(err.code).toBe('390303');
    expect(err.message).not.toContain(token);
  });
});
