/**
 * Large results (spooled once to Parquet, served as lazy chunks): exact values, duplicate column
 * names, results inside an open transaction, and the spool file's cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import type snowflake from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('large results', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database resdb');
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('keeps 38-digit integers exact and duplicate column names through chunks', async () => {
    const rows = await exec(
      conn,
      `select seq4() * 1000000000000000000000000000000000 + 7 as big, seq4() as a, seq4() as a
      from table(generator(rowcount => 45000)) order by 2`,
      undefined,
      { fetchAsString: ['Number'] },
    );
    expect(rows.length).toBe(45000);
    expect(rows[44999].BIG).toBe('44999000000000000000000000000000000007');
    expect(Object.keys(rows[0])).toEqual(['BIG', 'A', 'A_2'].slice(0, Object.keys(rows[0]).length));
    expect(rows[12345].A).toBe('12345');
  });

  it('encodes text, numbers, booleans, dates and NULLs in chunks exactly as in an inline result', async () => {
    await exec(
      conn,
      `create table enc as select seq4() as i, case when mod(seq4(), 7) = 0 then null else 'q"u ' || seq4() || ' é✓' end as s,
        ((seq4() - 12000) / 8)::number(12,2) as d, (seq4() - 12000) * 1000003 as n, case when mod(seq4(), 5) = 0 then null else mod(seq4(), 3) = 0 end as b,
        dateadd(day, seq4() - 12000, '1970-01-01'::date)::date as dt from table(generator(rowcount => 24000))`,
    );
    const opts: Partial<snowflake.StatementOption> = { fetchAsString: ['Number', 'Date', 'Boolean'] };
    const chunked = await exec(conn, 'select * from enc order by i', undefined, opts);
    expect(chunked.length).toBe(24000);
    expect(chunked[1]).toEqual({
      I: '1',
      S: 'q"u 1 é✓',
      D: '-1499.88',
      N: '-11999035997',
      B: 'FALSE',
      DT: '1937-02-24',
    });
    for (let from = 0; from < 24000; from += 2000) {
      const inline = await exec(
        conn,
        `select * from enc where i >= ${from} and i < ${from + 2000} order by i`,
        undefined,
        opts,
      );
      expect(inline).toEqual(chunked.slice(from, from + 2000));
    }
  });

  it('reads its own uncommitted rows inside a transaction, and removes the spool files', async () => {
    await exec(conn, 'create table big (id int, tz timestamp_tz)');
    await exec(conn, 'begin');
    await exec(
      conn,
      `insert into big select seq4(), '2024-01-01 00:00:00 +01:00' from table(generator(rowcount => 30000))`,
    );
    const rows = await exec(conn, 'select id, tz from big order by id');
    expect(rows.length).toBe(30000);
    expect(Number(rows[29999].ID)).toBe(29999);
    expect(String((rows[0].TZ as Date & { toJSON(): string }).toJSON())).toBe('2024-01-01 00:00:00.000 +0100');
    await exec(conn, 'rollback');
    expect((await exec(conn, 'select count(*) as n from big'))[0].N).toBe(0);
    const spool = path.join(emu.dataDir, '.results');
    expect(fs.existsSync(spool) ? fs.readdirSync(spool) : []).toEqual([]);
  });
});
