-- Query-result cache in DuckLake (seed 003, DuckSync): storage settings, sources, cache definitions and
-- the state of each cache's last check/refresh. The cached rows themselves live in DuckLake (catalog
-- tables in schema floe_ducklake of DUCKLAKE_CATALOG_URL or this database, Parquet under the data path).

-- Up Migration

-- One row (id = 1): the DuckLake data path set up through POST /cache/storage or at start.
-- The catalog URL is never stored (it carries a password); only its redacted form.
CREATE TABLE cache_storage (
  id               int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  catalog_display  text NOT NULL,
  data_path        text NOT NULL,
  metadata_schema  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- A Snowflake source. credentials_ref names credentials held by the server (never the secret).
CREATE TABLE cache_sources (
  source_name          text PRIMARY KEY,
  driver_type          text NOT NULL CHECK (driver_type = 'snowflake'),
  credentials_ref      text NOT NULL,
  passthrough_enabled  boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- A cached query. monitor_tables are fully qualified DB.SCHEMA.TABLE names as Snowflake stores them.
CREATE TABLE caches (
  cache_name                 text PRIMARY KEY,
  source_name                text NOT NULL REFERENCES cache_sources (source_name) ON DELETE RESTRICT,
  source_query               text NOT NULL,
  monitor_tables             text[] NOT NULL,
  monitor_tables_derived     boolean NOT NULL DEFAULT false,
  ttl_seconds                int NULL CHECK (ttl_seconds IS NULL OR ttl_seconds > 0),
  schedule_interval_seconds  int NULL CHECK (schedule_interval_seconds IS NULL OR schedule_interval_seconds > 0),
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- State of each cache: the hash of the monitored tables' LAST_ALTERED as read BEFORE the extraction
-- that produced the current rows, the DuckLake snapshot that holds them, and the last outcome.
CREATE TABLE cache_state (
  cache_name         text PRIMARY KEY REFERENCES caches (cache_name) ON DELETE CASCADE,
  status             text NOT NULL DEFAULT 'empty' CHECK (status IN ('empty', 'ready', 'refreshing', 'error')),
  source_state_hash  text NULL,
  last_altered       jsonb NULL,
  row_count          bigint NULL,
  snapshot_id        bigint NULL,
  refreshed_at       timestamptz NULL,
  expires_at         timestamptz NULL,
  last_checked_at    timestamptz NULL,
  last_result        text NULL,
  last_error         text NULL,
  last_job_id        text NULL,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE cache_state;
DROP TABLE caches;
DROP TABLE cache_sources;
DROP TABLE cache_storage;
