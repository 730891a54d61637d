"""dlt peer of `npm run bench -- peers`: Snowflake -> DuckDB with dlt's `sql_database` source.

Usage: python dlt_load.py <backend> <duckdb file> <table> [<table> ...]
Reads the Snowflake connection from the environment (FLOE_PEER_SF_HOST, _PORT, _USER, _PASSWORD, _ACCOUNT,
_DATABASE, _SCHEMA), loads each table with `sql_table` (SQLAlchemy reflection through snowflake-sqlalchemy,
rows read by the Snowflake Python connector and handed to dlt by the given backend: `sqlalchemy`, dlt's
default, yields Python dicts; `pyarrow` yields Arrow tables) into the dataset `peer` of a DuckDB destination at the given
file, full refresh (write disposition "replace"), and prints one JSON line with the rows loaded per table.
"""

import json
import os
import sys

import dlt
from dlt.sources.sql_database import sql_table
from sqlalchemy import create_engine
from sqlalchemy.engine import URL


def main() -> None:
    backend, target, tables = sys.argv[1], sys.argv[2], sys.argv[3:]
    env = os.environ
    url = URL.create(
        "snowflake",
        username=env["FLOE_PEER_SF_USER"],
        password=env["FLOE_PEER_SF_PASSWORD"],
        host=env["FLOE_PEER_SF_ACCOUNT"],
        database=f"{env['FLOE_PEER_SF_DATABASE']}/{env['FLOE_PEER_SF_SCHEMA']}",
    )
    pipeline = dlt.pipeline(
        pipeline_name="floe_peer",
        destination=dlt.destinations.duckdb(target),
        dataset_name="peer",
        pipelines_dir=env.get("FLOE_PEER_DLT_DIR"),
    )
    # snowflake-sqlalchemy takes host, port and protocol only as connect arguments, not in the URL.
    engine = create_engine(
        url,
        connect_args={"host": env["FLOE_PEER_SF_HOST"], "port": int(env["FLOE_PEER_SF_PORT"]), "protocol": "http"},
    )
    resources = [sql_table(credentials=engine, table=t, reflection_level="full_with_precision", backend=backend) for t in tables]
    info = pipeline.run(resources, write_disposition="replace")
    engine.dispose()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    print(json.dumps({"rows": {t: counts.get(t.lower(), counts.get(t, 0)) for t in tables}, "loads": len(info.loads_ids)}))


if __name__ == "__main__":
    main()
