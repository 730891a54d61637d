/**
 * The kinds of Snowflake credential floe stores (named credentials and per-user configurations alike):
 * a password (`SNOWFLAKE`), a key pair (`SNOWFLAKE_JWT`: an RSA private key as PKCS#8 PEM, possibly
 * encrypted), a programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`) or an OAuth access token
 * (`OAUTH`). snowflake-sdk signs in with each of them itself (its `authenticator`, `privateKey`,
 * `privateKeyPass` and `token` options).
 *
 * Request bodies name the secret fields `password`, `private_key`, `private_key_passphrase` and `token`;
 * {@link checkCredentialSecret} refuses a field the authenticator does not use and a key that is not an
 * RSA PKCS#8 PEM or does not decrypt with its passphrase. What may be shown of a secret
 * ({@link secretHints}): the public key's fingerprint, `SHA256:` + base64 of the SHA-256 of the DER
 * public key (the form Snowflake's `DESC USER` shows as `RSA_PUBLIC_KEY_FP`), or a token's last four
 * characters.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { openSecret, encryptSecret, type SecretBinding, type SecretKeys } from '../secrets/crypto.js';
import { connectSnowflake, type SnowflakeSession, type SnowflakeAuthenticator, type SnowflakeSettings } from '../connectors/snowflake.js';

/** The authenticators a stored credential may use. */
export const SNOWFLAKE_AUTHENTICATORS = ['SNOWFLAKE', 'SNOWFLAKE_JWT', 'PROGRAMMATIC_ACCESS_TOKEN', 'OAUTH'] as const satisfies readonly SnowflakeAuthenticator[];

/** The secret part of a credential, as stored (encrypted, JSON) and as handed to the driver. */
export interface SnowflakeSecret {
  password?: string;
  privateKey?: string;
  privateKeyPassphrase?: string;
  token?: string;
}

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
 * The private key of a PKCS#8 PEM, or a problem naming the field at fault.
 * Node's crypto reads PEM per RFC 7468: `BEGIN PRIVATE KEY` is unencrypted PKCS#8, `BEGIN ENCRYPTED
 * PRIVATE KEY` encrypted PKCS#8; `BEGIN RSA PRIVATE KEY` is PKCS#1, which Snowflake's key-pair guide
 * converts with `openssl pkcs8 -topk8`.
 */
function readPrivateKey(pem: string, passphrase: string | undefined): { key: KeyObject } | { field: SecretField; problem: string } {
  const header = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1];
  if (header !== 'PRIVATE KEY' && header !== 'ENCRYPTED PRIVATE KEY') {
    return { field: 'private_key', problem: `must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)${header ? `, not ${header}; convert it with openssl pkcs8 -topk8` : ''}` };
  }
  const encrypted = header === 'ENCRYPTED PRIVATE KEY';
  if (encrypted && passphrase === undefined) return { field: 'private_key_passphrase', problem: 'is required: private_key is encrypted' };
  if (!encrypted && passphrase !== undefined) return { field: 'private_key_passphrase', problem: 'is only used with an encrypted private_key' };
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(encrypted && { passphrase }) });
  } catch {
    return encrypted ? { field: 'private_key_passphrase', problem: 'does not decrypt private_key' } : { field: 'private_key', problem: 'is not a readable PEM private key' };
  }
  if (key.asymmetricKeyType !== 'rsa') return { field: 'private_key', problem: `must be an RSA key (Snowflake key-pair sign-in), not ${key.asymmetricKeyType ?? 'unknown'}` };
  return { key };
}

/**
 * zod refinement of a body with {@link credentialSecretFields}: the authenticator's own secret fields
 * are present, no other secret field is, and a private key is a readable RSA PKCS#8 PEM.
 */
export function checkCredentialSecret(v: CredentialSecretInput, ctx: z.RefinementCtx): void {
  const needs = NEEDS[v.authenticator];
  for (const f of SECRET_FIELDS) {
    const allowed = needs.includes(f) || (f === 'private_key_passphrase' && v.authenticator === 'SNOWFLAKE_JWT');
    if (needs.includes(f) && v[f] === undefined) ctx.addIssue({ code: 'custom', path: [f], message: `is required with authenticator ${v.authenticator}` });
    if (!allowed && v[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `is not used with authenticator ${v.authenticator}` });
  }
  if (v.authenticator === 'SNOWFLAKE_JWT' && v.private_key !== undefined) {
    const r = readPrivateKey(v.private_key, v.private_key_passphrase);
    if ('problem' in r) ctx.addIssue({ code: 'custom', path: [r.field], message: r.problem });
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
    public_key_fingerprint: secret.privateKey ? publicKeyFingerprint(secret.privateKey, secret.privateKeyPassphrase) : null,
    token_last4: secret.token ? secret.token.slice(-4) : null,
  };
}

/**
 * A sign-in failure as a floe error that names the credential (`label`, e.g. `credential 'prod'`),
 * keeping the driver's Snowflake `code` and `sqlState` (390100 incorrect user name or password, 390144
 * invalid JWT, ...) so it is classified as AuthenticationFailed. The message never holds the secret.
 */
export function signInError(err: unknown, label: string): Error {
  const e = err as { message?: string; code?: unknown; sqlState?: unknown };
  const out = new Error(`Snowflake sign-in with ${label} failed: ${e?.message ?? String(err)}`) as Error & { code?: unknown; sqlState?: unknown };
  if (e?.code !== undefined) out.code = e.code;
  if (e?.sqlState !== undefined) out.sqlState = e.sqlState;
  return out;
}

/** Outcome of {@link testSignIn}: who the session is, or Snowflake's error (code and message). */
export type SignInTest =
  | { ok: true; current_user: string; current_role: string | null; current_warehouse: string | null }
  | { ok: false; error: { code: string | null; sql_state: string | null; message: string } };

/**
 * Signs in with `settings` and reads `CURRENT_USER()`, `CURRENT_ROLE()`, `CURRENT_WAREHOUSE()`; a
 * refused sign-in (or a failing query) is returned, not thrown, as Snowflake's code and a message
 * naming `label`.
 */
export async function testSignIn(settings: SnowflakeSettings, label: string): Promise<SignInTest> {
  const failed = (e: Error & { code?: unknown; sqlState?: unknown }): SignInTest => ({
    ok: false,
    error: { code: e.code === undefined ? null : String(e.code), sql_state: e.sqlState === undefined ? null : String(e.sqlState), message: e.message },
  });
  let sf: SnowflakeSession;
  try {
    sf = await connectSnowflake(settings);
  } catch (err) {
    return failed(signInError(err, label));
  }
  try {
    const [row] = await sf.query<{ U: string; R: string | null; W: string | null }>('SELECT CURRENT_USER() AS U, CURRENT_ROLE() AS R, CURRENT_WAREHOUSE() AS W');
    return { ok: true, current_user: row!.U, current_role: row!.R ?? null, current_warehouse: row!.W ?? null };
  } catch (err) {
    return failed(err as Error);
  } finally {
    await sf.close();
  }
}
