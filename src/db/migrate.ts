/**
 * Schema migrations for the control-plane database: plain SQL files in `migrations/`
 * (`NNNN_name.sql` with `-- Up Migration` / `-- Down Migration` sections), applied in order by
 * node-pg-migrate. The history lives in the `pgmigrations` table.
 *
 * Safe to call from every process at start-up: node-pg-migrate takes a PostgreSQL advisory lock
 * (per database) and we wait for it, so when two processes start at once the second waits and
 * then finds nothing to do. All pending migrations run in one transaction.
 *
 * floe opens (and awaits the end of) the runner's connection itself: node-pg-migrate ends a connection
 * it opened without waiting, so a database dropped or a server stopped right after `migrate` returned
 * would otherwise fail that still-open connection with nobody listening for its error.
 */
import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { projectRoot } from '../infra/paths.js';
import { childLogger } from '../logger.js';

/** Directory holding the SQL migrations. */
export const migrationsDir = path.join(projectRoot, 'migrations');

/** Table recording applied migrations. */
export const MIGRATIONS_TABLE = 'pgmigrations';

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** Apply only this many pending migrations (default: all). */
  count?: number;
  /** `down` reverts `count` migrations (default 1 when down). Tests only. */
  direction?: 'up' | 'down';
}

/**
 * Applies pending migrations to the database at `databaseUrl`.
 *
 * @returns names of the migrations applied by this call (empty when already up to date).
 * @throws the underlying error (connection refused, SQL error) after rolling the batch back.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const log = childLogger({ component: 'migrate' });
  const direction = options.direction ?? 'up';
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', (err) => log.debug({ err: err.message }, 'migration connection closed'));
  await client.connect();
  const applied = await runner({
    dbClient: client,
    dir: migrationsDir,
    migrationsTable: MIGRATIONS_TABLE,
    direction,
    count: options.count ?? (direction === 'down' ? 1 : Infinity),
    singleTransaction: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    logger: {
      debug: (msg: string) => log.debug(msg),
      info: (msg: string) => log.debug(msg),
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
  }).finally(() => client.end().catch(() => undefined));
  const names = applied.map((m) => m.name);
  if (names.length > 0) log.info({ migrations: names, direction }, 'migrations applied');
  return names;
}
