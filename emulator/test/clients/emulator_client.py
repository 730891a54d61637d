"""
What the Python client programs share: a connection to the emulator and the reporting of one check.
The programs run as `python <program>.py <emulator url> <user> <password> <database>`; this module sits next
to them, so it is importable as `emulator_client`.
"""

import sys
from urllib.parse import urlparse

import snowflake.connector

url = urlparse(sys.argv[1])
user, password, database = sys.argv[2], sys.argv[3], sys.argv[4]


def connect(**extra):
    """A Snowflake Connector for Python connection to the emulator (plain HTTP to its host and port)."""
    return snowflake.connector.connect(
        account="floe",
        user=user,
        password=password,
        host=url.hostname,
        port=url.port,
        protocol="http",
        login_timeout=30,
        network_timeout=60,
        **extra,
    )


def check(out, name, fn):
    """Runs one check into out[name]; a failure is reported there, so that it does not hide the other checks."""
    try:
        out[name] = fn()
    except Exception as e:
        out[name] = {"error": type(e).__name__, "errno": getattr(e, "errno", None), "message": str(e)[:2000]}
