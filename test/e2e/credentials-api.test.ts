/**
 * Named credentials (`/api/v1/credentials`) and per-user configurations (`/api/snowflake-sync/config`)
 * over HTTP: the real app on a fresh PostgreSQL database, and the test routes signing in through the
 * real snowflake-sdk to the emulator. Every response body is kept and scanned for the secrets.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { withSnowflake } from '../../src/connectors/snowflake.js';
import { configOwner } from '../../src/api/routes/executionUpload.js';
import { generateEncryptionKey } from '../../src/secrets/crypto.js';
import { startApiHarness, type ApiHarness, type ApiResponse, type RequestOptions } from '../helpers/api-harness.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'floe-cred-'));
let emu: RunningEmulator;
let h: ApiHarness;
let token: string;
/** Every response body of the suite (scanned for secrets at the end). */
const bodies: string[] = [];

/** An RSA key pair: the private key as PKCS#8 PEM (encrypted with `passphrase`), the public key, its fingerprint. */
function keyPair(passphrase?: string): { pem: string; publicPem: string; fingerprint: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey
    .export({ type: 'pkcs8', format: 'pem', ...(passphrase && { cipher: 'aes-256-cbc', passphrase }) })
    .toString();
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    pem,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64')}`,
  };
}

const BOOT = { name: 'boot', password: `boot-${randomUUID()}` };
const PASSWORD = `pw-${randomUUID()}`;
const PASSPHRASE = `phrase-${randomUUID()}`;
const plainKey = keyPair();
const encryptedKey = keyPair(PASSPHRASE);
/** Issued by the emulator in beforeAll: a programmatic access token and an OAuth access token. */
let PAT = '';
let OAUTH = '';
/** The secrets, as they could appear in a body (a private key by one of its base64 lines). */
const secretParts = () => [
  PASSWORD,
  PAT,
  OAUTH,
  PASSPHRASE,
  BOOT.password,
  plainKey.pem.split('\n')[1]!,
  encryptedKey.pem.split('\n')[1]!,
];
/** A PEM public key as the bare base64 Snowflake's docs put in RSA_PUBLIC_KEY. */
const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
/** Run statements as the emulator's bootstrap user; returns the last one's rows. */
async function asAdmin(...sql: string[]): Promise<Record<string, unknown>[]> {
  return withSnowflake(
    { account: 'floe_test', username: BOOT.name, password: BOOT.password, accessUrl: emu.url },
    async (sf) => {
      let rows: Record<string, unknown>[] = [];
      for (const s of sql) rows = await sf.query(s);
      return rows;
    },
  );
}

async function call(method: string, url: string, opts: RequestOptions = {}): Promise<ApiResponse> {
  const r = await h.request(method, url, { token, ...opts });
  bodies.push(r.text);
  return r;
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: BOOT });
  await asAdmin(
    `CREATE USER floe_pw PASSWORD = '${PASSWORD}'`,
    `CREATE USER svc_kp RSA_PUBLIC_KEY = '${bare(plainKey.publicPem)}' TYPE = SERVICE`,
    `CREATE USER svc_kp_enc RSA_PUBLIC_KEY = '${bare(encryptedKey.publicPem)}' TYPE = SERVICE`,
    'CREATE USER svc_pat TYPE = SERVICE',
    'CREATE USER svc_oauth',
    `CREATE USER alice RSA_PUBLIC_KEY = '${bare(encryptedKey.publicPem)}' PASSWORD = '${PASSWORD}'`,
  );
  PAT = String((await asAdmin('ALTER USER svc_pat ADD PROGRAMMATIC ACCESS TOKEN floe_pat'))[0]!.token_secret);
  OAUTH = String(Object.values((await asAdmin(`SELECT SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('svc_oauth')`))[0]!)[0]);
  expect(PAT.length).toBeGreaterThan(10);
  expect(OAUTH.length).toBeGreaterThan(10);
  h = await startApiHarness({ FLOE_ENCRYPTION_KEY: generateEncryptionKey(), SNOWFLAKE_ACCESS_URL: emu.url });
  token = await h.login();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await emu?.close();
  rmSync(root, { recursive: true, force: true });
});

const conn = () => ({ account: 'floe_test', access_url: emu.url, warehouse: 'COMPUTE_WH' });

describe('/api/v1/credentials', () => {
  it('creates a credential of each kind and shows no secret, only fingerprints and last four characters', async () => {
    const made = [
      await call('POST', '/api/v1/credentials', {
        body: { name: 'pw_cred', user: 'floe_pw', authenticator: 'SNOWFLAKE', password: PASSWORD, ...conn() },
      }),
      await call('POST', '/api/v1/credentials', {
        body: { name: 'kp_cred', user: 'svc_kp', authenticator: 'SNOWFLAKE_JWT', private_key: plainKey.pem, ...conn() },
      }),
      await call('POST', '/api/v1/credentials', {
        body: {
          name: 'kp_enc',
          user: 'svc_kp_enc',
          authenticator: 'SNOWFLAKE_JWT',
          private_key: encryptedKey.pem,
          private_key_passphrase: PASSPHRASE,
          ...conn(),
        },
      }),
      await call('POST', '/api/v1/credentials', {
        body: { name: 'pat_cred', user: 'svc_pat', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: PAT, ...conn() },
      }),
      await call('POST', '/api/v1/credentials', {
        body: { name: 'oauth_cred', user: 'svc_oauth', authenticator: 'OAUTH', token: OAUTH, ...conn() },
      }),
    ];
    expect(made.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(made[0]!.json).toMatchObject({
      name: 'pw_cred',
      account: 'floe_test',
      user: 'floe_pw',
      authenticator: 'SNOWFLAKE',
      public_key_fingerprint: null,
      token_last4: null,
      rotated_at: null,
    });
    expect(made[1]!.json.public_key_fingerprint).toBe(plainKey.fingerprint);
    expect(made[2]!.json.public_key_fingerprint).toBe(encryptedKey.fingerprint);
    expect(made[3]!.json.token_last4).toBe(PAT.slice(-4));
    expect(made[4]!.json.token_last4).toBe(OAUTH.slice(-4));
    expect(typeof made[0]!.json.created_at).toBe('string');

    const list = await call('GET', '/api/v1/credentials');
    expect(list.status).toBe(200);
    expect(list.json.credentials.map((c: { name: string }) => c.name)).toEqual([
      'kp_cred',
      'kp_enc',
      'oauth_cred',
      'pat_cred',
      'pw_cred',
    ]);
    const one = await call('GET', '/api/v1/credentials/kp_enc');
    expect(one.json).toEqual(made[2]!.json);
    expect((await call('GET', '/api/v1/credentials/nope')).status).toBe(404);
    // At rest: ciphertext only.
    const { rows } = await h.pool.query<{ secret_encrypted: string }>(
      'SELECT secret_encrypted FROM snowflake_credentials',
    );
    for (const r of rows) for (const s of secretParts()) expect(r.secret_encrypted).not.toContain(s);
  });

  it('refuses bad bodies with 400 naming the field, and a taken name with 409', async () => {
    const rsaPkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const base = { name: 'x', user: 'u', ...conn() };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { ...base, authenticator: 'SNOWFLAKE_JWT', private_key: rsaPkcs1 },
        'private_key',
        /not PKCS#8.*openssl pkcs8 -topk8/,
      ],
      [{ ...base, authenticator: 'SNOWFLAKE_JWT', private_key: ec }, 'private_key', /RSA/],
      [{ ...base, authenticator: 'SNOWFLAKE_JWT', private_key: 'garbage' }, 'private_key', /PKCS#8/],
      [
        { ...base, authenticator: 'SNOWFLAKE_JWT', private_key: encryptedKey.pem },
        'private_key_passphrase',
        /is required: the private key is encrypted/,
      ],
      [
        { ...base, authenticator: 'SNOWFLAKE_JWT', private_key: encryptedKey.pem, private_key_passphrase: 'wrong' },
        'private_key_passphrase',
        /does not decrypt/,
      ],
      [
        { ...base, authenticator: 'SNOWFLAKE_JWT', private_key: plainKey.pem, password: 'pw' },
        'password',
        /not used with authenticator SNOWFLAKE_JWT/,
      ],
      [
        { ...base, authenticator: 'PROGRAMMATIC_ACCESS_TOKEN' },
        'token',
        /required with authenticator PROGRAMMATIC_ACCESS_TOKEN/,
      ],
      [{ ...base, authenticator: 'SNOWFLAKE' }, 'password', /required/],
      [{ ...base, authenticator: 'KERBEROS', password: 'pw' }, 'authenticator', /must be one of .*SNOWFLAKE_JWT/],
      [{ ...base, name: 'default', authenticator: 'SNOWFLAKE', password: 'pw' }, 'name', /reserved/],
      [{ ...base, name: '1x', authenticator: 'SNOWFLAKE', password: 'pw' }, 'name', /letters/],
      [{ ...base, authenticator: 'SNOWFLAKE', password: 'pw', secret: 's' }, 'secret', /not a recognised field/],
      [{ ...base, authenticator: 'SNOWFLAKE', password: 'pw', access_url: 'ftp://x' }, 'access_url', /http/],
    ];
    for (const [body, field, message] of cases) {
      const r = await call('POST', '/api/v1/credentials', { body });
      expect({ status: r.status, field: r.json.error.field }).toEqual({ status: 400, field });
      expect(r.json.error.message).toMatch(message);
    }
    const taken = await call('POST', '/api/v1/credentials', {
      body: { name: 'pw_cred', user: 'u', authenticator: 'SNOWFLAKE', password: 'pw', ...conn() },
    });
    expect(taken.status).toBe(409);
    expect(taken.json.error.field).toBe('name');
    expect((await h.request('GET', '/api/v1/credentials', { token: null })).status).toBe(401);
  });

  it('the test route signs in with each kind and returns CURRENT_USER(), CURRENT_ROLE(), CURRENT_WAREHOUSE()', async () => {
    const users = {
      pw_cred: 'FLOE_PW',
      kp_cred: 'SVC_KP',
      kp_enc: 'SVC_KP_ENC',
      pat_cred: 'SVC_PAT',
      oauth_cred: 'SVC_OAUTH',
    };
    for (const [name, user] of Object.entries(users)) {
      const r = await call('POST', `/api/v1/credentials/${name}/test`);
      expect({ name, status: r.status }).toEqual({ name, status: 200 });
      expect(r.json).toMatchObject({ name, current_user: user, current_warehouse: 'COMPUTE_WH' });
      expect(typeof r.json.current_role).toBe('string');
    }
    expect((await call('POST', '/api/v1/credentials/nope/test')).status).toBe(404);
  });

  it('a wrong credential fails with the Snowflake code and a message naming the credential, not the secret', async () => {
    const wrongPw = `wrong-${randomUUID()}`;
    expect(
      (
        await call('PUT', '/api/v1/credentials/pw_cred', {
          body: { user: 'floe_pw', authenticator: 'SNOWFLAKE', password: wrongPw, ...conn() },
        })
      ).status,
    ).toBe(200);
    const pw = await call('POST', '/api/v1/credentials/pw_cred/test');
    expect(pw.status).toBe(422);
    expect(pw.json.error).toMatchObject({ code: 'snowflake_sign_in_failed', snowflake_code: '390100' });
    expect(pw.json.error.message).toMatch(
      /^credential 'pw_cred': Snowflake sign-in failed \(SNOWFLAKE as floe_pw \(password\)/,
    );
    expect(pw.text).not.toContain(wrongPw);
    // Back to the right one.
    await call('PUT', '/api/v1/credentials/pw_cred', {
      body: { user: 'floe_pw', authenticator: 'SNOWFLAKE', password: PASSWORD, ...conn() },
    });
    expect((await call('POST', '/api/v1/credentials/pw_cred/test')).status).toBe(200);
    // A removed programmatic access token.
    await asAdmin('ALTER USER svc_pat REMOVE PROGRAMMATIC ACCESS TOKEN floe_pat');
    const pat = await call('POST', '/api/v1/credentials/pat_cred/test');
    expect(pat.json.error).toMatchObject({ code: 'snowflake_sign_in_failed', snowflake_code: '394400' });
    expect(pat.json.error.message).toContain("credential 'pat_cred'");
  });

  it('PUT rotates the secret (rotated_at set, new fingerprint); the new key signs in once registered as RSA_PUBLIC_KEY_2', async () => {
    const next = keyPair();
    const r = await call('PUT', '/api/v1/credentials/kp_cred', {
      body: { user: 'svc_kp', authenticator: 'SNOWFLAKE_JWT', private_key: next.pem, ...conn() },
    });
    expect(r.status).toBe(200);
    expect(r.json.public_key_fingerprint).toBe(next.fingerprint);
    expect(typeof r.json.rotated_at).toBe('string');
    // Not registered yet: Snowflake refuses the JWT.
    const refused = await call('POST', '/api/v1/credentials/kp_cred/test');
    expect(refused.json.error).toMatchObject({ code: 'snowflake_sign_in_failed', snowflake_code: '390144' });
    expect(refused.json.error.message).toContain("credential 'kp_cred'");
    await asAdmin(`ALTER USER svc_kp SET RSA_PUBLIC_KEY_2 = '${bare(next.publicPem)}'`);
    expect((await call('POST', '/api/v1/credentials/kp_cred/test')).status).toBe(200);
    // Switching kind: the key pair credential becomes a token one.
    const pat = await call('PUT', '/api/v1/credentials/kp_enc', {
      body: { user: 'svc_kp_enc', authenticator: 'OAUTH', token: OAUTH, ...conn() },
    });
    expect(pat.json).toMatchObject({
      authenticator: 'OAUTH',
      public_key_fingerprint: null,
      token_last4: OAUTH.slice(-4),
    });
    expect(
      (
        await call('PUT', '/api/v1/credentials/nope', {
          body: { user: 'u', authenticator: 'SNOWFLAKE', password: 'pw', ...conn() },
        })
      ).status,
    ).toBe(404);
  });

  it('cache sources name credentials; DELETE is refused (409, naming the source) while one does', async () => {
    const unknown = await call('POST', '/api/v1/cache/sources', {
      body: { source_name: 'src_x', driver_type: 'snowflake', credentials_ref: 'nope' },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.field).toBe('credentials_ref');
    const src = await call('POST', '/api/v1/cache/sources', {
      body: { source_name: 'prod_src', driver_type: 'snowflake', credentials_ref: 'oauth_cred' },
    });
    expect(src.status).toBe(201);
    const refused = await call('DELETE', '/api/v1/credentials/oauth_cred');
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('prod_src');
    expect(refused.json.error.sources).toEqual(['prod_src']);
    // The database holds the line too (a source written past the API, or racing a DELETE).
    await expect(
      h.pool.query(
        `INSERT INTO cache_sources (source_name, driver_type, credentials_ref) VALUES ('raw_src', 'snowflake', 'nope')`,
      ),
    ).rejects.toThrow(/no credential named nope/);
    expect((await call('GET', '/api/v1/credentials/oauth_cred')).status).toBe(200);
    // Pointed elsewhere, the credential can go.
    expect(
      (
        await call('POST', '/api/v1/cache/sources', {
          body: { source_name: 'prod_src', driver_type: 'snowflake', credentials_ref: 'default' },
        })
      ).status,
    ).toBe(200);
    expect((await call('DELETE', '/api/v1/credentials/oauth_cred')).json).toEqual({
      name: 'oauth_cred',
      deleted: true,
    });
    expect((await call('GET', '/api/v1/credentials/oauth_cred')).status).toBe(404);
    expect((await call('DELETE', '/api/v1/credentials/oauth_cred')).status).toBe(404);
  });
});

describe('/api/snowflake-sync/config', () => {
  const userId = randomUUID();
  const cfg = (over: Record<string, unknown> = {}) => ({
    user_id: userId,
    user: 'alice',
    database: 'ALICE_DB',
    schema: 'RESULTS',
    ...conn(),
    ...over,
  });

  it("PUT stores a user's configuration with any kind of credential; GET shows no secret; test signs in; DELETE removes it", async () => {
    const noUser = await call('PUT', '/api/snowflake-sync/config', {
      body: { ...cfg({ authenticator: 'SNOWFLAKE', password: PASSWORD }), user_id: undefined },
    });
    expect(noUser.status).toBe(400);
    expect(noUser.json.error.field).toBe('user_id');
    const bad = await call('PUT', '/api/snowflake-sync/config', {
      body: cfg({ authenticator: 'SNOWFLAKE_JWT', private_key: encryptedKey.pem }),
    });
    expect({ status: bad.status, field: bad.json.error.field }).toEqual({
      status: 400,
      field: 'private_key_passphrase',
    });

    const put = await call('PUT', '/api/snowflake-sync/config', {
      body: cfg({ authenticator: 'SNOWFLAKE_JWT', private_key: encryptedKey.pem, private_key_passphrase: PASSPHRASE }),
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      user_id: userId,
      user: 'alice',
      authenticator: 'SNOWFLAKE_JWT',
      public_key_fingerprint: encryptedKey.fingerprint,
      database: 'ALICE_DB',
      schema: 'RESULTS',
    });
    const got = await call('GET', `/api/snowflake-sync/config?user_id=${userId}`);
    expect(got.json).toEqual(put.json);
    expect((await call('POST', '/api/snowflake-sync/config/test', { body: { user_id: userId } })).status).toBe(200);
    // Replaced by a password configuration: one active configuration.
    const pw = await call('PUT', '/api/snowflake-sync/config', {
      body: cfg({ authenticator: 'SNOWFLAKE', password: PASSWORD }),
    });
    expect(pw.json).toMatchObject({ authenticator: 'SNOWFLAKE', public_key_fingerprint: null });
    const test = await call('POST', '/api/snowflake-sync/config/test', { body: { user_id: userId } });
    expect(test.status).toBe(200);
    expect(test.json).toMatchObject({ user_id: userId, current_user: 'ALICE' });
    const wrong = await call('PUT', '/api/snowflake-sync/config', {
      body: cfg({ authenticator: 'SNOWFLAKE', password: 'not-alices' }),
    });
    expect(wrong.status).toBe(200);
    const refused = await call('POST', '/api/snowflake-sync/config/test', { body: { user_id: userId } });
    expect(refused.json.error).toMatchObject({ code: 'snowflake_sign_in_failed', snowflake_code: '390100' });
    expect(refused.json.error.message).toContain(`the Snowflake configuration of user ${userId}`);

    expect((await call('DELETE', `/api/snowflake-sync/config?user_id=${userId}`)).json).toEqual({
      user_id: userId,
      deleted: true,
    });
    expect((await call('GET', `/api/snowflake-sync/config?user_id=${userId}`)).status).toBe(404);
    expect((await call('POST', '/api/snowflake-sync/config/test', { body: { user_id: userId } })).status).toBe(404);
    const { rows } = await h.pool.query('SELECT 1 FROM snowflake_configurations WHERE user_id = $1', [userId]);
    expect(rows).toHaveLength(0);
  });

  it('role rules: a user token addresses its own configuration only; an admin names user_id', () => {
    const as = (auth: unknown) => ({ locals: { auth } }) as never;
    const own = randomUUID();
    expect(configOwner(as({ role: 'user', userId: own }), undefined)).toBe(own);
    expect(configOwner(as({ role: 'user', userId: own }), own.toUpperCase())).toBe(own);
    expect(() => configOwner(as({ role: 'user', userId: own }), randomUUID())).toThrow(/only address its own/);
    expect(() => configOwner(as({ role: 'user', userId: null }), undefined)).toThrow(/not bound to a user/);
    expect(configOwner(as({ role: 'admin', userId: null }), own)).toBe(own);
    expect(() => configOwner(as({ role: 'admin', userId: null }), undefined)).toThrow(/user_id' is required/);
  });
});

describe('without FLOE_ENCRYPTION_KEY', () => {
  it('the credential routes answer 503 encryption_key_missing; the default source still resolves', async () => {
    const bare = await startApiHarness({ SNOWFLAKE_ACCESS_URL: emu.url });
    try {
      const t = await bare.login();
      const r = await bare.request('POST', '/api/v1/credentials', {
        token: t,
        body: { name: 'x', user: 'u', authenticator: 'SNOWFLAKE', password: 'pw', ...conn() },
      });
      expect(r.status).toBe(503);
      expect(r.json.error).toMatchObject({
        code: 'encryption_key_missing',
        message: expect.stringContaining('FLOE_ENCRYPTION_KEY'),
      });
      expect(
        (await bare.request('PUT', '/api/snowflake-sync/config', { token: t, body: { user_id: randomUUID() } })).status,
      ).toBe(503);
      expect(
        (
          await bare.request('POST', '/api/v1/cache/sources', {
            token: t,
            body: { source_name: 's', driver_type: 'snowflake', credentials_ref: 'default' },
          })
        ).status,
      ).toBe(201);
    } finally {
      await bare.close();
    }
  });
});

describe('secrets never leave', () => {
  it('no response body of this suite holds a password, token, passphrase or private key', () => {
    expect(bodies.length).toBeGreaterThan(30);
    const all = bodies.join('\n');
    for (const s of secretParts()) expect(all.includes(s)).toBe(false);
  });
});
