/** Watermark sync SQL text, pinned: paging on (watermark, pk), batch reads, MERGE, type map, names. */
import { describe, expect, it } from 'vitest';
import * as Q from '../../src/jobs/watermark-sync/sql.js';
import { sourceParts, targetParts } from '../../src/jobs/watermark-sync/names.js';
import { snowflakeTypeFor } from '../../src/jobs/watermark-sync/typemap.js';

describe('watermark sync SQL', () => {
  const plan = { watermarkType: 'timestamp with time zone', pkTypes: ['integer', 'text'] };
  it('pages on (watermark, pk) with typed binds', () => {
    expect(Q.afterPredicate('updated_at', ['id', 'k'], plan, { watermark: '2024-01-01', pk: ['1', 'a'] })).toEqual({
      sql: '("updated_at", "id", "k") > ($1::timestamp with time zone, $2::integer, $3::text)',
      params: ['2024-01-01', '1', 'a'],
    });
    expect(Q.afterPredicate('updated_at', ['id'], plan, { watermark: 'x', pk: null }).sql).toBe(
      '"updated_at" > $1::timestamp with time zone',
    );
    expect(Q.afterPredicate('updated_at', ['id'], plan, null).sql).toBe('"updated_at" IS NOT NULL');
  });

  it('reads a batch ordered by the table columns, not the text aliases of the same name', () => {
    const s = Q.batchSelectSql(
      ['public', 't'],
      'updated_at',
      ['id'],
      { ...plan, pkTypes: ['integer'] } as never,
      [{ alias: 'id', expr: '"id"::text' }],
      { column: 'deleted', isBoolean: true },
      { watermark: 'w', pk: ['9'] },
      500,
    );
    expect(s.sql).toBe(
      'SELECT "id"::text AS "id", "updated_at"::text AS "__floe_wm", "id"::text AS "__floe_pk0", COALESCE("deleted", false)::text AS "__floe_del" FROM "public"."t" AS "__floe_src" WHERE ("updated_at", "id") > ($1::timestamp with time zone, $2::integer) ORDER BY "__floe_src"."updated_at", "__floe_src"."id" LIMIT 500',
    );
  });

  it("reads the primary keys of a failing batch's first rows", () => {
    const keys = Q.batchKeysSql(
      {
        source: ['public', 't'],
        watermarkColumn: 'updated_at',
        pk: ['id', 'k'],
        watermarkType: plan.watermarkType,
        pkTypes: ['integer', 'text'],
      },
      { watermark: 'w', pk: ['9', 'a'] },
      100,
    );
    expect(keys).toEqual({
      sql: 'SELECT ARRAY["id"::text, "k"::text] AS keys FROM "public"."t" AS "__floe_src" WHERE ("updated_at", "id", "k") > ($1::timestamp with time zone, $2::integer, $3::text) ORDER BY "__floe_src"."updated_at", "__floe_src"."id", "__floe_src"."k" LIMIT 100',
      params: ['w', '9', 'a'],
    });
  });

  it('MERGEs with per-key dedup (latest watermark wins) and soft delete', () => {
    const sql = Q.mergeSql(
      ['DB', 'S', 'T'],
      ['DB', 'S', 'STG'],
      [
        { target: 'ID', sfType: 'NUMBER(38,0)' },
        { target: 'V', sfType: 'VARIANT' },
        { target: 'TS', sfType: 'TIMESTAMP_TZ' },
      ],
      ['ID'],
      true,
    );
    expect(sql).toBe(`MERGE INTO "DB"."S"."T" AS t
USING (SELECT * FROM "DB"."S"."STG" QUALIFY ROW_NUMBER() OVER (PARTITION BY "ID" ORDER BY "_FLOE_SEQ"::NUMBER(38,0) DESC) = 1) AS s
ON t."ID" = s."ID"::NUMBER(38,0)
WHEN MATCHED AND s."_FLOE_DEL" = 'true' THEN DELETE
WHEN MATCHED THEN UPDATE SET "V" = PARSE_JSON(s."V"), "TS" = s."TS"::TIMESTAMP_TZ
WHEN NOT MATCHED AND (s."_FLOE_DEL" IS NULL OR s."_FLOE_DEL" <> 'true') THEN INSERT ("ID", "V", "TS") VALUES (s."ID"::NUMBER(38,0), PARSE_JSON(s."V"), s."TS"::TIMESTAMP_TZ)`);
  });

  it('maps PostgreSQL types like PeerDB', () => {
    const m = (data_type: string, p: number | null = null, s: number | null = null) =>
      snowflakeTypeFor({ data_type, numeric_precision: p, numeric_scale: s });
    expect([
      m('numeric'),
      m('numeric', 12, 4),
      m('numeric', 50, 2),
      m('bigint'),
      m('timestamp with time zone'),
      m('jsonb'),
      m('uuid'),
      m('text'),
      m('bytea'),
    ]).toEqual([
      'NUMBER(38,20)',
      'NUMBER(12,4)',
      'VARCHAR',
      'NUMBER(38,0)',
      'TIMESTAMP_TZ',
      'VARIANT',
      'VARCHAR',
      'VARCHAR',
      'BINARY',
    ]);
  });

  it('parses names like each dialect', () => {
    expect(sourceParts('users')).toEqual(['public', 'users']);
    expect(sourceParts('Sales."Order Items"')).toEqual(['sales', 'Order Items']);
    expect(targetParts('analytics.users', 'DB')).toEqual(['DB', 'ANALYTICS', 'USERS']);
    expect(() => targetParts('users', 'DB')).toThrow(/schema.table/);
  });
});
