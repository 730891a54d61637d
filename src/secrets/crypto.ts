/**
 * Every secret floe stores (named credentials, per-user Snowflake configurations) is encrypted here, at
 * rest, with AES-256-GCM (NIST SP 800-38D) under a 32-byte key from the environment
 * (`FLOE_ENCRYPTION_KEY`, and during a key rotation `FLOE_ENCRYPTION_KEY_PREVIOUS`; read by
 * src/config.ts).
 *
 * Stored form: `v2.<key id>.<iv>.<tag>.<ciphertext>`, each part base64url; a fresh random 96-bit IV per
 * value and a 128-bit tag. The key id is the first 8 bytes of HMAC-SHA256(key, "floe-key-id"): it tells
 * which key a value is under (so a rotation recognises values already re-encrypted) without revealing
 * the key. The row that owns the value is bound as associated data ({@link SecretBinding}: the table,
 * the row's name and the kind of secret), so a ciphertext copied to another row, or relabelled as
 * another kind, does not decrypt.
 *
 * `v1.<iv>.<tag>.<ciphertext>` values (the first execution-upload release: a password, with the user id
 * alone as associated data, no key id) are still read; `npm run rotate-key` rewrites them as v2.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a key is malformed or a ciphertext does not authenticate. Never carries secret material. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The keys a process holds: `current` encrypts and decrypts; `previous` (during a rotation) only decrypts. */
export interface SecretKeys {
  current: Buffer;
  previous?: Buffer;
}

/**
 * The row a secret belongs to, bound to the ciphertext as associated data.
 * `table`: e.g. `snowflake_credentials`; `name`: the row's key (credential name, user id);
 * `kind`: what the secret is (the Snowflake authenticator).
 */
export interface SecretBinding {
  table: string;
  name: string;
  kind: string;
}

/**
 * Parses an encryption key: 64 hex characters, or base64/base64url of exactly 32 bytes.
 * @throws SecretError naming the expected forms (not the value).
 */
export function parseEncryptionKey(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    if (b.length === 32) return b;
  }
  throw new SecretError('encryption key must be 32 bytes: 64 hex characters or 44 base64 characters');
}

/** A new random key as 64 hex characters (for `FLOE_ENCRYPTION_KEY`). */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The keys of a configuration (`FLOE_ENCRYPTION_KEY`, `FLOE_ENCRYPTION_KEY_PREVIOUS` as text), or
 * undefined when no current key is configured.
 * @throws SecretError when a key is malformed.
 */
export function secretKeys(current: string | undefined, previous?: string): SecretKeys | undefined {
  if (current === undefined) return undefined;
  return {
    current: parseEncryptionKey(current),
    ...(previous !== undefined && { previous: parseEncryptionKey(previous) }),
  };
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretError('AES-256-GCM key must be 32 bytes');
}

/** The key id stored in front of a v2 value (11 base64url characters). */
export function keyId(key: Buffer): string {
  checkKey(key);
  return createHmac('sha256', key).update('floe-key-id').digest().subarray(0, 8).toString('base64url');
}

function aad(b: SecretBinding): Buffer {
  return Buffer.from(['floe-secret', b.table, b.name, b.kind].join('\0'), 'utf8');
}

/**
 * Encrypts `plain` under `keys.current`, binding `binding` as associated data.
 * @returns `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export function encryptSecret(plain: string, keys: SecretKeys, binding: SecretBinding): string {
  const key = keys.current;
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(binding));
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [
    'v2',
    keyId(key),
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ct.toString('base64url'),
  ].join('.');
}

function open(key: Buffer, ivText: string, tagText: string, ctText: string, associatedData: Buffer): string {
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
    throw new SecretError('encrypted value has a bad IV or tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError('encrypted value does not authenticate (wrong key, wrong owner or tampered)');
  }
}

/** A decrypted value and whether it should be rewritten (under the previous key, or in the v1 form). */
export interface OpenedSecret {
  plain: string;
  /** True when the value is not a v2 value under `keys.current`: a rotation re-encrypts it. */
  stale: boolean;
  /** True for a v1 value (its plain text is a bare password). */
  legacy: boolean;
}

/**
 * Decrypts a stored value with whichever of `keys` it is under.
 * v2: the key id picks the key. v1: the current key, then the previous one, with the owner id
 * (`binding.name`) alone as associated data.
 * @throws SecretError when the format is wrong, the value is under neither key, the binding differs
 *   or the value was tampered with (GCM authentication fails). The message never holds the value.
 */
export function openSecret(stored: string, keys: SecretKeys, binding: SecretBinding): OpenedSecret {
  const parts = stored.split('.');
  if (parts[0] === 'v2' && parts.length === 5) {
    const [, kid, iv, tag, ct] = parts;
    const key = [keys.current, keys.previous].find((k) => k !== undefined && keyId(k) === kid);
    if (!key)
      throw new SecretError(
        'encrypted value is under a key that is neither FLOE_ENCRYPTION_KEY nor FLOE_ENCRYPTION_KEY_PREVIOUS',
      );
    return { plain: open(key, iv, tag, ct, aad(binding)), stale: key !== keys.current, legacy: false };
  }
  if (parts[0] === 'v1' && parts.length === 4) {
    const [, iv, tag, ct] = parts;
    const legacyAad = Buffer.from(binding.name, 'utf8');
    try {
      return { plain: open(keys.current, iv, tag, ct, legacyAad), stale: true, legacy: true };
    } catch (err) {
      if (!keys.previous) throw err;
      return { plain: open(keys.previous, iv, tag, ct, legacyAad), stale: true, legacy: true };
    }
  }
  throw new SecretError('encrypted value is not in v2.<key id>.<iv>.<tag>.<ciphertext> form');
}
