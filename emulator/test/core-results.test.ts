/**
 * Large results (spooled once to Parquet, served as lazy chunks): exact values, duplicate column
 * names, results inside an open transaction, and the spool file's cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
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
