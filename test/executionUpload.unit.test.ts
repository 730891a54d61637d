/** Execution upload: crypto, column inference, names and the generated Snowflake SQL (pinned). */
import { describe, expect, it } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  encryptSecret,
  generateEncryptionKey,
  keyId,
  openSecret,
  parseEncryptionKey,
  secretKeys,
} from '../src/secrets/crypto.js';
import { ColumnStats, columnNames, loadText, targetTableName, type JsonKind } from '../src/uploads/infer.js';
import * as S from '../src/uploads/sql.js';

const typeOf = (values: [JsonKind, string][]) => {
  const s = new ColumnStats();
  for (const [k, j] of values) s.observe(k, j);
  return s.type();
};

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

describe('column inference', () => {
  it('maps JSON values to Snowflake types', () => {
    expect(typeOf([])).toBe('VARCHAR');
    expect(typeOf([['null', 'null']])).toBe('VARCHAR');
    expect(
      typeOf([
        ['boolean', 'true'],
        ['null', 'null'],
        ['boolean', 'false'],
      ]),
    ).toBe('BOOLEAN');
    expect(
      typeOf([
        ['number', '1'],
        ['number', '-20'],
      ]),
    ).toBe('NUMBER(38,0)');
    expect(
      typeOf([
        ['number', '1.5'],
        ['number', '2.125'],
      ]),
    ).toBe('NUMBER(38,3)');
    expect(typeOf([['number', '1'.repeat(38)]])).toBe('NUMBER(38,0)');
    expect(typeOf([['number', '1'.repeat(36) + '.123']])).toBe('FLOAT');
    expect(typeOf([['string', '"2024-02-29"']])).toBe('DATE');
    expect(typeOf([['string', '"2023-02-29"']])).toBe('VARCHAR');
    expect(
      typeOf([
        ['string', '"2024-01-15T10:00:00+05:45"'],
        ['string', '"2024-01-15 10:00:00Z"'],
      ]),
    ).toBe('TIMESTAMP_TZ');
    expect(typeOf([['string', '"2024-01-15T10:00:00.123456789"']])).toBe('TIMESTAMP_NTZ');
    expect(
      typeOf([
        ['string', '"2024-01-15T10:00:00"'],
        ['string', '"2024-01-15T10:00:00Z"'],
      ]),
    ).toBe('VARCHAR');
    expect(
      typeOf([
        ['string', '"x"'],
        ['number', '1'],
      ]),
    ).toBe('VARCHAR');
    expect(
      typeOf([
        ['object', '{"a": 1}'],
        ['string', '"x"'],
      ]),
    ).toBe('VARIANT');
    expect(typeOf([['array', '[1]']])).toBe('VARIANT');
  });

  it('loads exact text per type', () => {
    expect(loadText('null', 'null', 'VARCHAR')).toBeNull();
    expect(loadText('string', '"a \\"b\\""', 'VARCHAR')).toBe('a "b"');
    expect(loadText('string', '"x"', 'VARIANT')).toBe('"x"');
    expect(loadText('number', '12345678901234567890123', 'NUMBER(38,0)')).toBe('12345678901234567890123');
    expect(loadText('boolean', 'true', 'BOOLEAN')).toBe('true');
  });

  it('names columns: plain keys upper-cased, others kept, collisions numbered', () => {
    expect(columnNames(['id', 'Name', 'a b', 'ID', '', 'ok$'])).toEqual(['ID', 'NAME', 'a b', 'ID_2', 'COLUMN', 'OK$']);
  });

  it('names target tables WORKFLOW_EXECUTION_<date>_<id>', () => {
    const d = new Date('2024-01-15T23:59:59Z');
    expect(targetTableName('exec_12345678', d)).toBe('WORKFLOW_EXECUTION_20240115_EXEC_12345678');
    expect(targetTableName('a-b', d)).toMatch(/^WORKFLOW_EXECUTION_20240115_A_B_[0-9A-F]{8}$/);
    expect(targetTableName('a-b', d)).not.toBe(targetTableName('a.b', d));
  });
});

describe('upload SQL', () => {
  const target: S.SfName = ['DB', 'S', 'T'];
  const cols = [
    { key: 'id', name: 'ID', sfType: 'NUMBER(38,0)' as const },
    { key: 'a"b', name: 'a"b', sfType: 'VARIANT' as const },
  ];
  const { raw, load } = S.helperNames(target);

  it('is pinned', () => {
    expect(S.createRawSql(raw, cols)).toBe(
      'CREATE OR REPLACE TEMPORARY TABLE "DB"."S"."T__FLOE_RAW" ("ID" VARCHAR, "a""b" VARCHAR)',
    );
    expect(S.insertRawSql(raw, cols)).toBe('INSERT INTO "DB"."S"."T__FLOE_RAW" ("ID", "a""b") VALUES (?, ?)');
    expect(S.copyRawSql(raw, '@"DB"."S"."STG"/rows/')).toBe(
      `COPY INTO "DB"."S"."T__FLOE_RAW" FROM @"DB"."S"."STG"/rows/ FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE) PURGE = TRUE`,
    );
    expect(S.createLoadSql(load, cols)).toBe(
      'CREATE OR REPLACE TABLE "DB"."S"."T__FLOE_LOAD" ("ID" NUMBER(38,0), "a""b" VARIANT)',
    );
    expect(S.fillLoadSql(load, raw, cols)).toBe(
      'INSERT INTO "DB"."S"."T__FLOE_LOAD" ("ID", "a""b") SELECT "ID"::NUMBER(38,0), PARSE_JSON("a""b") FROM "DB"."S"."T__FLOE_RAW"',
    );
    expect(S.publishSql(target, load, raw)).toEqual([
      'CREATE TABLE IF NOT EXISTS "DB"."S"."T" LIKE "DB"."S"."T__FLOE_LOAD"',
      'ALTER TABLE "DB"."S"."T" SWAP WITH "DB"."S"."T__FLOE_LOAD"',
      'DROP TABLE IF EXISTS "DB"."S"."T__FLOE_LOAD"',
      'DROP TABLE IF EXISTS "DB"."S"."T__FLOE_RAW"',
    ]);
    expect(S.countSql(target)).toBe('SELECT COUNT(*) AS N FROM "DB"."S"."T"');
  });
});
