/**
 * The stream method's text → wide DECIMAL load (`loadExpr(col, 'text')` for DECIMAL(p,s), p > 18) takes
 * a faster route than `CAST(text AS DECIMAL(p,s))`; it must give the same value, or fail, for every
 * text. Checked in a real in-memory DuckDB against the plain cast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { loadExpr, mapColumn } from '../../src/sql/typemap.js';
import { duckDbLiteral } from '../../src/sql/quote.js';

const number = (p: number, s: number) =>
  mapColumn('DB.S.T', { COLUMN_NAME: 'C', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: p, NUMERIC_SCALE: s });

/** Decimal texts as Snowflake and people write them: sign, up to 40 integer and 25 fraction digits. */
const decimalText = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^[0-9]{1,40}$/),
    fc.option(fc.stringMatching(/^[0-9]{0,25}$/), { nil: undefined }),
  )
  .map(([sign, int, frac]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}`);

const TYPES: [number, number][] = [
  [38, 0],
  [20, 0],
  [38, 2],
  [24, 6],
  [38, 18],
];

let instance: DuckDBInstance;
let conn: DuckDBConnection;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

/** The value of `expr` as text, or `error` when DuckDB refuses it. */
async function valueOf(expr: string): Promise<string | null> {
  try {
    const v = (await conn.runAndReadAll(`SELECT CAST(${expr} AS VARCHAR)`)).getRows()[0][0];
    return v === null ? null : String(v);
  } catch {
    return 'error';
  }
}

describe('text → wide DECIMAL (stream loads)', () => {
  it('avoids the plain cast for scale 0 and for values that fit DECIMAL(18,s)', () => {
    expect(loadExpr(number(38, 0), 'text')).toBe('CAST(CAST("C" AS HUGEINT) AS DECIMAL(38,0))');
    expect(loadExpr(number(38, 2), 'text')).toBe(
      'COALESCE(CAST(TRY_CAST("C" AS DECIMAL(18,2)) AS DECIMAL(38,2)), CAST("C" AS DECIMAL(38,2)))',
    );
    // Narrow decimals, a scale beyond 18 and Parquet columns keep the plain cast.
    expect(loadExpr(number(12, 2), 'text')).toBe('CAST("C" AS DECIMAL(12,2))');
    expect(loadExpr(number(38, 20), 'text')).toBe('CAST("C" AS DECIMAL(38,20))');
    expect(loadExpr(number(38, 0), 'parquet')).toBe('CAST("C" AS DECIMAL(38,0))');
  });

  for (const [p, s] of TYPES) {
    it(`DECIMAL(${p},${s}): the same value or the same refusal as CAST for any decimal text`, async () => {
      const col = number(p, s);
      const edges = [
        '0',
        '-0.5',
        '2.5',
        '-2.5',
        `${'9'.repeat(p - s)}${s ? `.${'9'.repeat(s)}` : ''}`,
        `-${'9'.repeat(p - s)}${s ? `.${'9'.repeat(s)}` : ''}`,
        `${'9'.repeat(p - s)}.${'9'.repeat(s + 1)}`,
        `1${'0'.repeat(p - s)}`,
        `${'9'.repeat(18 - s)}.${'5'.repeat(s + 2)}`,
        '1e3',
        ' 42 ',
        'abc',
        '',
      ];
      await fc.assert(
        fc.asyncProperty(fc.oneof(decimalText, fc.constantFrom(...edges)), async (text) => {
          const lit = duckDbLiteral(text);
          const fast = await valueOf(loadExpr(col, 'text', lit));
          const plain = await valueOf(`CAST(${lit} AS ${col.duckdbType})`);
          expect(fast, text).toBe(plain);
        }),
        { numRuns: 300, examples: edges.map((e) => [e]) },
      );
      expect(await valueOf(loadExpr(col, 'text', 'NULL'))).toBeNull();
    });
  }
});
