/** Table-reference extraction (src/jobs/cache-refresh/sqlRefs.ts) and the smart check's pure decision. */
import { describe, expect, it } from 'vitest';
import {
  extractRefs,
  formatQualified,
  parseQualifiedName,
  qualify,
  replaceSlices,
} from '../../src/jobs/cache-refresh/sqlRefs.js';
import { SqlScanError } from '../../src/jobs/cache-refresh/sqlTokens.js';
import { decide, lastAlteredQuery, stateHash } from '../../src/jobs/cache-refresh/smart.js';

const names = (sql: string) =>
  extractRefs(sql).tables.map((t) => t.parts.map((p) => (p.quoted ? `"${p.value}"` : p.value)).join('.'));

describe('extractRefs', () => {
  it('finds FROM, JOIN and comma-list tables, qualified or not', () => {
    expect(names('SELECT * FROM a')).toEqual(['a']);
    expect(names('select x from db.s.t1 t join s.t2 as u on t.id=u.id left outer join t3 using (id)')).toEqual([
      'db.s.t1',
      's.t2',
      't3',
    ]);
    expect(names('SELECT * FROM a x, b, c AS z WHERE 1=1')).toEqual(['a', 'b', 'c']);
  });
  it('ignores strings, comments, quoted identifiers as text, function FROMs and DISTINCT FROM', () => {
    expect(
      names(`SELECT 'FROM fake' AS s, EXTRACT(YEAR FROM d), TRIM(BOTH FROM s) FROM real -- FROM c2\n /* JOIN c3 */`),
    ).toEqual(['real']);
    expect(names('SELECT * FROM a WHERE x IS DISTINCT FROM y')).toEqual(['a']);
    expect(names('SELECT * FROM "My Db"."s"."T x"')).toEqual(['"My Db"."s"."T x"']);
  });
  it('descends into subqueries and CTE bodies but drops CTE names', () => {
    expect(
      names(
        'WITH c AS (SELECT * FROM base), d AS (SELECT * FROM c JOIN other ON 1=1) SELECT * FROM d, (SELECT 1 FROM inner_t) q',
      ),
    ).toEqual(['base', 'other', 'inner_t']);
    expect(names('SELECT * FROM a WHERE id IN (SELECT id FROM b)')).toEqual(['a', 'b']);
  });
  it('reports table functions, statements and the first keyword', () => {
    const r = extractRefs("SELECT * FROM read_csv('/etc/passwd'); ");
    expect(r.functions).toEqual(['READ_CSV']);
    expect(r.tables).toEqual([]);
    expect(r.statements).toBe(1);
    expect(extractRefs('SELECT 1; DROP TABLE x').statements).toBe(2);
    expect(extractRefs('with x as (select 1) select * from x').firstKeyword).toBe('WITH');
  });
  it('reports string literals used as tables, and reads the FROM list on after a table function', () => {
    const r = extractRefs("SELECT * FROM TABLE(FLATTEN(input => x)) f, '/etc/passwd', t2 JOIN 'x.csv' ON true");
    expect(r.functions).toEqual(['TABLE']);
    expect(r.paths).toEqual(['/etc/passwd', 'x.csv']);
    expect(
      names("SELECT * FROM TABLE(RESULT_SCAN((SELECT id FROM inner_t))) AS r, t2 WHERE TRIM(BOTH FROM 'x') = 'x'"),
    ).toEqual(['inner_t', 't2']);
  });
  it('marks aliases and gives offsets for rewriting', () => {
    const sql = 'SELECT * FROM c1 JOIN c2 x ON c1.id = x.id';
    const r = extractRefs(sql);
    expect(r.tables.map((t) => t.hasAlias)).toEqual([false, true]);
    expect(
      replaceSlices(
        sql,
        r.tables.map((t) => ({ start: t.aliasEnd, end: t.aliasEnd, text: ' AT (VERSION => 3)' })),
      ),
    ).toBe('SELECT * FROM c1 AT (VERSION => 3) JOIN c2 x AT (VERSION => 3) ON c1.id = x.id');
  });
  it('throws on unterminated quotes and unbalanced parentheses', () => {
    expect(() => extractRefs("SELECT 'x FROM a")).toThrow(SqlScanError);
    expect(() => extractRefs('SELECT (1 FROM a')).toThrow(SqlScanError);
  });
});

describe('qualified names', () => {
  it('folds unquoted parts, keeps quoted ones, requires three parts', () => {
    expect(parseQualifiedName('db.public.sales')).toEqual({ database: 'DB', schema: 'PUBLIC', table: 'SALES' });
    expect(parseQualifiedName('DB."Mixed".t')).toEqual({ database: 'DB', schema: 'Mixed', table: 'T' });
    expect(() => parseQualifiedName('public.sales')).toThrow(/DB.SCHEMA.TABLE/);
    expect(() => parseQualifiedName('a.b.c.d')).toThrow();
    expect(formatQualified({ database: 'DB', schema: 'Mixed', table: 'T' })).toBe('DB."Mixed".T');
    expect(qualify([{ value: 'sales', quoted: false }], { database: 'PROD', schema: 'S1' })).toEqual({
      database: 'PROD',
      schema: 'S1',
      table: 'SALES',
    });
    expect(() => qualify([{ value: 'sales', quoted: false }], {})).toThrow(/not fully qualified/);
  });
});

describe('smart check', () => {
  const now = new Date('2024-01-01T00:00:00Z');
  const base = { force: false, filled: true, expiresAt: null, storedHash: 'h', currentHash: 'h', now };
  it('decides in order: force, never filled, TTL, hash', () => {
    expect(decide({ ...base, force: true }).reason).toBe('forced');
    expect(decide({ ...base, filled: false }).refresh).toBe(true);
    expect(decide({ ...base, expiresAt: new Date(now.getTime() - 1) }).reason).toBe('TTL expired');
    expect(decide({ ...base, currentHash: 'other' }).refresh).toBe(true);
    expect(decide(base)).toEqual({ refresh: false, reason: 'source tables unchanged and TTL not expired' });
  });
  it('hashes per fully qualified table, order-independent', () => {
    expect(stateHash({ 'A.S1.T': '1', 'A.S2.T': '2' })).toBe(stateHash({ 'A.S2.T': '2', 'A.S1.T': '1' }));
    expect(stateHash({ 'A.S1.T': '1', 'A.S2.T': '2' })).not.toBe(stateHash({ 'A.S1.T': '2', 'A.S2.T': '1' }));
    expect(lastAlteredQuery('DB', [{ database: 'DB', schema: 'S1', table: 'T' }])).toContain(
      `"DB".INFORMATION_SCHEMA.TABLES WHERE (TABLE_SCHEMA = 'S1' AND TABLE_NAME = 'T')`,
    );
  });
});
