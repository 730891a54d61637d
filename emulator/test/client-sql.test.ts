/**
 * SQL the Snowflake clients send that the emulator reads as Snowflake does: LAST_QUERY_ID() and
 * TABLE(RESULT_SCAN(...)) over the session's earlier results, COPY INTO a table FROM (SELECT $1:col ... FROM @stage)
 * for staged Parquet, and text converted to numbers where Snowflake converts it implicitly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, execError, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

let emu: TestEmulator;
let conn: Conn;
beforeAll(async () => {
  emu = await startTestEmulator();
  conn = await connect(emu);
  await exec(conn, 'create database clientsql');
  await exec(conn, 'use schema clientsql.public');
});
afterAll(async () => {
  await destroy(conn);
  await emu.close();
});

describe('RESULT_SCAN and LAST_QUERY_ID', () => {
  it('reads the previous result with its column names and types', async () => {
    await exec(
      conn,
      `select 1 as i, 2.50::number(5,2) as n, 'a' as s, true as b, '2024-02-29'::date as d,
        '2024-01-02 03:04:05.123456'::timestamp_ntz as ts, '2024-01-02 03:04:05 +05:45'::timestamp_tz as tz,
        parse_json('{"k":[1,2]}') as v, x'CAFE' as bin, null::float as f, 1.5::float as r`,
    );
    const [row] = await exec(
      conn,
      `select i + 1 as i2, n * 2 as n2, s, b, to_varchar(d, 'YYYY-MM-DD') as d,
        to_varchar(ts, 'YYYY-MM-DD HH24:MI:SS.FF6') as ts, to_varchar(tz) as tz, v:k[1]::int as k, bin, f, r
      from table(result_scan(last_query_id()))`,
    );
    expect(row).toMatchObject({
      I2: 2,
      N2: 5,
      S: 'a',
      B: true,
      TS: '2024-01-02 03:04:05.123456',
      K: 2,
      F: null,
      R: 1.5,
    });
    expect(row.TZ).toBe('2024-01-02 03:04:05.000 +0545');
    expect(Buffer.from(row.BIN as Buffer).toString('hex')).toBe('cafe');
  });

  it('scans a SHOW result by its lower-case column names, and a query by its id', async () => {
    await exec(conn, 'create or replace table scanned (a int)');
    await exec(conn, "show tables like 'SCANNED'");
    expect(await exec(conn, 'select "name", "rows" from table(result_scan(last_query_id()))')).toEqual([
      { name: 'SCANNED', rows: 0 },
    ]);
    const [{ ID }] = await exec<{ ID: string }>(conn, 'select last_query_id(-2) as id');
    expect(await exec(conn, `select count(*) as n from table(result_scan('${ID}'))`)).toEqual([{ N: 1 }]);
    expect(await exec(conn, `select * from table(result_scan(last_query_id(1))) where false`)).toEqual([]);
  });

  it('refuses an unknown query id and a chunked result', async () => {
    expect(await execError(conn, `select * from table(result_scan('no-such-query'))`)).toMatchObject({
      code: '000709',
    });
    await exec(conn, 'select seq4() as n from table(generator(rowcount => 5000))');
    expect(await execError(conn, 'select * from table(result_scan(last_query_id()))')).toMatchObject({
      code: '002040',
    });
  });
});

describe('COPY INTO <table> FROM (SELECT ... FROM @stage)', () => {
  it('loads Parquet fields by $1:name with casts and expressions, NULL for a field the files lack', async () => {
    await exec(conn, 'create or replace stage pq');
    await exec(
      conn,
      `copy into @pq/rows from (select seq4() as id, 'n' || seq4() as name, seq4() * 1.5 as price
        from table(generator(rowcount => 3))) file_format = (type = parquet) header = true`,
    );
    await exec(conn, 'create or replace table loaded (id int, label varchar, price number(10,2), missing varchar)');
    const res = await exec(
      conn,
      `copy into loaded from (select $1:ID::int + 100, upper(p.$1:NAME), $1:PRICE, $1:nothing from @pq/rows p)
        file_format = (type = parquet)`,
    );
    expect(res).toHaveLength(1);
    expect(res[0]).toMatchObject({ status: 'LOADED', rows_loaded: 3 });
    expect(await exec(conn, 'select * from loaded order by id')).toEqual([
      { ID: 100, LABEL: 'N0', PRICE: 0, MISSING: null },
      { ID: 101, LABEL: 'N1', PRICE: 1.5, MISSING: null },
      { ID: 102, LABEL: 'N2', PRICE: 3, MISSING: null },
    ]);
  });

  it('loads CSV fields by position into listed columns and checks the column count', async () => {
    await exec(conn, 'create or replace table csvt (a int, b varchar, c varchar)');
    await exec(conn, `copy into @%csvt from (select 1, 'x' union all select 2, 'y') file_format = (type = csv)`);
    await exec(
      conn,
      `copy into csvt (b, a) from (select t.$2 || '!', $1::int * 10 from @%csvt t) file_format = (type = csv)`,
    );
    expect(await exec(conn, 'select * from csvt order by a')).toEqual([
      { A: 10, B: 'x!', C: null },
      { A: 20, B: 'y!', C: null },
    ]);
    const e = await execError(
      conn,
      'copy into csvt from (select $1 from @%csvt) file_format = (type = csv) force = true',
    );
    expect(e).toMatchObject({ code: '002020' });
  });
});

describe('text read as numbers', () => {
  it('converts text operands of arithmetic, literals and binds to the numbers they spell', async () => {
    expect(await exec(conn, `select '12' + 1 as a, 2 * '1.5' as b, '10' / '4' as c, ? - 1 as d`, ['5'])).toEqual([
      { A: 13, B: 3, C: 2.5, D: 4 },
    ]);
    await exec(conn, 'create or replace table texts (t varchar, n number(10,2), d date)');
    await exec(conn, "insert into texts values ('12', 3.5, '2024-02-28')");
    expect(
      await exec(conn, `select t + 1 as a, t * n as b, n - t as c, d + 1 as d, date '2024-01-01' + 1 as e from texts`),
    ).toMatchObject([{ A: 13, B: 42, C: -8.5 }]);
    await exec(conn, "insert into texts (t, n) values ('012', 12)");
    expect(await exec(conn, 'select n from texts where t = 12 and n = t and t > 11.5 and t between 11 and 13')).toEqual(
      [{ N: 12 }],
    );
    await exec(conn, `update texts set t = 7 where t = 12`);
    expect(await exec(conn, `select t from texts where n = 12`)).toEqual([{ T: '7' }]);
    const e = await execError(conn, `select 'twelve' + 1`);
    expect(e.message).toMatch(/twelve/);
  });

  it('stores text bound into a NUMBER column as that number', async () => {
    await exec(conn, 'create or replace table nums (a number(10,0), b number(10,2))');
    await exec(conn, 'insert into nums values (?, ?)', ['41', '2.25']);
    expect(await exec(conn, 'select a + 1 as a, b from nums')).toEqual([{ A: 42, B: 2.25 }]);
  });
});
