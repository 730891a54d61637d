/** Execution upload: the generated Snowflake SQL of the load protocol, pinned. */
import { describe, expect, it } from 'vitest';
import * as S from '../../src/jobs/execution-upload/sql.js';

describe('upload SQL', () => {
  const target: S.SfName = ['DB', 'S', 'T'];
  const cols = [
    { key: 'id', name: 'ID', sfType: 'NUMBER(38,0)' as const },
    { key: 'a"b', name: 'a"b', sfType: 'VARIANT' as const },
  ];
  const raw = S.rawName(target);

  it('is pinned', () => {
    expect(S.createRawSql(raw, cols)).toBe(
      'CREATE OR REPLACE TEMPORARY TABLE "DB"."S"."T__FLOE_RAW" ("ID" VARCHAR, "a""b" VARCHAR)',
    );
    expect(S.insertRawSql(raw, cols)).toBe('INSERT INTO "DB"."S"."T__FLOE_RAW" ("ID", "a""b") VALUES (?, ?)');
    expect(S.copyRawSql(raw, '@"DB"."S"."STG"/rows/')).toBe(
      `COPY INTO "DB"."S"."T__FLOE_RAW" FROM @"DB"."S"."STG"/rows/ FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE) PURGE = TRUE`,
    );
    expect(S.replaceTargetSql(target, raw, cols)).toBe(
      'CREATE OR REPLACE TABLE "DB"."S"."T" AS SELECT "ID"::NUMBER(38,0) AS "ID", PARSE_JSON("a""b") AS "a""b" FROM "DB"."S"."T__FLOE_RAW"',
    );
    expect(S.dropRawSql(raw)).toBe('DROP TABLE IF EXISTS "DB"."S"."T__FLOE_RAW"');
    expect(S.countSql(target)).toBe('SELECT COUNT(*) AS N FROM "DB"."S"."T"');
  });
});
