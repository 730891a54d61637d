-- Wake the execution upload drain when work is queued, rather than at the Schedule's next tick: every
-- statement that inserts into snowflake_sync_queue (the completion trigger's INSERT, a backfill)
-- notifies the channel floe_execution_upload_queued. Workers serving execution upload LISTEN on it and
-- trigger the drain Schedule (src/jobs/execution-upload/notify.ts). PostgreSQL delivers a notification
-- when the transaction commits and folds identical ones of one transaction into one, so a burst of
-- completions wakes the drain once. The Schedule still ticks: a missed notification only waits for it.

-- Up Migration

CREATE FUNCTION notify_execution_upload_queued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('floe_execution_upload_queued', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER trigger_notify_execution_upload_queued
  AFTER INSERT ON snowflake_sync_queue
  FOR EACH STATEMENT
  EXECUTE FUNCTION notify_execution_upload_queued();

-- Down Migration

DROP TRIGGER trigger_notify_execution_upload_queued ON snowflake_sync_queue;
DROP FUNCTION notify_execution_upload_queued();
