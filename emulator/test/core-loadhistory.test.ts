/**
 * Load history belongs to the table object (Snowflake: "Loading using the COPY command: load metadata"): COPY INTO
 * skips files already loaded into a table, but a dropped / replaced / re-created table loads them again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('load history follows the table object', () => {
  let emu: TestEmulator;
  let conn: Conn;
  const load = async (table: string) => {
    await exec(conn, `copy into ${table} from @lhdb.public.lh/files/ file_format = (type = csv)`);
    return Number((await exec(conn, `select count(*) as n from ${table}`))[0].N);
  };
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database lhdb');
    await exec(conn, 'create stage lh');
    await exec(
      conn,
      `copy into @lh/files/ from (select seq4() as id from table(generator(rowcount => 3))) file_format = (type = csv)`,
    );
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('skips loaded files, and loads them again after DROP/CREATE and CREATE OR REPLACE', async () => {
    await exec(conn, 'create table t (id int)');
    expect(await load('t')).toBe(3);
    expect(await load('t')).toBe(3); // already loaded: skipped
    await exec(conn, 'drop table t');
    await exec(conn, 'create table t (id int)');
    expect(await load('t')).toBe(3);
    await exec(conn, 'create or replace table t (id int)');
    expect(await load('t')).toBe(3);
  });

  it('forgets the history of tables dropped with their schema or database', async () => {
    await exec(conn, 'create schema s2');
    await exec(conn, 'create table s2.t (id int)');
    expect(await load('s2.t')).toBe(3);
    await exec(conn, 'drop schema s2');
    await exec(conn, 'create schema s2');
    await exec(conn, 'create table s2.t (id int)');
    expect(await load('s2.t')).toBe(3);
    await exec(conn, 'create or replace schema s2');
    await exec(conn, 'create table s2.t (id int)');
    expect(await load('s2.t')).toBe(3);
  });
});
