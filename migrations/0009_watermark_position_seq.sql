-- Watermark sync: a write counter on the stored position, so a batch advances it only from the value it
-- started with (compare-and-set). A batch attempt that outlived its heartbeat timeout (a "zombie": Temporal
-- already retried it and the run went on) finds the counter moved and writes nothing, instead of putting
-- back an earlier position that a later batch had already advanced. The epoch still guards resets.

-- Up Migration

ALTER TABLE sync_watermarks ADD COLUMN position_seq bigint NOT NULL DEFAULT 0;

-- Down Migration

ALTER TABLE sync_watermarks DROP COLUMN position_seq;
