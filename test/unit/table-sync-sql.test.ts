/**
 * Table sync SQL texts (src/jobs/table-sync/sql.ts) and the stage statements it uses
 * (src/connectors/snowflake-stage.ts), pinned character for character: identifiers quoted, literals
 * validated, casts as the type map says.
 */
import { describe, expect, it } from 'vitest';
import { snowflakeStagePath } from '../../src/sql/quote.js';
import { readParquetSource, typedSelect } from '../../src/sql/typemap.js';
import * as S from '../../src/jobs/table-sync/sql.js';
import * as Stage from '../../src/connectors/snowflake-stage.js';
import { cols, id, t, upd } from '../helpers/table-sync-columns.js';

describe('table sync SQL', () => {
  it('Snowflake metadata', () => {
    expect(S.columnsQuery({ ...t, schema: "S'x" })).toBe(
      `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION, IS_NULLABLE, ORDINAL_POSITION FROM "DB".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'S''x' AND TABLE_NAME = 'T' ORDER BY ORDINAL_POSITION`,
    );
    expect(S.tableStatsQuery(t)).toBe(
      `SELECT ROW_COUNT, BYTES, LAST_ALTERED FROM "DB".INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'S' AND TABLE_NAME = 'T'`,
    );
    expect(S.countQuery(t)).toBe('SELECT COUNT(*) AS N FROM "DB"."S"."T"');
  });
  it('unload, list, get, remove', () => {
    const p = snowflakeStagePath(['W', 'PUBLIC', 'FLOE_STAGE'], 'j1');
    const where = S.whereClause({ watermark: upd, lower: '2024-01-01 00:00:00.000000', inclusive: true });
    expect(Stage.unloadSql(p, S.unloadSelect(t, cols, where), 64 << 20)).toBe(
      `COPY INTO @"W"."PUBLIC"."FLOE_STAGE"/j1/ FROM (SELECT "ID", CONVERT_TIMEZONE('UTC', "UPDATED")::TIMESTAMP_NTZ AS "UPDATED", TO_JSON("v""q") AS "v""q" FROM "DB"."S"."T" WHERE "UPDATED" >= '2024-01-01 00:00:00.000000 +00:00'::TIMESTAMP_TZ) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = 67108864`,
    );
    expect(Stage.createStageSql(['W', 'PUBLIC', 'FLOE_STAGE'])).toBe(
      'CREATE STAGE IF NOT EXISTS "W"."PUBLIC"."FLOE_STAGE"',
    );
    expect(Stage.listSql(p)).toBe('LIST @"W"."PUBLIC"."FLOE_STAGE"/j1/');
    expect(Stage.getSql(p, '/tmp/x', 8)).toBe(`GET @"W"."PUBLIC"."FLOE_STAGE"/j1/ 'file:///tmp/x/' PARALLEL = 8`);
    expect(Stage.removeSql(p)).toBe('REMOVE @"W"."PUBLIC"."FLOE_STAGE"/j1/');
  });
  it('stream pages on (watermark, key)', () => {
    const where = S.whereClause(
      { watermark: upd, lower: '2024-01-01 00:00:00.000000', inclusive: true },
      {
        watermark: upd,
        key: id,
        afterWatermark: '2024-01-02 00:00:00.5',
        afterKey: '10000000000000000000000000000000000001',
      },
    );
    expect(S.streamSelect(t, cols.slice(0, 2), { where, orderBy: [upd, id], limit: 5000 })).toBe(
      `SELECT "ID", TO_VARCHAR(CONVERT_TIMEZONE('UTC', "UPDATED"), 'YYYY-MM-DD HH24:MI:SS.FF9') FROM "DB"."S"."T" WHERE "UPDATED" >= '2024-01-01 00:00:00.000000 +00:00'::TIMESTAMP_TZ AND ("UPDATED" > '2024-01-02 00:00:00.500000 +00:00'::TIMESTAMP_TZ OR ("UPDATED" = '2024-01-02 00:00:00.500000 +00:00'::TIMESTAMP_TZ AND "ID" > 10000000000000000000000000000000000001)) ORDER BY "UPDATED", "ID" LIMIT 5000`,
    );
    expect(S.whereClause({ watermark: id, lower: '5', inclusive: false })).toBe('"ID" > 5');
  });
  it("a full-refresh stream reads the whole table's COUNT(*) in the statement that reads its rows", () => {
    const where = S.whereClause(null, { watermark: id, key: null, afterWatermark: '7', afterKey: null });
    expect(S.streamSelect(t, cols.slice(0, 1), { where, orderBy: [id], limit: 5, countSource: true })).toBe(
      'SELECT "ID", (SELECT COUNT(*) FROM "DB"."S"."T") AS "_FLOE_SOURCE_ROWS" FROM "DB"."S"."T" WHERE "ID" > 7 ORDER BY "ID" LIMIT 5',
    );
  });
  it('DuckDB DDL, load, merge, state', () => {
    expect(S.createTableSql(['S', 'T'], cols)).toBe(
      'CREATE TABLE "S"."T" ("ID" DECIMAL(38,0), "UPDATED" TIMESTAMPTZ, "v""q" JSON)',
    );
    expect(S.addColumnSql(['S', 'T'], id)).toBe('ALTER TABLE "S"."T" ADD COLUMN "ID" DECIMAL(38,0)');
    expect(S.widenColumnSql(['S', 'T'], id)).toBe('ALTER TABLE "S"."T" ALTER COLUMN "ID" SET DATA TYPE DECIMAL(38,0)');
    const sel = typedSelect(cols, 'parquet', readParquetSource(['/d/a.parquet', '/d/b.parquet']));
    expect(sel).toBe(
      `SELECT CAST("ID" AS DECIMAL(38,0)) AS "ID", make_timestamptz(epoch_us(CAST("UPDATED" AS TIMESTAMP))) AS "UPDATED", CAST("v""q" AS JSON) AS "v""q" FROM read_parquet(['/d/a.parquet', '/d/b.parquet'])`,
    );
    expect(S.insertSelectSql(['S', '_floe_staging_T'], cols, 'SELECT 1')).toBe(
      'INSERT INTO "S"."_floe_staging_T" ("ID", "UPDATED", "v""q") SELECT 1',
    );
    expect(S.dedupSelect('SELECT 1', [id], upd)).toBe(
      'SELECT * FROM (SELECT 1) QUALIFY row_number() OVER (PARTITION BY "ID" ORDER BY "UPDATED" DESC) = 1',
    );
    expect(S.mergeSql(['S', 'T'], cols, [id], 'SELECT 1')).toBe(
      'MERGE INTO "S"."T" AS t USING (SELECT 1) AS s ON t."ID" = s."ID" WHEN MATCHED THEN UPDATE SET "UPDATED" = s."UPDATED", "v""q" = s."v""q" WHEN NOT MATCHED THEN INSERT ("ID", "UPDATED", "v""q") VALUES (s."ID", s."UPDATED", s."v""q")',
    );
    expect(S.canonicalTextExpr(upd, 'max("UPDATED")')).toBe(
      `strftime(make_timestamp(epoch_us(max("UPDATED"))), '%Y-%m-%d %H:%M:%S.%f')`,
    );
    expect(S.defaultTarget(t)).toEqual({ schema: 'DB__S', table: 'T' });
    expect(S.stagingParts(S.defaultTarget(t))).toEqual(['DB__S', '_floe_staging_T']);
    expect(S.matchedKeysSql(['S', 'T'], [id], 'temp.main."b"')).toBe(
      'SELECT count(*) FROM temp.main."b" AS s WHERE EXISTS (SELECT 1 FROM "S"."T" AS t WHERE t."ID" = s."ID")',
    );
  });
});

describe('stream SELECT', () => {
  it('has Snowflake format dates, times (with nanoseconds) and timestamps (TZ/LTZ at UTC) as text', () => {
    expect(S.streamExpr({ ...id, name: 'TM', family: 'TIME' })).toBe(`TO_VARCHAR("TM", 'HH24:MI:SS.FF9')`);
    expect(S.streamExpr({ ...id, name: 'D', family: 'DATE' })).toBe(`TO_VARCHAR("D", 'YYYY-MM-DD')`);
    expect(S.streamExpr({ ...id, name: 'N', family: 'TIMESTAMP_NTZ' })).toBe(
      `TO_VARCHAR("N", 'YYYY-MM-DD HH24:MI:SS.FF9')`,
    );
    expect(S.streamExpr({ ...id, name: 'L', family: 'TIMESTAMP_LTZ' })).toBe(
      `TO_VARCHAR(CONVERT_TIMEZONE('UTC', "L"), 'YYYY-MM-DD HH24:MI:SS.FF9')`,
    );
    expect(S.streamExpr(id)).toBe('"ID"');
  });
});

describe('job segments', () => {
  it('keep safe ids and hash the rest so two ids never share a stage path', () => {
    expect(Stage.jobSegment('tableSync-DB.S.T-20240102030405-ab12')).toBe('tableSync-DB.S.T-20240102030405-ab12');
    const a = Stage.jobSegment('sched/x y');
    expect(a).toMatch(/^sched_x_y-[0-9a-f]{8}$/);
    expect(Stage.jobSegment('sched_x/y')).not.toBe(a);
  });
});
