/**
 * Control-plane rows of the cache (migrations/0004_query_cache.sql): storage, sources, caches and their
 * state, in PostgreSQL. Plain functions over a pg Pool; no secrets are stored here (sources hold a
 * credentials reference the server resolves, resolved by src/credentials/store.ts).
 */
import type pg from 'pg';

export interface CacheSource {
  source_name: string;
  driver_type: 'snowflake';
  credentials_ref: string;
  passthrough_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface CacheDefinition {
  cache_name: string;
  source_name: string;
  source_query: string;
  monitor_tables: string[];
  monitor_tables_derived: boolean;
  ttl_seconds: number | null;
  schedule_interval_seconds: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface CacheStateRow {
  cache_name: string;
  status: 'empty' | 'ready' | 'refreshing' | 'error';
  source_state_hash: string | null;
  last_altered: Record<string, string> | null;
  row_count: string | null;
  snapshot_id: string | null;
  refreshed_at: Date | null;
  expires_at: Date | null;
  last_checked_at: Date | null;
  last_result: string | null;
  last_error: string | null;
  last_job_id: string | null;
}

/** A cache with its state (LEFT JOIN; state fields null before the first check). */
export type CacheWithState = CacheDefinition & Omit<CacheStateRow, 'cache_name'>;

/** Record the storage settings (singleton row). */
export async function saveStorage(
  pool: pg.Pool,
  s: { catalogDisplay: string; dataPath: string; metadataSchema: string },
): Promise<void> {
  await pool.query(
    `INSERT INTO cache_storage (id, catalog_display, data_path, metadata_schema) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET catalog_display = excluded.catalog_display, data_path = excluded.data_path,
       metadata_schema = excluded.metadata_schema, updated_at = now()`,
    [s.catalogDisplay, s.dataPath, s.metadataSchema],
  );
}

/** Insert or update a source; returns the row and whether it was created. */
export async function upsertSource(
  pool: pg.Pool,
  s: { sourceName: string; credentialsRef: string; passthroughEnabled: boolean },
): Promise<{ source: CacheSource; created: boolean }> {
  const r = await pool.query<CacheSource & { inserted: boolean }>(
    `INSERT INTO cache_sources (source_name, driver_type, credentials_ref, passthrough_enabled) VALUES ($1, 'snowflake', $2, $3)
     ON CONFLICT (source_name) DO UPDATE SET credentials_ref = excluded.credentials_ref, passthrough_enabled = excluded.passthrough_enabled, updated_at = now()
     RETURNING *, (xmax = 0) AS inserted`,
    [s.sourceName, s.credentialsRef, s.passthroughEnabled],
  );
  const { inserted, ...source } = r.rows[0]!;
  return { source, created: inserted };
}

export async function getSource(pool: pg.Pool, name: string): Promise<CacheSource | null> {
  const r = await pool.query<CacheSource>('SELECT * FROM cache_sources WHERE source_name = $1', [name]);
  return r.rows[0] ?? null;
}

export async function listSources(pool: pg.Pool): Promise<CacheSource[]> {
  return (await pool.query<CacheSource>('SELECT * FROM cache_sources ORDER BY source_name')).rows;
}

/** Insert a cache and its empty state. Returns false when the name is taken. */
export async function insertCache(
  pool: pg.Pool,
  c: Omit<CacheDefinition, 'created_at' | 'updated_at'>,
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = await client.query(
      `INSERT INTO caches (cache_name, source_name, source_query, monitor_tables, monitor_tables_derived, ttl_seconds, schedule_interval_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cache_name) DO NOTHING`,
      [
        c.cache_name,
        c.source_name,
        c.source_query,
        c.monitor_tables,
        c.monitor_tables_derived,
        c.ttl_seconds,
        c.schedule_interval_seconds,
      ],
    );
    if (r.rowCount === 0) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query(`INSERT INTO cache_state (cache_name) VALUES ($1)`, [c.cache_name]);
    await client.query('COMMIT');
    return true;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

const CACHE_COLUMNS = `c.*, s.status, s.source_state_hash, s.last_altered, s.row_count, s.snapshot_id, s.refreshed_at, s.expires_at,
  s.last_checked_at, s.last_result, s.last_error, s.last_job_id`;
const CACHE_FROM = 'caches c LEFT JOIN cache_state s USING (cache_name)';
const SELECT_CACHE = `SELECT ${CACHE_COLUMNS} FROM ${CACHE_FROM}`;

export async function getCache(pool: pg.Pool, name: string): Promise<CacheWithState | null> {
  const r = await pool.query<CacheWithState>(`${SELECT_CACHE} WHERE c.cache_name = $1`, [name]);
  return r.rows[0] ?? null;
}

/**
 * A cache with its state and its source's row, in one round trip (what a refresh activity starts from).
 * `source` is null when the cache's source row is gone. Null when the cache does not exist.
 */
export async function getCacheWithSource(
  pool: pg.Pool,
  name: string,
): Promise<{ cache: CacheWithState; source: CacheSource | null } | null> {
  const r = await pool.query<CacheWithState & SourceColumns>(
    `SELECT ${CACHE_COLUMNS}, src.driver_type AS src_driver_type, src.credentials_ref AS src_credentials_ref,
       src.passthrough_enabled AS src_passthrough_enabled, src.created_at AS src_created_at, src.updated_at AS src_updated_at
     FROM ${CACHE_FROM} LEFT JOIN cache_sources src ON src.source_name = c.source_name WHERE c.cache_name = $1`,
    [name],
  );
  const row = r.rows[0];
  if (!row) return null;
  const {
    src_driver_type: driverType,
    src_credentials_ref: credentialsRef,
    src_passthrough_enabled: passthroughEnabled,
    src_created_at: createdAt,
    src_updated_at: updatedAt,
    ...cache
  } = row;
  const source =
    credentialsRef === null
      ? null
      : {
          source_name: cache.source_name,
          driver_type: driverType!,
          credentials_ref: credentialsRef,
          passthrough_enabled: passthroughEnabled!,
          created_at: createdAt!,
          updated_at: updatedAt!,
        };
  return { cache, source };
}

/** The source columns of {@link getCacheWithSource}'s row (null when no source row joined). */
interface SourceColumns {
  src_driver_type: CacheSource['driver_type'] | null;
  src_credentials_ref: string | null;
  src_passthrough_enabled: boolean | null;
  src_created_at: Date | null;
  src_updated_at: Date | null;
}

export async function listCaches(pool: pg.Pool): Promise<CacheWithState[]> {
  return (await pool.query<CacheWithState>(`${SELECT_CACHE} ORDER BY c.cache_name`)).rows;
}

/** What routing a query reads of a cache: its name, source and query, and the state its freshness is judged on. */
export type CacheRoute = Pick<
  CacheWithState,
  'cache_name' | 'source_name' | 'source_query' | 'snapshot_id' | 'refreshed_at' | 'expires_at'
>;

/**
 * Caches by (lower-cased) name, for routing: one round trip, only the columns routing uses (every query
 * routed to the cache waits for this read), as a named prepared statement PostgreSQL parses and plans
 * once per connection.
 */
export async function cachesByName(pool: pg.Pool, names: string[]): Promise<Map<string, CacheRoute>> {
  if (!names.length) return new Map();
  const r = await pool.query<CacheRoute>({
    name: 'floe_cache_routes',
    text: `SELECT c.cache_name, c.source_name, c.source_query, s.snapshot_id, s.refreshed_at, s.expires_at
      FROM ${CACHE_FROM} WHERE lower(c.cache_name) = ANY($1)`,
    values: [names.map((n) => n.toLowerCase())],
  });
  return new Map(r.rows.map((c) => [c.cache_name.toLowerCase(), c]));
}

export async function deleteCache(pool: pg.Pool, name: string): Promise<boolean> {
  const r = await pool.query('DELETE FROM caches WHERE cache_name = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

/** Mark a check that decided to skip. */
export async function recordSkip(pool: pg.Pool, name: string, jobId: string): Promise<void> {
  await pool.query(
    `UPDATE cache_state SET last_checked_at = now(), last_result = 'SKIPPED', last_job_id = $2, updated_at = now() WHERE cache_name = $1`,
    [name, jobId],
  );
}

/** Mark a refresh as running (the previous rows stay readable). */
export async function recordRefreshing(pool: pg.Pool, name: string, jobId: string): Promise<void> {
  await pool.query(
    `UPDATE cache_state SET status = 'refreshing', last_checked_at = now(), last_job_id = $2, updated_at = now() WHERE cache_name = $1`,
    [name, jobId],
  );
}

/** What a successful refresh records. */
export interface RefreshedState {
  cacheName: string;
  jobId: string;
  /** Hash of the monitored tables' LAST_ALTERED, read before the extraction. */
  stateHash: string;
  lastAltered: Record<string, string>;
  rows: number;
  snapshotId: number;
}

/**
 * Record a successful refresh: the hash read before extraction, rows, snapshot, refreshed_at = now,
 * expires_at = now + ttl (null without a TTL).
 */
export async function recordRefreshed(pool: pg.Pool, u: RefreshedState): Promise<void> {
  await pool.query(
    `UPDATE cache_state s SET status = 'ready', source_state_hash = $2, last_altered = $3, row_count = $4, snapshot_id = $5,
       refreshed_at = now(), expires_at = CASE WHEN c.ttl_seconds IS NULL THEN NULL ELSE now() + make_interval(secs => c.ttl_seconds) END,
       last_result = 'REFRESHED', last_error = NULL, last_job_id = $6, updated_at = now()
     FROM caches c WHERE c.cache_name = s.cache_name AND s.cache_name = $1`,
    [u.cacheName, u.stateHash, JSON.stringify(u.lastAltered), u.rows, u.snapshotId, u.jobId],
  );
}

/** Record a failed refresh; status goes back to `ready` when rows exist (they are still readable), else `error`. */
export async function recordError(pool: pg.Pool, name: string, jobId: string, message: string): Promise<void> {
  await pool.query(
    `UPDATE cache_state SET status = CASE WHEN snapshot_id IS NULL THEN 'error' ELSE 'ready' END, last_result = 'ERROR',
       last_error = $3, last_job_id = $2, last_checked_at = now(), updated_at = now() WHERE cache_name = $1`,
    [name, jobId, message.slice(0, 4000)],
  );
}
