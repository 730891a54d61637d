/**
 * The parse-tree walker of `POST /query` (src/jobs/cache-refresh/sqlTree.ts) on trees from DuckDB's real parser:
 * relations in every position, CTE resolution as DuckDB binds names, table functions, file paths,
 * non-SELECT statements, and where a reference stands in the text.
 */
import { describe, expect, it } from 'vitest';
import {
  parseQuery,
  referenceExtent,
  statementCount,
  type SelectAnalysis,
} from '../../src/jobs/cache-refresh/sqlTree.js';

async function analysis(sql: string): Promise<SelectAnalysis> {
  const p = await parseQuery(sql);
  if (!p.ok) throw new Error(`expected a SELECT: ${p.message}`);
  return p.analysis;
}
const tables = async (sql: string) =>
  (await analysis(sql)).tables.map((t) => [t.catalog, t.schema, t.table].filter(Boolean).join('.'));
const functions = async (sql: string) => (await analysis(sql)).tableFunctions.map((f) => f.name);

describe('analyzeSelect', () => {
  it('finds base tables in every position a relation can take', async () => {
    expect(await tables('SELECT * FROM a JOIN b ON true, c')).toEqual(['a', 'b', 'c']);
    expect(await tables('SELECT * FROM (SELECT * FROM a) x')).toEqual(['a']);
    expect(await tables('SELECT * FROM a UNION ALL SELECT * FROM b EXCEPT SELECT * FROM c')).toEqual(['a', 'b', 'c']);
    expect(await tables('SELECT (SELECT max(v) FROM b) AS m FROM a')).toEqual(['b', 'a']);
    expect(await tables('SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b) AND v IN (SELECT v FROM c)')).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await tables('SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.id = a.id)')).toEqual(['a', 'b']);
    expect((await tables('SELECT * FROM a ORDER BY (SELECT count(*) FROM b)')).sort()).toEqual(['a', 'b']);
    expect(await tables('SELECT * FROM db.s.t JOIN s2.u ON true')).toEqual(['db.s.t', 's2.u']);
    expect(await tables('SELECT * FROM a PIVOT (sum(v) FOR k IN (1, 2))')).toEqual(['a']);
  });

  it('resolves CTE names as DuckDB binds them', async () => {
    expect(
      await tables('WITH c AS (SELECT * FROM a), d AS (SELECT * FROM c JOIN b ON true) SELECT * FROM d, c'),
    ).toEqual(['a', 'b']);
    // A forward reference and a non-recursive self reference bind to catalog tables, not to the CTE.
    expect(await tables('WITH x AS (SELECT * FROM y), y AS (SELECT 1) SELECT * FROM x')).toEqual(['y']);
    expect(await tables('WITH a AS (SELECT * FROM a) SELECT * FROM a')).toEqual(['a']);
    expect(await tables('WITH RECURSIVE a AS (SELECT * FROM a) SELECT * FROM a')).toEqual(['a']);
    // A recursive UNION sees itself.
    expect(
      await tables('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r, b'),
    ).toEqual(['b']);
    // Names match case-insensitively, quoted or not (DuckDB's rule); a WITH inside a subquery stays inside.
    expect(await tables('WITH "C" AS (SELECT * FROM a) SELECT * FROM c')).toEqual(['a']);
    expect(await tables('SELECT * FROM (WITH c AS (SELECT * FROM a) SELECT * FROM c) x, c')).toEqual(['a', 'c']);
    // A qualified name is never a CTE.
    expect(await tables('WITH c AS (SELECT 1) SELECT * FROM main.c')).toEqual(['main.c']);
  });

  it('reports table functions wherever they stand', async () => {
    expect(await functions("SELECT * FROM read_csv('/etc/passwd')")).toEqual(['read_csv']);
    expect(await functions("SELECT * FROM a WHERE EXISTS (SELECT 1 FROM read_text('/x'))")).toEqual(['read_text']);
    expect(await functions("WITH c AS (SELECT * FROM glob('/*')) SELECT * FROM c")).toEqual(['glob']);
    expect(await functions('SELECT * FROM a, LATERAL flatten(input => a.v) f')).toEqual(['flatten']);
    expect(await functions('SELECT * FROM lake.snapshots()')).toEqual(['lake.snapshots']);
    expect(await functions("SELECT * FROM a AT (VERSION => (SELECT max(v) FROM read_csv('/x')))")).toEqual([
      'read_csv',
    ]);
    expect(await tables("SELECT * FROM read_csv('/x')")).toEqual([]);
  });

  it('refuses file paths (string literals as tables) and DESCRIBE/SHOW, but not quoted identifiers', async () => {
    expect((await analysis("SELECT * FROM a, '/etc/passwd'")).refused).toEqual([
      "file path '/etc/passwd' (a string literal used as a table) is not allowed",
    ]);
    expect((await analysis("SELECT * FROM a UNION SELECT * FROM 'x.csv'")).refused).toHaveLength(1);
    for (const literal of ["E'/etc/passwd'", '$$/etc/passwd$$', '$q$/etc/passwd$q$']) {
      expect((await analysis(`SELECT * FROM a JOIN ${literal} ON true`)).refused, literal).toEqual([
        "file path '/etc/passwd' (a string literal used as a table) is not allowed",
      ]);
    }
    for (const sql of ['DESCRIBE a', 'SHOW a', 'SHOW TABLES', 'SUMMARIZE a'])
      expect((await analysis(sql)).refused, sql).toEqual(['DESCRIBE/SHOW/SUMMARIZE is not allowed']);
    const quoted = await analysis('SELECT * FROM "x.csv", "a;b""c", E, "S"."T", SALES');
    expect(quoted.refused).toEqual([]);
    expect(quoted.tables.map((t) => t.table)).toEqual(['x.csv', 'a;b"c', 'E', 'T', 'SALES']);
  });
});

describe('parseQuery', () => {
  it('tells statements other than SELECT and unparsable SQL apart, and counts statements', async () => {
    for (const sql of [
      "ATTACH '/tmp/x.db' AS x",
      "COPY a TO '/tmp/x.csv'",
      'INSTALL httpfs',
      'LOAD httpfs',
      'SET threads = 1',
      'PRAGMA version',
      'SELECT 1; DROP TABLE a',
    ]) {
      expect(await parseQuery(sql), sql).toMatchObject({ ok: false, reason: 'not_select' });
    }
    expect(await parseQuery('SELECT * FROM TABLE(FLATTEN(input => x))')).toMatchObject({ ok: false, reason: 'syntax' });
    // A syntax error at a very long token: DuckDB serializes no error object for it.
    expect(await parseQuery('🦆'.repeat(5000))).toMatchObject({ ok: false, reason: 'syntax' });
    const two = await parseQuery('SELECT 1; SELECT 2');
    expect(two.ok && statementCount(two.tree)).toBe(2);
    const one = await parseQuery('SELECT \';\' AS "x;y" FROM a;');
    expect(one.ok && statementCount(one.tree)).toBe(1);
  });

  it('answers each statement with its own tree when parses run together on the reused prepared statements', async () => {
    const sqls = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 2 ? `SELECT FROM WHERE ${i}` : `SELECT * FROM t${i} JOIN u${i} USING (k)`,
    );
    const rounds = [await Promise.all(sqls.map(parseQuery)), await Promise.all([...sqls].reverse().map(parseQuery))];
    rounds[1]!.reverse();
    for (const parsed of rounds) {
      parsed.forEach((p, i) => {
        if (i % 3 === 2) expect(p, sqls[i]).toMatchObject({ ok: false, reason: 'syntax' });
        else expect(p.ok && p.analysis.tables.map((t) => t.table), sqls[i]).toEqual([`t${i}`, `u${i}`]);
      });
    }
  });
});

describe('referenceExtent', () => {
  it('locates the name and the end of its alias (character offsets, also after multi-byte text)', async () => {
    const sql = `SELECT 'é€' AS e FROM "Sales" AS s(a, b) JOIN p ON true, q r`;
    const p = await parseQuery(sql);
    if (!p.ok) throw new Error(p.message);
    const ext = p.analysis.tables
      .map((t) => referenceExtent(sql, t)!)
      .map((e) => [sql.slice(e.start, e.end), sql.slice(e.start, e.aliasEnd)]);
    expect(ext).toEqual([
      ['"Sales"', '"Sales" AS s(a, b)'],
      ['p', 'p'],
      ['q', 'q r'],
    ]);
    const qualified = await parseQuery('SELECT * FROM s.t');
    expect(qualified.ok && referenceExtent('SELECT * FROM s.t', qualified.analysis.tables[0]!)).toBeNull();
  });
});
