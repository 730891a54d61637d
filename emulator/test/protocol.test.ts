import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  destroy,
  exec,
  execError,
  startTestEmulator,
  wireSession,
  type Conn,
  type TestEmulator,
} from './helpers.js';

describe('protocol', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('logs in and answers a SELECT with Snowflake column names', async () => {
    const rows = await exec(conn, "select 1 as one, count(*), 'x' || 'y' as xy from (select 1)");
    expect(rows).toEqual([{ ONE: 1, 'COUNT(*)': 1, XY: 'xy' }]);
  });

  it('keeps a session valid (heartbeat) and starts without a current database', async () => {
    expect(await conn.isValidAsync()).toBe(true);
    const rows = await exec(conn, 'select current_database() as db');
    expect(rows[0].DB).toBeNull();
  });

  it('returns Snowflake error codes and SQLSTATEs', async () => {
    const missing = await execError(conn, 'select * from nodb.public.nothing');
    expect(missing.code).toBe('002003');
    expect(missing.sqlState).toBe('42S02');
    const syntax = await execError(conn, 'selec 1');
    expect(syntax.code).toBe('001003');
    expect(syntax.sqlState).toBe('42000');
    await exec(conn, 'create database errdb');
    await exec(conn, 'create table t (a int)');
    const ident = await execError(conn, 'select nope from t');
    expect(ident.code).toBe('000904');
  });
});

describe('large results, abort, async', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('streams 300k rows through lazily produced chunks', async () => {
    const stmt = conn.execute({
      sqlText: 'select seq4() as n, to_varchar(seq4()) as s from table(generator(rowcount => 300000)) order by n',
      streamResult: true,
    });
    let count = 0;
    let last: Record<string, unknown> | null = null;
    await new Promise<void>((resolve, reject) => {
      stmt
        .streamRows()
        .on('data', (row: Record<string, unknown>) => {
          count++;
          last = row;
        })
        .on('error', reject)
        .on('end', () => resolve());
    });
    expect(count).toBe(300000);
    expect(last).toEqual({ N: 299999, S: '299999' });
  });

  it('cancels a running query', async () => {
    const started = Date.now();
    const result = new Promise<Error | undefined>((resolve) => {
      const stmt = conn.execute({
        sqlText: 'select count(*) from table(generator(rowcount => 100000000000)) a',
        complete: (err) => resolve(err ?? undefined),
      });
      setTimeout(() => stmt.cancel(() => undefined), 300);
    });
    const err = await result;
    expect(err).toBeDefined();
    expect((err as Error & { code?: string }).code).toBe('000604');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await exec(conn, 'select 1 as x')).toEqual([{ X: 1 }]);
  });

  it('runs asyncExec queries and serves their status and result', async () => {
    const queryId = await new Promise<string>((resolve, reject) => {
      conn.execute({
        sqlText: 'select 42 as answer',
        asyncExec: true,
        complete: (err, stmt) => (err ? reject(err) : resolve(stmt.getQueryId())),
      });
    });
    expect(queryId).toMatch(/^[0-9a-f-]{36}$/);
    const stmt = await conn.getResultsFromQueryId({ queryId });
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const out: unknown[] = [];
      stmt
        .streamRows()
        .on('data', (r: unknown) => out.push(r))
        .on('error', reject)
        .on('end', () => resolve(out));
    });
    expect(rows).toEqual([{ ANSWER: 42 }]);
    expect(await conn.getQueryStatus(queryId)).toBe('SUCCESS');
  });
});

describe('fault injection', () => {
  it('503s are retried by the driver and results stay right', async () => {
    const emu = await startTestEmulator({ faults: { http503Rate: 0.25 } });
    const conn = await connect(emu);
    try {
      for (let i = 0; i < 3; i++) expect(await exec(conn, `select ${i} as i`)).toEqual([{ I: i }]);
    } finally {
      await destroy(conn);
      await emu.close();
    }
  });

  it('fails the Nth matching statement with a Snowflake error', async () => {
    const emu = await startTestEmulator({ faults: { failStatement: { pattern: /select 7/, nth: 2 } } });
    const conn = await connect(emu);
    try {
      expect(await exec(conn, 'select 7 as x')).toEqual([{ X: 7 }]);
      expect((await execError(conn, 'select 7 as x')).code).toBe('000603');
      expect(await exec(conn, 'select 7 as x')).toEqual([{ X: 7 }]);
    } finally {
      await destroy(conn);
      await emu.close();
    }
  });
});

describe('result chunks as gosnowflake and JDBC fetch them', () => {
  it('serves chunks in any order, in parallel and again, with their sizes in the chunk list', async () => {
    const emu = await startTestEmulator();
    try {
      const wire = await wireSession(emu);
      const r = await wire.query({ sqlText: 'select seq4() as n from table(generator(rowcount => 70000))' });
      const chunks = r.data.chunks as {
        url: string;
        rowCount: number;
        uncompressedSize: number;
        compressedSize: number;
      }[];
      expect(chunks.map((c) => c.rowCount)).toEqual([20_000, 20_000, 20_000, 10_000]);
      for (const c of chunks) expect(c.compressedSize).toBeGreaterThan(0);
      for (const c of chunks) expect(c.uncompressedSize).toBeGreaterThan(0);
      const fetchChunk = async (k: number) => {
        const res = await fetch(chunks[k].url);
        expect(res.status).toBe(200);
        return (JSON.parse(`[${await res.text()}]`) as string[][]).map((row) => Number(row[0]));
      };
      const first = (rows: number[]) => rows[0];
      // The last chunk first, then two in parallel, one of them twice (a retry), then the rest.
      expect(first(await fetchChunk(3))).toBe(60_000);
      const [a, b, again] = await Promise.all([fetchChunk(1), fetchChunk(0), fetchChunk(1)]);
      expect([first(a), first(b), first(again)]).toEqual([20_000, 0, 20_000]);
      expect(again).toEqual(a);
      const c = await fetchChunk(2);
      expect([c.length, first(c), c[c.length - 1]]).toEqual([20_000, 40_000, 59_999]);
    } finally {
      await emu.close();
    }
  });
});

describe('databases after large results', () => {
  it('replaces a database from which a multi-chunk result was served', async () => {
    const emu = await startTestEmulator();
    try {
      const first = await connect(emu);
      await exec(first, 'create database big');
      expect(await exec(first, 'select seq4() as n from table(generator(rowcount => 50000))')).toHaveLength(50_000);
      await destroy(first);
      const second = await connect(emu);
      await exec(second, 'create or replace database big');
      expect(await exec(second, 'select current_database() as d')).toEqual([{ D: 'BIG' }]);
      await destroy(second);
    } finally {
      await emu.close();
    }
  });
});

describe('multi-statement requests', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database multi');
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  /** Runs a multi-statement request through snowflake-sdk and collects each statement's rows in order. */
  const execMulti = (sqlText: string, count: number) =>
    new Promise<Record<string, unknown>[][]>((resolve, reject) => {
      const results: Record<string, unknown>[][] = [];
      conn.execute({
        sqlText,
        parameters: { MULTI_STATEMENT_COUNT: count },
        complete: (err, stmt, rows) => {
          if (err) return reject(err);
          results.push((rows ?? []) as Record<string, unknown>[]);
          // snowflake-sdk's multi-statement API, missing from its type declarations.
          const multi = stmt as unknown as { hasNext(): boolean; NextResult(): void };
          if (multi.hasNext()) multi.NextResult();
          else resolve(results);
        },
      });
    });

  it('runs every statement and serves each child result, with MULTI_STATEMENT_COUNT n or 0', async () => {
    const sql = 'create table m (a int); insert into m values (1), (2); select count(*) as n from m';
    expect(await execMulti(sql, 3)).toEqual([
      [{ status: 'Table M successfully created.' }],
      [{ 'number of rows inserted': 2 }],
      [{ N: 2 }],
    ]);
    expect(await execMulti('select 1 as a; select 2 as b;', 0)).toEqual([[{ A: 1 }], [{ B: 2 }]]);
  });

  it('refuses a count that does not match, and stops at the first failing statement', async () => {
    await expect(execMulti('select 1; select 2', 3)).rejects.toMatchObject({ code: '000008' });
    await expect(
      execMulti('insert into m values (3); select * from nothing; insert into m values (4)', 0),
    ).rejects.toMatchObject({
      code: '002003',
    });
    expect(await exec(conn, 'select count(*) as n from m')).toEqual([{ N: 3 }]);
  });
});
