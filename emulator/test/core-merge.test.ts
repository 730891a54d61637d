/**
 * MERGE counts (no RETURNING: derived from the MERGE's row count, COUNT(*) before/after, or a counting
 * query when all three kinds of action are present), target-qualified SET columns, ALTER TABLE SWAP
 * names, and DATE_PART/EXTRACT epoch parts — all through the real snowflake-sdk.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, destroy, exec, startTestEmulator, type Conn, type TestEmulator } from './helpers.js';

describe('core: MERGE, SWAP, epoch parts', () => {
  let emu: TestEmulator;
  let conn: Conn;
  beforeAll(async () => {
    emu = await startTestEmulator();
    conn = await connect(emu);
    await exec(conn, 'create database mdb');
    await exec(conn, 'use schema mdb.public');
  });
  afterAll(async () => {
    await destroy(conn);
    await emu.close();
  });

  const reset = async () => {
    await exec(conn, 'create or replace table tgt (id int, v int, note varchar)');
    await exec(conn, `insert into tgt values (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, 40, 'd')`);
    await exec(conn, 'create or replace table src (id int, v int, del boolean)');
    // 1, 2 match; 2 is flagged for deletion; 5, 6 are new (6 flagged); 3, 4 are untouched.
    await exec(conn, 'insert into src values (1, 11, false), (2, 21, true), (5, 50, false), (6, 60, true)');
  };
  const rows = async () => (await exec(conn, 'select id, v from tgt order by id')).map((r) => [r.ID, r.V]);

  it('counts every combination of actions exactly, and changes the table as Snowflake does', async () => {
    const cases: [string, Record<string, number>, number[][]][] = [
      [
        'when matched then update set v = s.v',
        { 'number of rows updated': 2 },
        [
          [1, 11],
          [2, 21],
          [3, 30],
          [4, 40],
        ],
      ],
      [
        'when not matched then insert (id, v) values (s.id, s.v)',
        { 'number of rows inserted': 2 },
        [
          [1, 10],
          [2, 20],
          [3, 30],
          [4, 40],
          [5, 50],
          [6, 60],
        ],
      ],
      [
        'when matched and s.del then delete',
        { 'number of rows deleted': 1 },
        [
          [1, 10],
          [3, 30],
          [4, 40],
        ],
      ],
      [
        'when matched then update set v = s.v when not matched and not s.del then insert (id, v) values (s.id, s.v)',
        { 'number of rows inserted': 1, 'number of rows updated': 2 },
        [
          [1, 11],
          [2, 21],
          [3, 30],
          [4, 40],
          [5, 50],
        ],
      ],
      [
        'when matched then delete',
        { 'number of rows deleted': 2 },
        [
          [3, 30],
          [4, 40],
        ],
      ],
      [
        'when matched and s.del then delete when matched then update set v = s.v + 100',
        { 'number of rows updated': 1, 'number of rows deleted': 1 },
        [
          [1, 111],
          [3, 30],
          [4, 40],
        ],
      ],
      [
        'when matched and s.del then delete when not matched then insert (id, v) values (s.id, s.v)',
        { 'number of rows inserted': 2, 'number of rows deleted': 1 },
        [
          [1, 10],
          [3, 30],
          [4, 40],
          [5, 50],
          [6, 60],
        ],
      ],
      [
        'when matched and s.del then delete when matched then update set v = s.v when not matched and not s.del then insert (id, v) values (s.id, s.v)',
        { 'number of rows inserted': 1, 'number of rows updated': 1, 'number of rows deleted': 1 },
        [
          [1, 11],
          [3, 30],
          [4, 40],
          [5, 50],
        ],
      ],
      // CASE inside conditions and values has its own WHEN/THEN.
      [
        `when matched and case when s.del then true else false end then delete when matched then update set v = case when s.v > 15 then 0 else s.v end when not matched and case when s.id > 5 then false else true end then insert (id, v) values (s.id, case when s.v > 0 then s.v end)`,
        { 'number of rows inserted': 1, 'number of rows updated': 1, 'number of rows deleted': 1 },
        [
          [1, 11],
          [3, 30],
          [4, 40],
          [5, 50],
        ],
      ],
    ];
    for (const [clauses, counts, after] of cases) {
      await reset();
      // The ORDER of the MERGE's output columns is Snowflake's: inserted, updated, deleted.
      const res = await exec(conn, `merge into tgt t using src s on t.id = s.id ${clauses}`);
      expect({ clauses, res: res[0] }).toEqual({
        clauses,
        res: Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n])),
      });
      expect(Object.keys(res[0])).toEqual(Object.keys(counts));
      expect({ clauses, rows: await rows() }).toEqual({ clauses, rows: after });
    }
  });

  it('counts inside an open transaction (its own earlier writes included) and rolls back', async () => {
    await reset();
    await exec(conn, 'begin');
    await exec(conn, 'insert into tgt values (5, 0, null)');
    const res = await exec(
      conn,
      'merge into tgt using src on tgt.id = src.id when matched then update set v = src.v when not matched then insert (id, v) values (src.id, src.v)',
    );
    expect(res).toEqual([{ 'number of rows inserted': 1, 'number of rows updated': 3 }]);
    expect(await rows()).toEqual([
      [1, 11],
      [2, 21],
      [3, 30],
      [4, 40],
      [5, 50],
      [6, 60],
    ]);
    await exec(conn, 'rollback');
    expect(await rows()).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });

  it('a failing MERGE leaves the table as it was (its own transaction rolls back)', async () => {
    await reset();
    await expect(
      exec(
        conn,
        `merge into tgt t using src s on t.id = s.id when matched then update set v = 'x' || s.v when not matched then insert (id, v) values (s.id, s.v)`,
      ),
    ).rejects.toThrow();
    expect(await rows()).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
    const res = await exec(conn, 'merge into tgt t using src s on t.id = s.id when matched then update set v = 0');
    expect(res).toEqual([{ 'number of rows updated': 2 }]);
  });

  it('accepts a target-qualified column on the left of SET (MERGE and UPDATE)', async () => {
    await reset();
    const res = await exec(
      conn,
      `merge into tgt as t using src as s on t.id = s.id when matched and s.del then delete when matched then update set t.v = s.v, t.note = 'u' || s.id when not matched then insert (id, v) values (s.id, s.v)`,
    );
    expect(res).toEqual([{ 'number of rows inserted': 2, 'number of rows updated': 1, 'number of rows deleted': 1 }]);
    expect(await exec(conn, 'select id, v, note from tgt where id in (1, 6) order by id')).toEqual([
      { ID: 1, V: 11, NOTE: 'u1' },
      { ID: 6, V: 60, NOTE: null },
    ]);
    const upd = await exec(conn, `update tgt set tgt.note = 'w' where id = 3`);
    expect(upd[0]['number of rows updated']).toBe(1);
    expect(await exec(conn, 'select note from tgt where id = 3')).toEqual([{ NOTE: 'w' }]);
  });

  it("merges the watermark sync's statement (dedup by QUALIFY, soft delete, TIMESTAMP_TZ/VARIANT casts) with exact counts", async () => {
    await exec(
      conn,
      'create or replace table wt (ID NUMBER(38,0) NOT NULL, AMOUNT NUMBER(18,4), PAYLOAD VARIANT, UPDATED_AT TIMESTAMP_TZ)',
    );
    await exec(
      conn,
      `insert into wt select 1, 1.5, parse_json('{"a":1}'), '2024-01-01 00:00:00 +02:00' union all select 2, 2.5, null, '2024-01-02 00:00:00 +00:00'`,
    );
    // A watermark sync's MERGE: staging rows deduplicated by QUALIFY (latest _FLOE_SEQ per key), text cast to
    // the target's types, and with soft delete a DELETE clause for rows flagged in _FLOE_DEL.
    const merge = (withDelete: boolean) =>
      [
        'MERGE INTO "MDB"."PUBLIC"."WT" AS t',
        'USING (SELECT * FROM "MDB"."PUBLIC"."WSTG" QUALIFY ROW_NUMBER() OVER (PARTITION BY "ID" ORDER BY "_FLOE_SEQ"::NUMBER(38,0) DESC) = 1) AS s',
        'ON t."ID" = s."ID"::NUMBER(38,0)',
        ...(withDelete ? [`WHEN MATCHED AND s."_FLOE_DEL" = 'true' THEN DELETE`] : []),
        'WHEN MATCHED THEN UPDATE SET "AMOUNT" = s."AMOUNT"::NUMBER(18,4), "PAYLOAD" = PARSE_JSON(s."PAYLOAD"), "UPDATED_AT" = s."UPDATED_AT"::TIMESTAMP_TZ',
        `WHEN NOT MATCHED${withDelete ? ` AND (s."_FLOE_DEL" IS NULL OR s."_FLOE_DEL" <> 'true')` : ''} THEN INSERT ("ID", "AMOUNT", "PAYLOAD", "UPDATED_AT") VALUES (s."ID"::NUMBER(38,0), s."AMOUNT"::NUMBER(18,4), PARSE_JSON(s."PAYLOAD"), s."UPDATED_AT"::TIMESTAMP_TZ)`,
      ].join('\n');
    for (const withDelete of [false, true]) {
      await exec(
        conn,
        'create or replace table wstg (ID VARCHAR, AMOUNT VARCHAR, PAYLOAD VARCHAR, UPDATED_AT VARCHAR, _FLOE_DEL VARCHAR, _FLOE_SEQ VARCHAR)',
      );
      await exec(
        conn,
        `insert into wstg values
        ('1', '9.25', '{"b":2}', '2024-06-01 12:00:00.5 +05:45', 'false', '1'),
        ('1', '9.75', '{"b":3}', '2024-06-01 13:00:00 +05:45', 'false', '2'),
        ('2', '0', null, '2024-06-02 00:00:00 -08:00', 'true', '3'),
        ('3', '3', '[1]', '2024-06-03 00:00:00 +00:00', 'false', '4'),
        ('4', '4', null, '2024-06-04 00:00:00 +00:00', 'true', '5')`,
      );
      const res = await exec(conn, merge(withDelete));
      if (!withDelete) {
        // No delete clause: 1 and 2 updated, 3 and 4 inserted.
        expect(res).toEqual([{ 'number of rows inserted': 2, 'number of rows updated': 2 }]);
      } else {
        // 1 and 3 updated, 2 and 4 deleted (present now), nothing new.
        expect(res).toEqual([
          { 'number of rows inserted': 0, 'number of rows updated': 2, 'number of rows deleted': 2 },
        ]);
      }
    }
    expect(
      await exec(
        conn,
        `select id, amount, coalesce(payload:b::int, -1) as b, to_varchar(updated_at) as u from wt order by id`,
        undefined,
        { fetchAsString: ['Number'] },
      ),
    ).toEqual([
      { ID: '1', AMOUNT: '9.7500', B: '3', U: '2024-06-01 13:00:00.000 +0545' },
      { ID: '3', AMOUNT: '3.0000', B: '-1', U: '2024-06-03 00:00:00.000 +0000' },
    ]);
  });

  it('ALTER TABLE SWAP WITH: concurrent swaps in the same millisecond do not collide', async () => {
    const conns = await Promise.all([connect(emu), connect(emu), connect(emu)]);
    try {
      for (let k = 0; k < 6; k++) await exec(conn, `create or replace table mdb.public.sw${k} as select ${k} as k`);
      const now = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
      try {
        await Promise.all(
          conns.map((c, k) => exec(c, `alter table mdb.public.sw${2 * k} swap with mdb.public.sw${2 * k + 1}`)),
        );
      } finally {
        now.mockRestore();
      }
      for (let k = 0; k < 6; k++) expect(await exec(conn, `select k from mdb.public.sw${k}`)).toEqual([{ K: k ^ 1 }]);
      expect(await exec(conn, `show tables like '__SWAP%' in schema mdb.public`)).toEqual([]);
    } finally {
      await Promise.all(conns.map(destroy));
    }
  });

  it('DATE_PART / EXTRACT epoch parts', async () => {
    const ntz = `to_timestamp_ntz('2013-05-08 23:39:20.123456')`;
    const tz = `to_timestamp_tz('2013-05-08 23:39:20.123456 +02:00')`;
    const res = await exec(
      conn,
      `select
        date_part(epoch_second, ${ntz}) as s, date_part(epoch_millisecond, ${ntz}) as ms,
        date_part(epoch_microsecond, ${ntz}) as us, date_part(epoch_nanosecond, ${ntz}) as ns,
        date_part('epoch_second', ${tz}) as tz_s, date_part(epoch_millisecond, ${tz}::timestamp_ltz) as ltz_ms,
        extract(epoch_second from ${ntz}) as ex_s, extract(epoch_nanosecond from ${tz}) as ex_ns,
        date_part(epoch_second, '2013-05-08'::date) as d_s, date_part(epoch_second, to_timestamp_ntz('1969-12-31 23:59:59.5')) as neg,
        extract(year from ${ntz}) as y, date_part(epoch_second, null::timestamp_ntz) is null as n`,
      undefined,
      { fetchAsString: ['Number'] },
    );
    expect(res).toEqual([
      {
        S: '1368056360',
        MS: '1368056360123',
        US: '1368056360123456',
        NS: '1368056360123456000',
        TZ_S: '1368049160',
        LTZ_MS: '1368049160123',
        EX_S: '1368056360',
        EX_NS: '1368049160123456000',
        D_S: '1367971200',
        NEG: '-1',
        Y: '2013',
        N: true,
      },
    ]);
  });
});
