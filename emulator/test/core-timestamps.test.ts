/**
 * TIMESTAMP_TZ / LTZ / NTZ semantics through the real driver, as table sync and watermark sync rely on them:
 * conversions, CONVERT_TIMEZONE, literals with offsets, instant comparisons, DML into TZ columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

type TzDate = Date & { toJSON(): string };
const str = (v: unknown) => String((v as TzDate).toJSON());

describe('timestamps with time zones', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database tsdb');
    await exec(conn, 'create table t (id int, tz timestamp_tz, ltz timestamp_ltz, ntz timestamp_ntz)');
    await exec(
      conn,
      `insert into t values
      (1, '2024-01-01 10:00:00 +05:45'::timestamp_tz, '2024-06-01 12:00:00 +00:00'::timestamp_ltz, '2024-01-01 10:00:00'::timestamp_ntz),
      (2, '2024-01-01 04:15:00 +00:00'::timestamp_tz, '2024-06-01 14:00:00 +02:00'::timestamp_ltz, '2024-01-01 04:15:00'),
      (3, '2024-01-01 00:00:00 -08:00', '2024-06-02 00:00:00', null)`,
    );
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  it('inserts TZ literals with their offset (VALUES and SELECT) and LTZ literals with an offset', async () => {
    const rows = await exec(conn, 'select id, tz, ltz from t order by id');
    expect(str(rows[0].TZ)).toBe('2024-01-01 10:00:00.000 +0545');
    expect((rows[0].TZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 4, 15));
    expect(str(rows[2].TZ)).toBe('2024-01-01 00:00:00.000 -0800');
    expect((rows[0].LTZ as Date).getTime()).toBe(Date.UTC(2024, 5, 1, 12));
    expect((rows[1].LTZ as Date).getTime()).toBe(Date.UTC(2024, 5, 1, 12));
    await exec(conn, 'create table t2 (tz timestamp_tz)');
    await exec(conn, `insert into t2 select '2024-01-01 10:00:00 +05:45'::timestamp_tz`);
    await exec(conn, `insert into t2 (tz) select tz from t where id = 3`);
    const r2 = await exec(conn, 'select tz from t2 order by tz');
    expect(r2.map((r) => str(r.TZ))).toEqual(['2024-01-01 10:00:00.000 +0545', '2024-01-01 00:00:00.000 -0800']);
  });

  it('CONVERT_TIMEZONE(UTC, tz) is TIMESTAMP_TZ at +00:00; ::TIMESTAMP_NTZ keeps the wall clock', async () => {
    const rows = await exec(
      conn,
      `select convert_timezone('UTC', tz) as u, convert_timezone('UTC', ltz) as lu,
        tz::timestamp_ntz as n, convert_timezone('UTC', tz)::timestamp_ntz as un, convert_timezone('UTC', ltz)::timestamp_ntz as lun,
        tz::timestamp_ltz as l, to_varchar(tz::date) as d, convert_timezone('Asia/Kathmandu', ltz) as k
      from t where id = 1`,
    );
    const r = rows[0];
    expect(str(r.U)).toBe('2024-01-01 04:15:00.000 +0000');
    expect(str(r.LU)).toBe('2024-06-01 12:00:00.000 +0000');
    expect((r.N as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 10));
    expect((r.UN as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 4, 15));
    expect((r.LUN as Date).getTime()).toBe(Date.UTC(2024, 5, 1, 12));
    expect((r.L as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 4, 15));
    expect(r.D).toBe('2024-01-01');
    expect(str(r.K)).toBe('2024-06-01 17:45:00.000 +0545');
  });

  it('compares TZ with TZ/LTZ/NTZ values and literals by instant', async () => {
    const ids = async (where: string) =>
      (await exec(conn, `select id from t where ${where} order by id`)).map((r) => Number(r.ID));
    // Rows 1 and 2 are the same instant with different offsets.
    expect(await ids(`tz = '2024-01-01 04:15:00.000000 +00:00'::timestamp_tz`)).toEqual([1, 2]);
    expect(await ids(`tz > '2024-01-01 04:15:00 +00:00'::timestamp_tz`)).toEqual([3]);
    expect(
      await ids(
        `tz >= '2024-01-01 04:15:00 +00:00'::timestamp_tz and (tz > '2024-01-01 04:15:00 +00:00'::timestamp_tz or (tz = '2024-01-01 04:15:00 +00:00'::timestamp_tz and id > 1))`,
      ),
    ).toEqual([2, 3]);
    expect(await ids(`tz = '2024-01-01 04:15:00'`)).toEqual([1, 2]);
    expect(await ids(`ltz >= '2024-06-01 14:00:00 +02:00'::timestamp_tz`)).toEqual([1, 2, 3]);
    expect(await ids(`ltz > '2024-06-01 12:00:00 +00:00'::timestamp_tz`)).toEqual([3]);
    expect(await ids(`tz = ntz`)).toEqual([2]);
    expect(
      await ids(`tz between '2024-01-01 04:00:00 +00:00'::timestamp_tz and '2024-01-01 05:00:00 +00:00'::timestamp_tz`),
    ).toEqual([1, 2]);
    expect(await ids(`ntz >= '2024-01-01 10:00:00.000000'::timestamp_ntz`)).toEqual([1]);
    const ordered = await exec(conn, 'select id from t order by tz desc, id');
    expect(ordered.map((r) => Number(r.ID))).toEqual([3, 1, 2]);
  });

  it('UPDATE SET and MERGE into TZ and LTZ columns', async () => {
    await exec(conn, 'create table m (id int, tz timestamp_tz, ltz timestamp_ltz)');
    await exec(conn, `insert into m values (1, '2024-01-01 00:00:00 +01:00', null)`);
    await exec(conn, `update m set tz = '2024-03-01 09:30:00 +05:30', ltz = '2024-03-01 09:30:00 +05:30' where id = 1`);
    let rows = await exec(conn, 'select tz, ltz from m');
    expect(str(rows[0].TZ)).toBe('2024-03-01 09:30:00.000 +0530');
    expect((rows[0].LTZ as Date).getTime()).toBe(Date.UTC(2024, 2, 1, 4));
    await exec(
      conn,
      `merge into m using (select id, tz, ltz from t) s on m.id = s.id
      when matched then update set tz = s.tz, ltz = s.tz
      when not matched then insert (id, tz, ltz) values (s.id, s.ltz, '2024-01-01 00:00:00 -01:00')`,
    );
    rows = await exec(conn, 'select id, tz, ltz from m order by id');
    expect(str(rows[0].TZ)).toBe('2024-01-01 10:00:00.000 +0545');
    expect((rows[0].LTZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 4, 15));
    expect(str(rows[1].TZ)).toBe('2024-06-01 12:00:00.000 +0000');
    expect((rows[1].LTZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 1));
    await exec(
      conn,
      `update m set tz = convert_timezone('UTC', tz) where tz = '2024-01-01 04:15:00 +00:00'::timestamp_tz`,
    );
    rows = await exec(conn, 'select tz from m where id = 1');
    expect(str(rows[0].TZ)).toBe('2024-01-01 04:15:00.000 +0000');
  });

  it('TO_VARCHAR / TO_CHAR with Snowflake format elements on TIME, DATE and TIMESTAMP_*', async () => {
    const rows = await exec(
      conn,
      `select
        to_varchar('23:59:58.123456'::time, 'HH24:MI:SS.FF9') as t9,
        to_char('07:08:09.5'::time, 'HH24:MI:SS.FF3') as t3,
        to_varchar('07:08:09'::time, 'HH12:MI AM') as t12,
        to_varchar('2024-02-29'::date, 'YYYY-MM-DD') as d,
        to_varchar('2024-02-29'::date, 'DD/MM/YY "day"') as d2,
        to_varchar(ntz, 'YYYY-MM-DD HH24:MI:SS.FF6') as n,
        to_varchar(tz, 'YYYY-MM-DD HH24:MI:SS TZH:TZM') as z,
        to_varchar(ltz, 'YYYY-MM-DD"T"HH24:MI:SS.FFTZHTZM') as l,
        to_varchar(tz) as zd, tz::varchar as zc, to_varchar(null::time, 'HH24') as nul
      from t where id = 1`,
    );
    expect(rows[0]).toEqual({
      T9: '23:59:58.123456000',
      T3: '07:08:09.500',
      T12: '07:08 AM',
      D: '2024-02-29',
      D2: '29/02/24 day',
      N: '2024-01-01 10:00:00.000000',
      Z: '2024-01-01 10:00:00 +05:45',
      L: '2024-06-01T12:00:00.000000000+0000',
      ZD: '2024-01-01 10:00:00.000 +0545',
      ZC: '2024-01-01 10:00:00.000 +0545',
      NUL: null,
    });
  });

  it('TO_VARCHAR fractions of every width, text after them, and NULL', async () => {
    const rows = await exec(
      conn,
      `select
        to_varchar(convert_timezone('UTC', '2024-06-01 12:34:56.789123 +02:00'::timestamp_tz),
          'YYYY-MM-DD"T"HH24:MI:SS.FF9"Z"') as utc9,
        to_char(convert_timezone('Asia/Kathmandu', '2024-06-01 12:34:56.789123 +02:00'::timestamp_tz),
          'YYYY-MM-DD HH24:MI:SS.FF3 TZH:TZM') as ktm,
        to_varchar(convert_timezone('UTC', null::timestamp_ltz), 'YYYY') as nul_at,
        to_varchar(x, 'SS.FF"|"FF8"|"FF7"|"FF6"|"FF5"|"FF4"|"FF3"|"FF2"|"FF1"|"FF0"|"') as widths,
        to_varchar(null::timestamp_ntz, 'YYYY-MM-DD"T"HH24:MI:SS.FF9"Z"') as nul,
        to_varchar(null::timestamp_tz, 'HH24 TZH') as nul_tz,
        to_varchar(null::timestamp_ntz, 'FF0') as nul_empty, to_varchar(x, 'FF0') as empty
      from (select '2024-06-01 12:34:56.789123'::timestamp_ntz as x)`,
    );
    expect(rows[0]).toEqual({
      UTC9: '2024-06-01T10:34:56.789123000Z',
      KTM: '2024-06-01 16:19:56.789 +05:45',
      NUL_AT: null,
      WIDTHS: '56.789123000|78912300|7891230|789123|78912|7891|789|78|7||',
      NUL: null,
      NUL_TZ: null,
      NUL_EMPTY: null,
      EMPTY: '',
    });
  });

  it('refuses bad timestamp text as Snowflake does', async () => {
    await expect(exec(conn, `select 'garbage'::timestamp_tz`)).rejects.toThrow(/timestamp/i);
  });
});
