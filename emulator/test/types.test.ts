import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('types round trip', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database typesdb');
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('keeps NUMBER(38,0) and decimals exact', async () => {
    await exec(conn, 'create table nums (big number(38,0), d number(10,2), f float)');
    await exec(
      conn,
      'insert into nums values (10000000000000000000000000000000000001, -12.34, 1.5), (null, null, null)',
    );
    const rows = await exec(conn, 'select big, d, f from nums order by big nulls last', undefined, {
      fetchAsString: ['Number'],
    });
    expect(rows[0]).toEqual({ BIG: '10000000000000000000000000000000000001', D: '-12.34', F: '1.5' });
    const nulls = await exec(conn, 'select big, d, f from nums where big is null');
    expect(nulls).toEqual([{ BIG: null, D: null, F: null }]);
  });

  it('casts text columns to wide NUMBERs exactly, from 1 to 38 digits, and refuses bad text', async () => {
    await exec(conn, 'create table txt (k int, v varchar)');
    const values = [
      '7',
      '-123456789012345678',
      '1234567890123456789',
      '-9999999999999999999999999999999999',
      '2.5',
      '-0.00005',
    ];
    await exec(conn, `insert into txt values ${values.map((v, k) => `(${k}, '${v}')`).join(', ')}`);
    const rows = await exec(
      conn,
      'select v::number(38,0) as i, cast(v as number(38,4)) as d from txt order by k',
      undefined,
      {
        fetchAsString: ['Number'],
      },
    );
    expect(rows.map((r) => r.I)).toEqual([
      '7',
      '-123456789012345678',
      '1234567890123456789',
      '-9999999999999999999999999999999999',
      '3',
      '0',
    ]);
    expect(rows.map((r) => r.D)).toEqual([
      '7.0000',
      '-123456789012345678.0000',
      '1234567890123456789.0000',
      '-9999999999999999999999999999999999.0000',
      '2.5000',
      '-0.0001',
    ]);
    await exec(conn, "insert into txt values (6, '12x')");
    await expect(exec(conn, 'select v::number(38,0) from txt')).rejects.toMatchObject({ code: '100038' });
  });

  it('round-trips text, binary, boolean, dates and times', async () => {
    await exec(conn, 'create table misc (s varchar(20), b binary, ok boolean, d date, t time, ts timestamp_ntz)');
    await exec(
      conn,
      "insert into misc values ('héllo ✓ 漢字', to_binary('CAFE'), true, '0001-01-01', '23:59:59.123456', '1969-12-31 23:59:59.5')",
    );
    await exec(conn, "insert into misc values ('', null, false, '9999-12-31', '00:00:00', '2024-02-29 12:00:00')");
    const rows = await exec(conn, 'select s, b, ok, to_varchar(d) as d, d as dd, t, ts from misc order by ok desc');
    expect(rows[0].S).toBe('héllo ✓ 漢字');
    expect(Buffer.from(rows[0].B as Uint8Array).toString('hex')).toBe('cafe');
    expect(rows[0].OK).toBe(true);
    expect(rows[0].D).toBe('0001-01-01');
    expect(rows[1].D).toBe('9999-12-31');
    expect((rows[0].TS as Date).getTime()).toBe(-500);
    expect((rows[1].DD as Date).toISOString().slice(0, 10)).toBe('9999-12-31');
    expect(String(rows[0].T)).toContain('23:59:59');
    expect(rows[1].OK).toBe(false);
  });

  it('keeps the offset of TIMESTAMP_TZ', async () => {
    await exec(conn, 'create table tz (ts timestamp_tz)');
    await exec(conn, 'insert into tz values (?)', ['2024-01-01 10:00:00 +05:45']);
    const rows = await exec(conn, 'select ts from tz');
    const v = rows[0].TS as Date & { getTimezone?: () => number; toJSON(): string };
    expect(v.getTime()).toBe(Date.UTC(2024, 0, 1, 4, 15));
    expect(String(v.toJSON())).toBe('2024-01-01 10:00:00.000 +0545');
  });

  it('returns VARIANT as JSON and reads paths', async () => {
    await exec(conn, 'create table v (doc variant)');
    await exec(conn, `insert into v select parse_json('{"a": {"b": [1, {"c": "deep"}]}, "Name": "x"}')`);
    const rows = await exec(conn, 'select doc, doc:a.b[1].c::string as c, doc:Name as n from v');
    expect(rows[0].DOC).toEqual({ a: { b: [1, { c: 'deep' }] }, Name: 'x' });
    expect(rows[0].C).toBe('deep');
    expect(rows[0].N).toBe('x');
  });
});
