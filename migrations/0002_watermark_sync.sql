-- Watermark sync, PostgreSQL → Snowflake (seed 002): per-table position and status, and failed batches.
-- The seed's columns are kept (source_table, last_watermark, last_run, last_status, last_error,
-- rows_processed); last_watermark is text in the watermark column's own PostgreSQL type (timestamp,
-- timestamptz, date or a number), because a watermark is not always a timestamp.

-- Up Migration

CREATE TABLE sync_watermarks (
  source_table                text PRIMARY KEY,           -- as configured, e.g. public.users
  target_table                text,
  -- Position: the (watermark, primary key) pair of the last row merged. Rows sharing the boundary
  -- watermark are never skipped because the key is part of the position.
  last_watermark              text,
  last_pk                     jsonb,                      -- primary key values as text, in key order
  -- Everything with watermark <= complete_before is known to be read (commit lag passed). The next run
  -- re-reads (complete_before, last_watermark] for late commits; NULL = from the start.
  complete_before             text,
  -- Bumped by a reset/backfill; a batch advances the position only if the epoch it started with still holds.
  epoch                       int NOT NULL DEFAULT 0,
  last_run                    timestamptz,
  last_status                 text,                       -- running | success | idle | error | superseded
  last_error                  text,
  rows_processed              bigint NOT NULL DEFAULT 0,  -- rows merged by the last run
  rows_total                  bigint NOT NULL DEFAULT 0,  -- rows merged since the table was added
  sync_success_count          bigint NOT NULL DEFAULT 0,
  sync_failure_count          bigint NOT NULL DEFAULT 0,
  last_sync_duration_seconds  double precision,
  last_workflow_id            text,
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- One row per batch that failed for good (after retries, or a persistent error). The batch is the
-- page of `batch_size` rows of source_table after position (after_watermark, after_pk) in
-- (watermark, pk) order; `sample_keys` holds the first keys of the batch when they were read.
CREATE TABLE sync_errors (
  id               bigserial PRIMARY KEY,
  source_table     text NOT NULL,
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  workflow_id      text,
  run_id           text,
  error_type       text,
  error_message    text NOT NULL,
  after_watermark  text,
  after_pk         jsonb,
  after_exclusive_watermark_only boolean NOT NULL DEFAULT false,
  batch_size       int,
  sample_keys      jsonb
);

CREATE INDEX sync_errors_table_idx ON sync_errors (source_table, occurred_at DESC);

-- Down Migration

DROP TABLE sync_errors;
DROP TABLE sync_watermarks;
