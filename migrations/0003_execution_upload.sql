-- Execution upload (seed 004): every completed workflow execution is uploaded to its user's Snowflake.
--
-- workflow_executions       one row per execution; `results` holds the rows (JSON), or `results_ref`
--                           points at them; snowflake_table / snowflake_synced_at once uploaded.
-- snowflake_configurations  per-user Snowflake settings; the password is AES-256-GCM ciphertext
--                           (src/uploads/crypto.ts, key FLOE_ENCRYPTION_KEY), never plain text.
-- snowflake_sync_queue      the seed's queue (+ status 'skipped', lease and result columns); one item
--                           per execution (UNIQUE), filled by the trigger below or by a backfill.
-- Views: snowflake_sync_queue_summary (per status), snowflake_sync_failures (failed items).
--
-- The seed's `users` table is not part of floe; user_id is a plain uuid here.

-- Up Migration

CREATE TABLE workflow_executions (
  execution_id         text PRIMARY KEY,
  user_id              uuid NOT NULL,
  workflow_name        text,
  status               text NOT NULL DEFAULT 'pending',   -- pending | running | completed | failed | cancelled
  -- Result rows: a JSON array of objects, or {"columns": [...], "rows": [[...], ...]} (keeps column order).
  results              jsonb,
  -- Or a reference to them: a local NDJSON/JSON/CSV/Parquet file path readable by the worker.
  results_ref          text,
  row_count            bigint,
  started_at           timestamptz,
  completed_at         timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  -- Set by the upload: fully qualified Snowflake table and when it was written.
  snowflake_table      text,
  snowflake_synced_at  timestamptz,
  snowflake_rows       bigint
);

CREATE INDEX workflow_executions_user_idx ON workflow_executions (user_id, completed_at DESC);
CREATE INDEX workflow_executions_completed_unsynced_idx ON workflow_executions (completed_at)
  WHERE status = 'completed' AND snowflake_synced_at IS NULL;

CREATE TABLE snowflake_configurations (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL,
  account_identifier  text NOT NULL,
  warehouse           text,
  database            text NOT NULL,
  schema              text NOT NULL,
  username            text NOT NULL,
  -- 'v1.<iv>.<tag>.<ciphertext>' (base64url), AES-256-GCM with the user id as associated data.
  password_encrypted  text NOT NULL,
  role                text,
  -- Base URL of the Snowflake endpoint (tests: the emulator); NULL = Snowflake's own host for the account.
  access_url          text,
  is_active           boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (password_encrypted LIKE 'v1.%')
);

-- At most one active configuration per user.
CREATE UNIQUE INDEX snowflake_configurations_active_user_idx ON snowflake_configurations (user_id) WHERE is_active;

CREATE TABLE snowflake_sync_queue (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  execution_id      text NOT NULL UNIQUE REFERENCES workflow_executions (execution_id) ON DELETE CASCADE,
  user_id           uuid NOT NULL,
  status            varchar(50) NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'skipped')),
  retry_count       integer NOT NULL DEFAULT 0,
  max_retries       integer NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
  error_message     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  processed_at      timestamptz,
  -- floe additions: who holds the item and until when (a drain re-claims expired leases), when it may
  -- be claimed (retry route / backfill set now()), and what the upload produced.
  claimed_by        text,
  lease_expires_at  timestamptz,
  available_at      timestamptz NOT NULL DEFAULT now(),
  attempts          integer NOT NULL DEFAULT 0,
  snowflake_table   text,
  rows_uploaded     bigint,
  load_method       text,
  source            text NOT NULL DEFAULT 'trigger'      -- trigger | backfill
);

CREATE INDEX snowflake_sync_queue_claim_idx ON snowflake_sync_queue (available_at, created_at) WHERE status = 'pending';
CREATE INDEX snowflake_sync_queue_lease_idx ON snowflake_sync_queue (lease_expires_at) WHERE status = 'processing';
CREATE INDEX snowflake_sync_queue_status_idx ON snowflake_sync_queue (status, updated_at DESC);

-- Queue an execution when it becomes completed: on INSERT with status 'completed', or an UPDATE that
-- changes status to 'completed'. ON CONFLICT keeps it to one item per execution, however often the row
-- is updated or re-completed.
CREATE FUNCTION queue_execution_for_universal_snowflake_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'completed' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'completed') THEN
    INSERT INTO snowflake_sync_queue (execution_id, user_id)
    VALUES (NEW.execution_id, NEW.user_id)
    ON CONFLICT (execution_id) DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER trigger_queue_universal_snowflake_sync
  AFTER INSERT OR UPDATE OF status ON workflow_executions
  FOR EACH ROW
  EXECUTE FUNCTION queue_execution_for_universal_snowflake_sync();

CREATE VIEW snowflake_sync_queue_summary AS
SELECT
  status,
  count(*)::bigint                                                        AS count,
  min(created_at)                                                         AS oldest_created_at,
  max(updated_at)                                                         AS last_updated_at,
  round(avg(retry_count)::numeric, 2)                                     AS avg_retry_count,
  round(avg(extract(epoch FROM processed_at - created_at))::numeric, 3)   AS avg_seconds_to_process
FROM snowflake_sync_queue
GROUP BY status;

CREATE VIEW snowflake_sync_failures AS
SELECT
  q.id AS sync_id,
  q.execution_id,
  q.user_id,
  e.workflow_name,
  e.completed_at,
  q.retry_count,
  q.max_retries,
  q.attempts,
  q.error_message,
  q.created_at,
  q.updated_at,
  q.processed_at
FROM snowflake_sync_queue q
JOIN workflow_executions e ON e.execution_id = q.execution_id
WHERE q.status = 'failed';

-- Down Migration

DROP VIEW snowflake_sync_failures;
DROP VIEW snowflake_sync_queue_summary;
DROP TRIGGER trigger_queue_universal_snowflake_sync ON workflow_executions;
DROP FUNCTION queue_execution_for_universal_snowflake_sync();
DROP TABLE snowflake_sync_queue;
DROP TABLE snowflake_configurations;
DROP TABLE workflow_executions;
