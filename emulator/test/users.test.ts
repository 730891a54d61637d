/**
 * Users and sign-in: the real snowflake-sdk against the emulator, for every authenticator floe uses.
 * Only the expired / over-long JWTs are sent as raw login requests: the driver always signs a fresh
 * token, so those cannot be produced through it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import snowflake from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFingerprint, normalizePublicKey } from '../src/user-credentials.js';
import {
  connect,
  destroy,
  exec,
  execError,
  startTestEmulator,
  TEST_USER,
  type Conn,
  type TestEmulator,
} from './helpers.js';

// Every refused login below would otherwise be logged by the driver at ERROR.
snowflake.configure({ logLevel: 'OFF' });

interface KeyPair {
  publicKey: string;
  privateKey: string;
}

function keyPair(): KeyPair {
  return crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The bare base64 body of a PEM public key, as Snowflake's docs put it in RSA_PUBLIC_KEY = '...'. */
const bare = (pem: string) => pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');

/** Signs in and returns the driver's error code, or 'ok' (closing the session). */
async function login(emu: TestEmulator, opts: Partial<snowflake.ConnectionOptions>): Promise<string> {
  try {
    const conn = await connect(emu, { password: undefined, ...opts });
    const [row] = await exec<{ U: string }>(conn, 'SELECT CURRENT_TIMESTAMP() AS U');
    expect(row.U).toBeTruthy();
    await destroy(conn);
    return 'ok';
  } catch (e) {
    return String((e as { code?: unknown }).code);
  }
}

const asUser = (username: string, password: string) => ({ username, password });
const withKey = (username: string, privateKey: string) => ({ username, authenticator: 'SNOWFLAKE_JWT', privateKey });

/** A raw login request with a JWT signed here (claims in seconds); returns the response body. */
async function jwtLogin(
  emu: TestEmulator,
  user: string,
  key: KeyPair,
  claims: { iat: number; exp: number },
): Promise<{ success: boolean; code: string | null }> {
  const subject = `FLOE.${user}`;
  const jwt = await new SignJWT({
    iss: `${subject}.${publicKeyFingerprint(normalizePublicKey(key.publicKey))}`,
    sub: subject,
    iat: claims.iat,
    exp: claims.exp,
  })
    .setProtectedHeader({ alg: 'RS256' })
    .sign(crypto.createPrivateKey(key.privateKey));
  const r = await fetch(`${emu.url}/session/v1/login-request`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      data: { ACCOUNT_NAME: 'floe', LOGIN_NAME: user, AUTHENTICATOR: 'SNOWFLAKE_JWT', TOKEN: jwt },
    }),
  });
  return (await r.json()) as { success: boolean; code: string | null };
}

describe('an emulator started without a user', () => {
  it('has no users and refuses every login', async () => {
    const emu = await startTestEmulator({ user: undefined });
    try {
      const key = keyPair();
      expect(await login(emu, asUser('u', 'p'))).toBe('390100');
      expect(await login(emu, asUser('', ''))).toBe('390100');
      expect(await login(emu, withKey('u', key.privateKey))).toBe('390144');
      expect(await login(emu, { username: 'u', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: 'anything' })).toBe(
        '394400',
      );
      expect(await login(emu, { authenticator: 'OAUTH', token: 'anything' })).toBe('390303');
      expect(fs.existsSync(path.join(emu.dataDir, 'users.json'))).toBe(false);
    } finally {
      await emu.close();
    }
  });
});

describe('users and sign-in', () => {
  let emu: TestEmulator;
  let admin: Conn;
  const svcKey = keyPair();
  const nextKey = keyPair();
  const strangerKey = keyPair();

  beforeAll(async () => {
    emu = await startTestEmulator();
    admin = await connect(emu);
    await exec(
      admin,
      `CREATE USER svc TYPE = SERVICE RSA_PUBLIC_KEY = '${bare(svcKey.publicKey)}' COMMENT = 'floe service user'`,
    );
  });
  afterAll(async () => {
    await destroy(admin);
    await emu.close();
  });

  it('checks the password of the bootstrap user', async () => {
    expect(await login(emu, asUser(TEST_USER.name, TEST_USER.password))).toBe('ok');
    expect(await login(emu, asUser(TEST_USER.name.toUpperCase(), TEST_USER.password))).toBe('ok');
    expect(await login(emu, asUser(TEST_USER.name, 'wrong'))).toBe('390100');
    expect(await login(emu, asUser('nobody', TEST_USER.password))).toBe('390100');
  });

  it('creates, alters and drops users with passwords', async () => {
    await exec(admin, `CREATE USER alice PASSWORD = 'first-pw'`);
    expect(await login(emu, asUser('alice', 'first-pw'))).toBe('ok');
    expect((await execError(admin, `CREATE USER alice PASSWORD = 'x'`)).code).toBe('002002');
    await exec(admin, `CREATE USER IF NOT EXISTS alice PASSWORD = 'ignored'`);
    expect(await login(emu, asUser('alice', 'first-pw'))).toBe('ok');
    await exec(admin, `ALTER USER alice SET PASSWORD = 'second-pw'`);
    expect(await login(emu, asUser('alice', 'first-pw'))).toBe('390100');
    expect(await login(emu, asUser('alice', 'second-pw'))).toBe('ok');
    await exec(admin, `ALTER USER alice UNSET PASSWORD`);
    expect(await login(emu, asUser('alice', 'second-pw'))).toBe('390100');
    await exec(admin, `DROP USER alice`);
    expect((await execError(admin, `DROP USER alice`)).code).toBe('002003');
    await exec(admin, `DROP USER IF EXISTS alice`);
    expect((await execError(admin, `ALTER USER alice SET PASSWORD = 'x'`)).code).toBe('002003');
  });

  it('signs a service user in with its key pair (SNOWFLAKE_JWT) and refuses a key that is not registered', async () => {
    expect(await login(emu, withKey('svc', svcKey.privateKey))).toBe('ok');
    const svc = await connect(emu, withKey('svc', svcKey.privateKey));
    expect(await exec(svc, 'SELECT CURRENT_USER() AS U')).toEqual([{ U: 'SVC' }]);
    await destroy(svc);
    expect(await login(emu, withKey('svc', strangerKey.privateKey))).toBe('390144');
    // A password sign-in of a user without a password fails like a wrong password.
    expect(await login(emu, asUser('svc', 'anything'))).toBe('390100');
  });

  it('shows the key fingerprint in DESC USER and the user in SHOW USERS', async () => {
    const desc = await exec<{ property: string; value: string | null }>(admin, 'DESC USER svc');
    const prop = Object.fromEntries(desc.map((r) => [r.property, r.value]));
    const der = crypto.createPublicKey(svcKey.publicKey).export({ format: 'der', type: 'spki' });
    expect(prop.RSA_PUBLIC_KEY_FP).toBe(`SHA256:${crypto.createHash('sha256').update(der).digest('base64')}`);
    expect(prop.RSA_PUBLIC_KEY).toBe(bare(svcKey.publicKey));
    expect(prop.RSA_PUBLIC_KEY_2_FP).toBeNull();
    expect(prop.TYPE).toBe('SERVICE');
    expect(prop.PASSWORD).toBeNull();
    const users = await exec<{ name: string; type: string | null; has_rsa_public_key: string; has_password: string }>(
      admin,
      `SHOW USERS LIKE 'S%'`,
    );
    expect(users).toEqual([
      expect.objectContaining({ name: 'SVC', type: 'SERVICE', has_rsa_public_key: 'true', has_password: 'false' }),
    ]);
  });

  it('refuses an expired JWT and one valid for more than an hour, and accepts a fresh one sent the same way', async () => {
    const t = Math.floor(Date.now() / 1000);
    expect(await jwtLogin(emu, 'SVC', svcKey, { iat: t - 600, exp: t - 60 })).toMatchObject({
      success: false,
      code: '390144',
    });
    expect(await jwtLogin(emu, 'SVC', svcKey, { iat: t, exp: t + 7200 })).toMatchObject({
      success: false,
      code: '390144',
    });
    expect(await jwtLogin(emu, 'SVC', svcKey, { iat: t, exp: t + 60 })).toMatchObject({ success: true });
  });

  it('keeps a user signed in across a key rotation to RSA_PUBLIC_KEY_2', async () => {
    await exec(admin, `ALTER USER svc SET RSA_PUBLIC_KEY_2 = '${bare(nextKey.publicKey)}'`);
    expect(await login(emu, withKey('svc', svcKey.privateKey))).toBe('ok');
    expect(await login(emu, withKey('svc', nextKey.privateKey))).toBe('ok');
    await exec(admin, `ALTER USER svc UNSET RSA_PUBLIC_KEY`);
    expect(await login(emu, withKey('svc', svcKey.privateKey))).toBe('390144');
    expect(await login(emu, withKey('svc', nextKey.privateKey))).toBe('ok');
    expect((await execError(admin, `ALTER USER svc SET RSA_PUBLIC_KEY = 'not a key'`)).code).toBe('001003');
  });

  it('issues a programmatic access token once, accepts it, and refuses it once removed', async () => {
    await exec(admin, `CREATE USER bot PASSWORD = 'bot-pw'`);
    const [pat] = await exec<{ token_name: string; token_secret: string }>(
      admin,
      `ALTER USER bot ADD PROGRAMMATIC ACCESS TOKEN ci_token DAYS_TO_EXPIRY = 5`,
    );
    expect(pat.token_name).toBe('CI_TOKEN');
    expect(
      await login(emu, { username: 'bot', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: pat.token_secret }),
    ).toBe('ok');
    expect(await login(emu, asUser('bot', pat.token_secret))).toBe('ok');
    expect(
      await login(emu, { username: 'bot', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: `${pat.token_secret}x` }),
    ).toBe('394400');
    expect(
      await login(emu, {
        username: TEST_USER.name,
        authenticator: 'PROGRAMMATIC_ACCESS_TOKEN',
        token: pat.token_secret,
      }),
    ).toBe('394400');
    expect(fs.readFileSync(path.join(emu.dataDir, 'users.json'), 'utf8')).not.toContain(pat.token_secret);
    await exec(admin, `ALTER USER bot REMOVE PROGRAMMATIC ACCESS TOKEN ci_token`);
    expect(
      await login(emu, { username: 'bot', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: pat.token_secret }),
    ).toBe('394400');
    expect((await execError(admin, `ALTER USER bot REMOVE PROGRAMMATIC ACCESS TOKEN ci_token`)).code).toBe('002003');
    // Without a user name, the token is the signed-in user's own.
    const bot = await connect(emu, asUser('bot', 'bot-pw'));
    const [own] = await exec<{ token_secret: string }>(bot, 'ALTER USER ADD PAT own_token');
    await destroy(bot);
    expect(
      await login(emu, { username: 'bot', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: own.token_secret }),
    ).toBe('ok');
  });

  it('accepts an OAuth access token the emulator issued for that user only', async () => {
    const [row] = await exec<Record<string, string>>(admin, `SELECT SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('svc')`);
    const token = Object.values(row)[0];
    expect(await login(emu, { authenticator: 'OAUTH', token, username: undefined })).toBe('ok');
    expect(await login(emu, { authenticator: 'OAUTH', token, username: 'svc' })).toBe('ok');
    expect(await login(emu, { authenticator: 'OAUTH', token, username: TEST_USER.name })).toBe('390303');
    expect(await login(emu, { authenticator: 'OAUTH', token: `${token}x` })).toBe('390303');
    expect((await execError(admin, `SELECT SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('nobody')`)).code).toBe('002003');
  });

  it('keeps users across a restart in a users.json only its owner can read, without any password', async () => {
    await exec(admin, `CREATE USER carol PASSWORD = 'carol-secret-pw'`);
    const file = path.join(emu.dataDir, 'users.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('carol-secret-pw');
    await destroy(admin);
    await emu.close();
    emu = await startTestEmulator({ dataDir: emu.dataDir, user: undefined });
    admin = await connect(emu);
    expect(await login(emu, asUser('carol', 'carol-secret-pw'))).toBe('ok');
    expect(await login(emu, withKey('svc', nextKey.privateKey))).toBe('ok');
  });
});

describe('the bootstrap user', () => {
  it('is created with a public key and updated to a new one at the next start', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-emu-boot-'));
    const first = keyPair();
    const second = keyPair();
    let emu = await startTestEmulator({ dataDir, user: { name: 'floe', publicKey: first.publicKey } });
    expect(await login(emu, withKey('floe', first.privateKey))).toBe('ok');
    expect(await login(emu, asUser('floe', ''))).toBe('390100');
    await emu.close();
    emu = await startTestEmulator({ dataDir, user: { name: 'floe', publicKey: second.publicKey } });
    try {
      expect(await login(emu, withKey('floe', first.privateKey))).toBe('390144');
      expect(await login(emu, withKey('floe', second.privateKey))).toBe('ok');
    } finally {
      await emu.close();
    }
  });
});
