/**
 * Per-user Snowflake passwords at rest: AES-256-GCM (NIST SP 800-38D) with a 32-byte key from the
 * environment (FLOE_ENCRYPTION_KEY, read by src/config.ts and handed in as a Buffer).
 *
 * Stored form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url; a fresh random 96-bit IV per value,
 * a 128-bit tag. The user id is bound as associated data, so a ciphertext copied to another user's row
 * does not decrypt. Plain text and key never leave this module except as the decrypt result, which
 * only activities call (DESIGN §3).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a key is malformed or a ciphertext does not authenticate. Never carries secret material. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
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

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretError('AES-256-GCM key must be 32 bytes');
}

/**
 * Encrypts `plain` with `key`, binding `associatedData` (the owner's user id).
 * @returns `v1.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export function encryptSecret(plain: string, key: Buffer, associatedData: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

/**
 * Decrypts a value made by {@link encryptSecret} with the same key and associated data.
 * @throws SecretError when the format is wrong, the key differs, the associated data differs or the
 *   value was tampered with (GCM authentication fails).
 */
export function decryptSecret(stored: string, key: Buffer, associatedData: string): string {
  checkKey(key);
  const parts = stored.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretError('encrypted value is not in v1.<iv>.<tag>.<ciphertext> form');
  const iv = Buffer.from(parts[1], 'base64url');
  const tag = Buffer.from(parts[2], 'base64url');
  const ct = Buffer.from(parts[3], 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretError('encrypted value has a bad IV or tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError('encrypted value does not authenticate (wrong key, wrong owner or tampered)');
  }
}
