/**
 * Credentials of the emulator's users: scrypt password hashes, SHA-256 digests of the random tokens it
 * hands out (programmatic access tokens, OAuth access tokens), RSA public keys and key-pair JWTs, checked
 * as Snowflake documents them ("Key-pair authentication", "Programmatic access tokens").
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { compactVerify } from 'jose';
import { invalidPublicKey } from './errors.js';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** scrypt cost (Node's default N = 2^14, r = 8, p = 1) and output length in bytes. */
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const SCRYPT_BYTES = 32;
/** Snowflake accepts a key-pair JWT for at most one hour after it was issued, in seconds. */
const JWT_MAX_LIFETIME_SECONDS = 3600;
/** Clock skew tolerated on a JWT's `iat`, in seconds. */
const JWT_CLOCK_SKEW_SECONDS = 60;

/** A stored token: the SHA-256 of its secret and when it expires. */
export interface StoredToken {
  sha256: string;
  expiresAt: string;
}

export const sha256Hex = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

/** Constant-time equality of two hex digests of the same length. */
function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/**
 * Normalises an RSA public key given as PEM (`-----BEGIN PUBLIC KEY-----`) or as the bare base64
 * Snowflake's documentation puts in `RSA_PUBLIC_KEY = '...'`. Returns the base64 DER text.
 * Throws a SnowflakeError when it is not an RSA SubjectPublicKeyInfo.
 */
export function normalizePublicKey(text: string): string {
  const b64 = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  try {
    const key = crypto.createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return key.export({ format: 'der', type: 'spki' }).toString('base64');
  } catch {
    throw invalidPublicKey();
  }
}

/** `SHA256:<base64 of the SHA-256 of the DER public key>`, as DESC USER shows RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(base64Der: string): string {
  return `SHA256:${crypto.createHash('sha256').update(Buffer.from(base64Der, 'base64')).digest('base64')}`;
}

/** `scrypt$N$r$p$salt$hash` (base64) of a password, with a random 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT_BYTES, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** True when `password` matches a stored `scrypt$...` hash (constant-time comparison). */
export async function passwordMatches(stored: string | undefined, password: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = (stored ?? '').split('$');
  if (kind !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return crypto.timingSafeEqual(actual, expected);
}

/** A random secret handed out once (PAT, OAuth access token): 256 bits, base64url. */
export function newSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** The unexpired token whose secret is `secret`, if any. */
export function liveToken<T extends StoredToken>(tokens: T[], secret: string): T | undefined {
  const digest = sha256Hex(secret);
  const at = Date.now();
  return tokens.find((t) => sameDigest(t.sha256, digest) && Date.parse(t.expiresAt) > at);
}

/** Seconds since the epoch of a JWT time claim; snowflake-sdk for Node (auth_keypair.js) writes milliseconds, which Snowflake accepts, so values past 10^11 are read as milliseconds. */
function epochSeconds(v: unknown): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return v > 1e11 ? v / 1000 : v;
}

/**
 * A key-pair JWT as Snowflake checks it: RS256, signed by the key whose fingerprint `iss` names
 * (RSA_PUBLIC_KEY or RSA_PUBLIC_KEY_2), `iss` = `ACCOUNT.USER.SHA256:<fp>`, `sub` = `ACCOUNT.USER`,
 * `exp` in the future and at most an hour after `iat`.
 */
export async function jwtValid(
  keys: (string | undefined)[],
  login: string,
  account: string,
  jwt: string,
): Promise<boolean> {
  const subject = `${account.toUpperCase()}.${login.toUpperCase()}`;
  for (const der of keys) {
    if (!der) continue;
    const key = crypto.createPublicKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'spki' });
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(jwt, key, { algorithms: ['RS256'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const iat = epochSeconds(claims.iat);
    const exp = epochSeconds(claims.exp);
    const t = Date.now() / 1000;
    return (
      claims.iss === `${subject}.${publicKeyFingerprint(der)}` &&
      claims.sub === subject &&
      iat !== null &&
      exp !== null &&
      iat <= t + JWT_CLOCK_SKEW_SECONDS &&
      exp > t &&
      exp - iat <= JWT_MAX_LIFETIME_SECONDS
    );
  }
  return false;
}
