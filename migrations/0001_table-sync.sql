-- Table sync (seeds 000/001): registered tables, their Snowflake metadata, last sync status, and API tokens.
-- The seeds' sync_jobs table is replaced by Temporal's workflow history.

-- Up Migration

CREATE TABLE allowed_tables (
  table_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  database_name     text NOT NULL,
  schema_name       text NOT NULL,
  table_name        text NOT NULL,
  source            text NOT NULL DEFAULT 'snowflake',
  status            text NOT NULL DEFAULT 'active',
  primary_key       text[] NULL,
  watermark_column  text NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (database_name, schema_name, table_name)
);

CREATE TABLE table_metadata (
  table_id      uuid PRIMARY KEY REFERENCES allowed_tables (table_id) ON DELETE CASCADE,
  columns       jsonb NOT NULL,
  column_count  int,
  row_count     bigint,
  size_bytes    bigint,
  last_altered  timestamptz,
  last_updated  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE table_sync_status (
  table_id          uuid PRIMARY KEY REFERENCES allowed_tables (table_id) ON DELETE CASCADE,
  last_job_id       text,
  last_sync_status  text,
  last_sync_at      timestamptz,
  last_error        text,
  row_count         bigint,
  size_bytes        bigint,
  high_water_mark   text,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per issued JWT (jti = token_id); the token string itself is never stored.
CREATE TABLE tokens (
  token_id    uuid PRIMARY KEY,
  subject     text NOT NULL,
  type        text NOT NULL DEFAULT 'admin',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);

CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);

-- Down Migration

DROP TABLE tokens;
DROP TABLE table_sync_status;
DROP TABLE table_metadata;
DROP TABLE allowed_tables;
