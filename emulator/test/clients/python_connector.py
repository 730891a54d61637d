"""
Drives the emulator with the Snowflake Connector for Python (PEP 249), as a user's code would, and
prints one JSON object of what each check saw; emulator/test/python-connector.test.ts asserts on it.

    python python_connector.py <emulator url> <user> <password> <database to create>
"""

import datetime
import decimal
import json
import os
import tempfile

import snowflake.connector
from emulator_client import check, connect
from emulator_client import database as db
from snowflake.connector import errors

out = {"version": snowflake.connector.__version__}


conn = connect()
cur = conn.cursor()
cur.execute(f"create database {db}")
cur.execute(
    f"create or replace table {db}.public.t"
    " (i int, f float, n number(10,2), s varchar(20), d date, ts timestamp_ntz, b binary)"
)


def round_trip():
    row = (
        7,
        1.5,
        decimal.Decimal("12.34"),
        "héllo",
        datetime.date(2024, 2, 29),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
        b"\xca\xfe",
    )
    qmark = connect(paramstyle="qmark")
    try:
        qmark.cursor().execute(f"insert into {db}.public.t values (?, ?, ?, ?, ?, ?, ?)", row)
    finally:
        qmark.close()
    got = cur.execute(f"select i, f, n, s, d, ts, b from {db}.public.t").fetchone()
    return {"equal": list(got) == list(row), "got": [str(v) for v in got]}


def pyformat_binds():
    cur.execute("select %s as a, %s as b", (1, "two"))
    return list(cur.fetchone())


def executemany():
    cur.execute(f"create or replace table {db}.public.m (a int, b varchar)")
    cur.executemany(f"insert into {db}.public.m values (%s, %s)", [(k, f"r{k}") for k in range(50)])
    return list(cur.execute(f"select count(*), sum(a) from {db}.public.m").fetchone())


def multi_chunk():
    cur.execute("select seq4() as n from table(generator(rowcount => 70000)) order by n")
    rows = cur.fetchall()
    return {"count": len(rows), "first": rows[0][0], "last": rows[-1][0]}


def transaction():
    other = connect(autocommit=False)
    try:
        c = other.cursor()
        c.execute(f"create or replace table {db}.public.tx (a int)")
        c.execute(f"insert into {db}.public.tx values (1)")
        seen = cur.execute(f"select count(*) from {db}.public.tx").fetchone()[0]
        other.rollback()
        c.execute(f"insert into {db}.public.tx values (2)")
        other.commit()
        return {"uncommitted_seen": seen, "after": cur.execute(f"select sum(a) from {db}.public.tx").fetchone()[0]}
    finally:
        other.close()


def failure(sql):
    try:
        cur.execute(sql)
    except errors.Error as e:
        return {"errno": e.errno, "sqlstate": e.sqlstate}
    return None


def describe():
    cols = cur.describe(f"select i, s from {db}.public.t where i = %s", (1,))
    return [[c.name, c.type_code, c.internal_size] for c in cols]


def put_copy_get():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "rows.csv")
        with open(src, "w") as fh:
            fh.write("1,one\n2,two\n")
        cur.execute(f"create or replace table {db}.public.st (a int, b varchar)")
        put = cur.execute(f"put file://{src} @{db}.public.%st").fetchall()
        cur.execute(f"copy into {db}.public.st from @{db}.public.%st file_format = (type = csv)")
        loaded = cur.execute(f"select count(*) from {db}.public.st").fetchone()[0]
        out_dir = os.path.join(tmp, "out")
        got = cur.execute(f"get @{db}.public.%st file://{out_dir}").fetchall()
        return {"put": [r[6] for r in put], "loaded": loaded, "got": sorted(os.listdir(out_dir)), "get_rows": len(got)}


def multi_statement():
    results = []
    for c in conn.execute_string("select 1 as a; select 'x' as b"):
        results.append(c.fetchall())
    return results


check(out, "round_trip", round_trip)
check(out, "pyformat_binds", pyformat_binds)
check(out, "executemany", executemany)
check(out, "multi_chunk", multi_chunk)
check(out, "transaction", transaction)
check(out, "missing_object", lambda: failure(f"select * from {db}.public.nothing"))
check(out, "division_by_zero", lambda: failure("select 1/0"))
check(out, "describe", describe)
check(out, "multi_statement", multi_statement)
check(out, "put_copy_get", put_copy_get)
conn.close()
print(json.dumps(out, default=str))
