/**
 * What load tools send when they read from Snowflake (Sling at sign-in and on a stage unload; SQLAlchemy's
 * Snowflake dialect when it reflects a table for dlt's `sql_database` source), through snowflake-sdk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('reads by load tools', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database tools');
    await exec(conn, 'create table tools.public.t (id number(38,0) not null primary key, name varchar(20))');
    await exec(conn, `insert into tools.public.t values (1, 'a "quoted" name'), (2, null)`);
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('SHOW WAREHOUSES lists the one warehouse, current and started; LIKE filters it', async () => {
    const rows = await exec(conn, 'show warehouses');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'COMPUTE_WH', state: 'STARTED', is_current: 'Y', is_default: 'Y' });
    expect(await exec(conn, 'select current_warehouse() as w')).toEqual([{ W: rows[0].name }]);
    expect(await exec(conn, "show warehouses like 'compute%'")).toHaveLength(1);
    expect(await exec(conn, "show warehouses like 'other%'")).toEqual([]);
  });

  it('SHOW PRIMARY / UNIQUE / IMPORTED KEYS answer the documented columns (and no rows), in a table or a schema', async () => {
    const columnsOf = (sql: string) =>
      new Promise<string[]>((resolve, reject) =>
        conn.execute({
          sqlText: sql,
          complete: (err, stmt) => (err ? reject(err) : resolve((stmt.getColumns() ?? []).map((c) => c.getName()))),
        }),
      );
    expect(await columnsOf('show primary keys in table tools.public.t')).toEqual([
      'created_on',
      'database_name',
      'schema_name',
      'table_name',
      'column_name',
      'key_sequence',
      'constraint_name',
      'rely',
      'comment',
    ]);
    expect(await exec(conn, 'show unique keys in schema tools.public')).toEqual([]);
    const imported = await columnsOf('show imported keys in schema "TOOLS"."PUBLIC"');
    expect(imported).toContain('fk_name');
    expect(imported).toContain('pk_table_name');
    expect((await execError(conn, 'show primary keys in table tools.public.missing')).code).toBe('002003');
    expect((await execError(conn, 'show primary keys in schema tools.nope')).code).toBe('002003');
    expect((await execError(conn, 'show primary things')).code).toBe('002040');
  });

  it('INFORMATION_SCHEMA.COLUMNS has the identity fields (NULL) and DATA_TYPE_ALIAS', async () => {
    const rows = await exec(
      conn,
      `select column_name, data_type, is_identity, identity_start, identity_increment, identity_generation,
              identity_cycle, identity_ordered, data_type_alias
         from tools.information_schema.columns where table_name = 'T' order by ordinal_position`,
    );
    expect(rows).toEqual([
      expect.objectContaining({
        COLUMN_NAME: 'ID',
        DATA_TYPE: 'NUMBER',
        IS_IDENTITY: 'NO',
        IDENTITY_START: null,
        IDENTITY_ORDERED: null,
        DATA_TYPE_ALIAS: 'NUMBER(38,0)',
      }),
      expect.objectContaining({ COLUMN_NAME: 'NAME', DATA_TYPE: 'TEXT', DATA_TYPE_ALIAS: 'VARCHAR(20)' }),
    ]);
  });

  it('reads a single-byte format option written in hex (FIELD_OPTIONALLY_ENCLOSED_BY = 0x22)', async () => {
    await exec(conn, 'create stage tools.public.unload');
    const out = await exec(
      conn,
      `copy into @tools.public.unload/q/ from (select * from tools.public.t order by id)
       file_format = (type = csv compression = none field_optionally_enclosed_by = '0x22') header = true`,
    );
    expect(out[0].rows_unloaded).toBe(2);
    const dir = path.join(emu.dataDir, 'stages/named/TOOLS/PUBLIC/UNLOAD/files/q');
    const text = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8');
    expect(text.split('\n')[1]).toBe('1,"a ""quoted"" name"');
  });
});
