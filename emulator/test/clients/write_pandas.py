"""
Drives the emulator with the Snowflake Connector for Python's `write_pandas`, as a user's code would,
and prints one JSON object of what each check saw; emulator/test/write-pandas.test.ts asserts on it.

    python write_pandas.py <emulator url> <user> <password> <database to create>
"""

import datetime
import decimal
import json

import pandas as pd
import snowflake.connector
from emulator_client import check, connect
from emulator_client import database as db
from snowflake.connector.pandas_tools import write_pandas

out = {"version": snowflake.connector.__version__, "pandas": pd.__version__}
conn = connect()
cur = conn.cursor()
cur.execute(f"create database {db}")
cur.execute(f"use schema {db}.public")

frame = pd.DataFrame(
    {
        "ID": pd.array([1, 2, 3], dtype="int64"),
        "SCORE": [1.5, -0.25, None],
        "PRICE": [decimal.Decimal("12.34"), decimal.Decimal("-0.01"), None],
        "NAME": ["héllo", "日本語 ✓", None],
        "ACTIVE": [True, False, None],
        "DAY": [datetime.date(2024, 2, 29), datetime.date(1999, 12, 31), None],
        "AT": pd.to_datetime([datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), datetime.datetime(1970, 1, 1), None]),
    }
)


def read_back(table):
    rows = cur.execute(f'select * from "{table}" order by "ID"').fetchall()
    return [[None if v is None else str(v) for v in row] for row in rows]


def created():
    success, nchunks, nrows, _ = write_pandas(conn, frame, "PEOPLE", auto_create_table=True)
    columns = cur.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_name = 'PEOPLE' order by ordinal_position"
    ).fetchall()
    return {"result": [success, nchunks, nrows], "columns": [list(c) for c in columns], "rows": read_back("PEOPLE")}


def appended():
    write_pandas(conn, frame.iloc[:1], "PEOPLE")
    return cur.execute('select count(*) from "PEOPLE"').fetchone()[0]


def overwritten():
    replacement = pd.DataFrame({"ID": [10, 11], "NAME": ["zehn", "elf"]})
    success, _, nrows, _ = write_pandas(conn, replacement, "PEOPLE", auto_create_table=True, overwrite=True)
    columns = cur.execute(
        "select column_name from information_schema.columns where table_name = 'PEOPLE' order by ordinal_position"
    ).fetchall()
    return {"result": [success, nrows], "columns": [c[0] for c in columns], "rows": read_back("PEOPLE")}


def overwritten_in_place():
    write_pandas(conn, pd.DataFrame({"ID": [12], "NAME": ["zwölf"]}), "PEOPLE", overwrite=True)
    return read_back("PEOPLE")


check(out, "created", created)
check(out, "appended", appended)
check(out, "overwritten", overwritten)
check(out, "overwritten_in_place", overwritten_in_place)
conn.close()
print(json.dumps(out, default=str))
