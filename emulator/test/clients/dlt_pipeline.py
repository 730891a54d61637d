"""
Runs a dlt pipeline with the Snowflake destination against the emulator, as a user's code would, and
prints one JSON object of what each run and the tables saw; emulator/test/dlt.test.ts asserts on it.

    python dlt_pipeline.py <emulator url> <user> <password> <database to create>

The first run loads nested JSON (dicts in dicts become columns, lists become child tables): a `customers`
resource merged on its primary key and an appended `events` resource. The second run merges changed and
new customers: rows of the same `id` are replaced, their child rows with them.
"""

import json
import os
import tempfile

import dlt
import snowflake.connector
from emulator_client import check, connect, password, url, user
from emulator_client import database as db

# A failed load job fails the run at once (dlt retries transient errors otherwise) and logs only errors.
os.environ["LOAD__RAISE_ON_MAX_RETRIES"] = "1"
os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"

out = {"version": dlt.__version__, "connector": snowflake.connector.__version__}
conn = connect()
cur = conn.cursor()
cur.execute(f"create database {db}")

credentials = f"snowflake://{user}:{password}@floe/{db}?host={url.hostname}&port={url.port}&protocol=http"


@dlt.resource(name="customers", primary_key="id", write_disposition="merge")
def customers(rows):
    yield rows


@dlt.resource(name="events", write_disposition="append")
def events(rows):
    yield rows


FIRST_CUSTOMERS = [
    {
        "id": 1,
        "name": "Ada",
        "address": {"city": "London", "geo": {"lat": 51.5, "lon": -0.12}},
        "orders": [{"sku": "A-1", "qty": 2, "lines": [{"n": 1}, {"n": 2}]}, {"sku": "B-7", "qty": 1}],
    },
    {"id": 2, "name": "Grace", "address": {"city": "New York", "geo": {"lat": 40.7, "lon": -74.0}}, "orders": []},
    {"id": 3, "name": "Linus", "address": {"city": "Helsinki"}, "orders": [{"sku": "C-3", "qty": 5}]},
]
EVENTS = [
    {"kind": "signup", "customer": 1, "tags": ["new", "web"], "meta": {"source": "ads", "score": 0.5}},
    {"kind": "login", "customer": 2, "tags": [], "meta": {"source": "app"}},
]
SECOND_CUSTOMERS = [
    {"id": 1, "name": "Ada L.", "address": {"city": "Cambridge", "geo": {"lat": 52.2, "lon": 0.12}}, "orders": []},
    {"id": 3, "name": "Linus", "address": {"city": "Portland"}, "orders": [{"sku": "C-3", "qty": 6}, {"sku": "D-9", "qty": 1}]},
    {"id": 4, "name": "Barbara", "address": {"city": "Boston"}, "orders": [{"sku": "E-2", "qty": 3}]},
]


def query(sql):
    return [list(r) for r in cur.execute(sql).fetchall()]


def tables():
    return {
        "customers": query(
            'select "ID", "NAME", "ADDRESS__CITY", "ADDRESS__GEO__LAT", "ADDRESS__GEO__LON" from shop.customers order by "ID"'
        ),
        "orders": query(
            'select c."ID", o."SKU", o."QTY" from shop.customers__orders o'
            ' join shop.customers c on o."_DLT_ROOT_ID" = c."_DLT_ID" order by c."ID", o."SKU"'
        ),
        "orphan_orders": query(
            'select count(*) from shop.customers__orders o'
            ' where not exists (select 1 from shop.customers c where c."_DLT_ID" = o."_DLT_PARENT_ID")'
        )[0][0],
        "order_lines": query('select "N" from shop.customers__orders__lines order by "N"'),
        "events": query('select "KIND", "CUSTOMER", "META__SOURCE", "META__SCORE" from shop.events order by "KIND"'),
        "event_tags": query('select "VALUE", "_DLT_LIST_IDX" from shop.events__tags order by "VALUE"'),
    }


with tempfile.TemporaryDirectory() as pipelines_dir:
    pipeline = dlt.pipeline(
        pipeline_name="floe_emulator",
        pipelines_dir=pipelines_dir,
        destination=dlt.destinations.snowflake(credentials=credentials),
        dataset_name="shop",
    )

    def run(*resources):
        info = pipeline.run(list(resources))
        return {"failed_jobs": info.has_failed_jobs, "loads": len(info.loads_ids)}

    check(out, "first_run", lambda: run(customers(FIRST_CUSTOMERS), events(EVENTS)))
    check(out, "after_first", tables)
    check(out, "second_run", lambda: run(customers(SECOND_CUSTOMERS)))
    check(out, "after_second", tables)

conn.close()
print(json.dumps(out, default=str))
