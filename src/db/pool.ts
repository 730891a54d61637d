/**
 * PostgreSQL connection pools for the control plane.
 */
import pg from 'pg';
import { childLogger } from '../logger.js';

/** Options for {@link createPool}. */
export interface CreatePoolOptions {
  /** Maximum connections (default 10). */
  max?: number;
  /** Shown in pg_stat_activity (default `floe`). */
  applicationName?: string;
  /** Idle connection lifetime in ms (default 30 000). */
  idleTimeoutMillis?: number;
  /** How long to wait for a connection in ms before failing (default 30 000). */
  connectionTimeoutMillis?: number;
}

/** Longest wait, ms, of {@link ClosingPool.end} for its connections to close (a client stuck connecting). */
const CLOSE_WAIT_MS = 5_000;

/**
 * A pg Pool whose `end()` resolves once every connection it had has closed. node-postgres' own
 * `Pool.end()` (pg-pool 3.x) resolves as soon as it has asked each client to end, before their
 * connections are closed: a PostgreSQL server stopped (or a database dropped `WITH (FORCE)`) right
 * after it still finds their backends and terminates them, and the clients report that as a
 * connection error ("terminating connection due to administrator command"). The pool emits `remove`
 * once a client's connection has ended; a checked-out client is removed when it is released.
 */
class ClosingPool extends pg.Pool {
  override end(): Promise<void>;
  override end(callback: () => void): void;
  override end(callback?: () => void): Promise<void> | void {
    const open = this.totalCount;
    const closed = new Promise<void>((resolve) => {
      if (open === 0) return resolve();
      let removed = 0;
      const finish = (): void => {
        clearTimeout(timer);
        this.off('remove', onRemove);
        resolve();
      };
      const onRemove = (): void => {
        if (++removed >= open) finish();
      };
      const timer = setTimeout(finish, CLOSE_WAIT_MS).unref();
      this.on('remove', onRemove);
    });
    const ended = super.end().then(() => closed);
    if (!callback) return ended;
    void ended.then(callback);
  }
}

/**
 * Creates a pg Pool for `databaseUrl`. A connection that fails (the server restarting, an
 * administrator's `pg_terminate_backend`) is logged instead of crashing the process, whether it sits
 * idle in the pool or is checked out between queries (e.g. holding an advisory lock): node-postgres
 * emits a failure outside a query as an `error` event on the client, and the pool listens only while
 * the client is idle. The failed query (or the next one on that client) rejects; the pool discards the
 * client on release and the next `connect()` gets a fresh connection.
 * The caller owns the pool and must `end()` it; `end()` resolves once every connection has closed
 * ({@link ClosingPool}), so the server can be stopped or the database dropped right after it.
 */
export function createPool(databaseUrl: string, options: CreatePoolOptions = {}): pg.Pool {
  const pool = new ClosingPool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'floe',
    idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 30_000,
  });
  pool.on('error', (err) => {
    childLogger({ component: 'db' }).warn({ err: err.message }, 'idle PostgreSQL client failed');
  });
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      childLogger({ component: 'db' }).warn({ err: err.message }, 'PostgreSQL connection failed');
    });
  });
  return pool;
}

/**
 * Runs `fn` inside one transaction on a client from `pool`: COMMIT when it resolves, ROLLBACK
 * (and rethrow) when it throws.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
