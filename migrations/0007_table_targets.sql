-- One DuckDB target per registered table. Until now the target was implicit: schema = Snowflake
-- schema, table = Snowflake table, so DB1.S.T and DB2.S.T both wrote "S"."T". From now on each
-- registration records its target, new registrations default to "<DATABASE>__<SCHEMA>"."<TABLE>",
-- and a unique index on the lower-cased target (DuckDB matches identifiers case-insensitively)
-- keeps two registrations from writing the same table.
--
-- Existing registrations keep the target they already write ("<SCHEMA>"."<TABLE>"), so their data,
-- their DuckDB `_floe.state` row (keyed by the quoted target) and their high-water mark carry on
-- unchanged. Where several registrations shared one implicit target, the one whose rows are in it
-- (the most recently synced) keeps it; the others move to the default rule and lose their sync
-- status (it described rows that were overwritten), so their next sync loads them afresh.

-- Up Migration

ALTER TABLE allowed_tables ADD COLUMN target_schema text, ADD COLUMN target_table text;

WITH ranked AS (
  SELECT a.table_id,
         row_number() OVER (PARTITION BY lower(a.schema_name), lower(a.table_name)
                            ORDER BY s.last_sync_at DESC NULLS LAST, a.created_at, a.table_id) AS n
    FROM allowed_tables a LEFT JOIN table_sync_status s USING (table_id)
)
UPDATE allowed_tables a
   SET target_schema = CASE WHEN r.n = 1 THEN a.schema_name ELSE a.database_name || '__' || a.schema_name END,
       target_table = a.table_name
  FROM ranked r
 WHERE r.table_id = a.table_id;

DELETE FROM table_sync_status s
 USING allowed_tables a
 WHERE a.table_id = s.table_id AND a.target_schema <> a.schema_name;

ALTER TABLE allowed_tables ALTER COLUMN target_schema SET NOT NULL, ALTER COLUMN target_table SET NOT NULL;

CREATE UNIQUE INDEX allowed_tables_target_key ON allowed_tables (lower(target_schema), lower(target_table));

-- Down Migration

DROP INDEX allowed_tables_target_key;
ALTER TABLE allowed_tables DROP COLUMN target_table, DROP COLUMN target_schema;
