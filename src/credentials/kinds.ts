/**
 * The kinds of Snowflake credential floe stores (named credentials and per-user configurations alike):
 * a password (`SNOWFLAKE`), a key pair (`SNOWFLAKE_JWT`: an RSA private key as PKCS#8 PEM, possibly
 * encrypted), a programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`) or an OAuth access token
 * (`OAUTH`). snowflake-sdk signs in with each of them itself (its `authenticator`, `privateKey`,
 * `privateKeyPass` and `token` options).
 *
 * Request bodies name the secret fields `password`, `private_key`, `private_key_passphrase` and `token`;
 * {@link checkCredentialSecret} refuses a field the authenticator does not use and a key that is not an
 * RSA PKCS#8 PEM or does not decrypt with its passphrase (the connector's `privateKeyProblem`). What
 * may be shown of a secret ({@link secretHints}): the public key's fingerprint, `SHA256:` + base64 of the SHA-256 of the DER
 * public key (the form Snowflake's `DESC USER` shows as `RSA_PUBLIC_KEY_FP`), or a token's last four
 * characters.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { openSecret, encryptSecret, type SecretBinding, type SecretKeys } from '../secrets/crypto.js';
import type { SnowflakeSessionCache } from '../connectors/snowflake-sessions.js';
import {
  connectSnowflake,
  privateKeyProblem,
  SNOWFLAKE_AUTHENTICATORS,
  SnowflakeSignInError,
  withSnowflake,
  type SnowflakeAuthenticator,
  type SnowflakeSession,
  type SnowflakeSettings,
} from '../connectors/snowflake.js';

/** The secret part of a credential, as stored (encrypted, JSON) and as handed to the connector. */
export type SnowflakeSecret = Pick<SnowflakeSettings, 'password' | 'privateKey' | 'privateKeyPassphrase' | 'token'>;

/** Which secret fields each authenticator needs (body field names). */
const NEEDS: Record<SnowflakeAuthenticator, readonly SecretField[]> = {
  SNOWFLAKE: ['password'],
  SNOWFLAKE_JWT: ['private_key'],
  PROGRAMMATIC_ACCESS_TOKEN: ['token'],
  OAUTH: ['token'],
};
const SECRET_FIELDS = ['password', 'private_key', 'private_key_passphrase', 'token'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

const secretText = z.string().min(1, 'must not be empty').max(16_384, 'must be at most 16384 characters');

/** zod fields of a request body that carries a credential (combine with {@link checkCredentialSecret}). */
export const credentialSecretFields = {
  authenticator: z.enum(SNOWFLAKE_AUTHENTICATORS, { error: `must be one of ${SNOWFLAKE_AUTHENTICATORS.join(', ')}` }),
  password: secretText.optional(),
  private_key: secretText.optional(),
  private_key_passphrase: secretText.optional(),
  token: secretText.optional(),
};

/** A parsed body's credential part. */
export type CredentialSecretInput = { authenticator: SnowflakeAuthenticator } & Partial<Record<SecretField, string>>;

/**
 * zod refinement of a body with {@link credentialSecretFields}: the authenticator's own secret fields
 * are present, no other secret field is, and a private key is a readable RSA PKCS#8 PEM.
 */
export function checkCredentialSecret(v: CredentialSecretInput, ctx: z.RefinementCtx): void {
  const needs = NEEDS[v.authenticator];
  for (const f of SECRET_FIELDS) {
    const allowed = needs.includes(f) || (f === 'private_key_passphrase' && v.authenticator === 'SNOWFLAKE_JWT');
    if (needs.includes(f) && v[f] === undefined)
      ctx.addIssue({ code: 'custom', path: [f], message: `is required with authenticator ${v.authenticator}` });
    if (!allowed && v[f] !== undefined)
      ctx.addIssue({ code: 'custom', path: [f], message: `is not used with authenticator ${v.authenticator}` });
  }
  if (v.authenticator === 'SNOWFLAKE_JWT' && v.private_key !== undefined) {
    const bad = privateKeyProblem(v.private_key, v.private_key_passphrase);
    if (bad)
      ctx.addIssue({
        code: 'custom',
        path: [bad.field === 'privateKey' ? 'private_key' : 'private_key_passphrase'],
        message: bad.problem,
      });
    else if (v.private_key_passphrase !== undefined && !v.private_key.includes('ENCRYPTED PRIVATE KEY')) {
      ctx.addIssue({
        code: 'custom',
        path: ['private_key_passphrase'],
        message: 'is only used with an encrypted private_key',
      });
    }
  }
}

/** The stored secret of a validated body (field names as snowflake-sdk's settings spell them). */
export function secretOf(v: CredentialSecretInput): SnowflakeSecret {
  return {
    ...(v.password !== undefined && { password: v.password }),
    ...(v.private_key !== undefined && { privateKey: v.private_key }),
    ...(v.private_key_passphrase !== undefined && { privateKeyPassphrase: v.private_key_passphrase }),
    ...(v.token !== undefined && { token: v.token }),
  };
}

/** `SHA256:<base64>` of the DER (SubjectPublicKeyInfo) public key of a PKCS#8 PEM private key. */
export function publicKeyFingerprint(privateKeyPem: string, passphrase?: string): string {
  const key = createPrivateKey({ key: privateKeyPem, format: 'pem', ...(passphrase !== undefined && { passphrase }) });
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

/** Encrypts a secret for storage (JSON under the current key, bound to its row). */
export function sealSecret(secret: SnowflakeSecret, keys: SecretKeys, binding: SecretBinding): string {
  return encryptSecret(JSON.stringify(secret), keys, binding);
}

/**
 * Decrypts a stored secret. A v1 value (the first execution-upload release) holds a bare password.
 * @throws SecretError (see {@link openSecret}).
 */
export function unsealSecret(stored: string, keys: SecretKeys, binding: SecretBinding): SnowflakeSecret {
  const o = openSecret(stored, keys, binding);
  return o.legacy ? { password: o.plain } : (JSON.parse(o.plain) as SnowflakeSecret);
}

/** What may be shown of a secret: the key's fingerprint (key pair) or the token's last four characters. */
export interface SecretHints {
  public_key_fingerprint: string | null;
  token_last4: string | null;
}

/** {@link SecretHints} of a validated secret. */
export function secretHints(secret: SnowflakeSecret): SecretHints {
  return {
    public_key_fingerprint: secret.privateKey
      ? publicKeyFingerprint(secret.privateKey, secret.privateKeyPassphrase)
      : null,
    token_last4: secret.token ? secret.token.slice(-4) : null,
  };
}

/**
 * A sign-in failure (the connector's `SnowflakeSignInError`, whose message names the authenticator
 * and user) as an error that also names the stored credential (`label`, e.g. `credential 'prod'`), keeping the
 * driver's Snowflake `code` (390100 incorrect user name or password, 390144 invalid JWT, 394400 invalid
 * programmatic access token, ...) so src/errors.ts classifies it as AuthenticationFailed. Never holds
 * the secret.
 */
export function signInError(err: unknown, label: string): Error & { code?: string } {
  const out: Error & { code?: string } = new Error(`${label}: ${(err as Error)?.message ?? String(err)}`);
  const code = (err as { code?: unknown })?.code;
  if (code !== undefined) out.code = String(code);
  return out;
}

/**
 * Run `fn` on a session signed in with `settings`: a reused one from `sessions` when given (see
 * SnowflakeSessionCache), else a fresh one, closed afterwards.
 * @throws a refused sign-in as {@link signInError} naming `label` (the driver's code kept), or what `fn` throws.
 */
export async function withLabelledSession<T>(
  settings: SnowflakeSettings,
  label: string,
  fn: (sf: SnowflakeSession) => Promise<T>,
  sessions?: SnowflakeSessionCache,
): Promise<T> {
  try {
    return await (sessions ? sessions.withSession(settings, fn) : withSnowflake(settings, fn));
  } catch (err) {
    throw err instanceof SnowflakeSignInError ? signInError(err, label) : err;
  }
}

/** Outcome of {@link testSignIn}: who the session is, or Snowflake's error (code and message). */
export type SignInTest =
  | { ok: true; current_user: string; current_role: string | null; current_warehouse: string | null }
  | { ok: false; error: { code: string | null; message: string } };

/**
 * Signs in with `settings` and reads `CURRENT_USER()`, `CURRENT_ROLE()`, `CURRENT_WAREHOUSE()`; a
 * refused sign-in (or a failing query) is returned, not thrown, as Snowflake's code and a message
 * naming `label`.
 */
export async function testSignIn(settings: SnowflakeSettings, label: string): Promise<SignInTest> {
  const failed = (e: Error & { code?: unknown }): SignInTest => ({
    ok: false,
    error: { code: e.code === undefined ? null : String(e.code), message: e.message },
  });
  let sf: SnowflakeSession;
  try {
    sf = await connectSnowflake(settings);
  } catch (err) {
    return failed(signInError(err, label));
  }
  try {
    const [row] = await sf.query<{ U: string; R: string | null; W: string | null }>(
      'SELECT CURRENT_USER() AS U, CURRENT_ROLE() AS R, CURRENT_WAREHOUSE() AS W',
    );
    return { ok: true, current_user: row!.U, current_role: row!.R ?? null, current_warehouse: row!.W ?? null };
  } catch (err) {
    return failed(err as Error);
  } finally {
    await sf.close();
  }
}
