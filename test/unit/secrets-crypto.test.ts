/** AES-256-GCM sealing of stored secrets (src/secrets/crypto.ts): format, key ids, rotation, key parsing. */
import { describe, expect, it } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  encryptSecret,
  generateEncryptionKey,
  keyId,
  openSecret,
  parseEncryptionKey,
  secretKeys,
} from '../../src/secrets/crypto.js';

describe('AES-256-GCM secrets', () => {
  const keys = secretKeys(generateEncryptionKey())!;
  const row = { table: 'snowflake_credentials', name: 'prod', kind: 'SNOWFLAKE' };

  it('round-trips, with a fresh IV each time and the key id in front, and never contains the plain text', () => {
    const a = encryptSecret('s3cret-päss', keys, row);
    const b = encryptSecret('s3cret-päss', keys, row);
    expect(a).toMatch(/^v2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a.split('.')[1]).toBe(keyId(keys.current));
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(openSecret(a, keys, row)).toEqual({ plain: 's3cret-päss', stale: false, legacy: false });
  });

  it('refuses another key, another row or kind, a tampered value and bad formats', () => {
    const a = encryptSecret('pw', keys, row);
    expect(() => openSecret(a, secretKeys(generateEncryptionKey())!, row)).toThrow(/neither FLOE_ENCRYPTION_KEY nor/);
    expect(() => openSecret(a, keys, { ...row, name: 'other' })).toThrow(/does not authenticate/);
    expect(() => openSecret(a, keys, { ...row, kind: 'OAUTH' })).toThrow(/does not authenticate/);
    expect(() => openSecret(a, keys, { ...row, table: 'snowflake_configurations' })).toThrow(/does not authenticate/);
    const parts = a.split('.');
    const ct = Buffer.from(parts[4], 'base64url');
    ct[0] ^= 1;
    expect(() => openSecret([...parts.slice(0, 4), ct.toString('base64url')].join('.'), keys, row)).toThrow(
      /does not authenticate/,
    );
    expect(() => openSecret('plain', keys, row)).toThrow(/v2\./);
  });

  it('reads values under the previous key (stale) and v1 values (legacy), with either key', () => {
    const old = secretKeys(generateEncryptionKey())!;
    const rotated = { current: keys.current, previous: old.current };
    expect(openSecret(encryptSecret('pw', old, row), rotated, row)).toEqual({
      plain: 'pw',
      stale: true,
      legacy: false,
    });
    // v1: `v1.<iv>.<tag>.<ct>`, the owner id alone as associated data, no key id.
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', old.current, iv);
    c.setAAD(Buffer.from('user-1'));
    const ct = Buffer.concat([c.update('legacy-pw'), c.final()]);
    const v1 = ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join(
      '.',
    );
    const binding = { table: 'snowflake_configurations', name: 'user-1', kind: 'SNOWFLAKE' };
    expect(openSecret(v1, rotated, binding)).toEqual({ plain: 'legacy-pw', stale: true, legacy: true });
    expect(openSecret(v1, old, binding).plain).toBe('legacy-pw');
    expect(() => openSecret(v1, keys, binding)).toThrow(/does not authenticate/);
  });

  it('parses hex and base64 keys of 32 bytes only', () => {
    const hex = generateEncryptionKey();
    expect(parseEncryptionKey(hex)).toHaveLength(32);
    expect(parseEncryptionKey(Buffer.from(hex, 'hex').toString('base64'))).toEqual(Buffer.from(hex, 'hex'));
    expect(() => parseEncryptionKey('abc')).toThrow(/32 bytes/);
    expect(() => parseEncryptionKey('00'.repeat(31))).toThrow(/32 bytes/);
  });
});
