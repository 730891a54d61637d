/**
 * Per-test databases on the run's PostgreSQL server (test/global-setup.ts).
 *
 *   const db = await freshDatabase();          // migrated, uniquely named
 *   const pool = createPool(db.url); ...; await pool.end();
 *   await db.drop();                           // in afterAll
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createDatabase, dropDatabase } from '../../src/infra/postgres.js';
import { setLogLevel } from '../../src/logger.js';

// Suites that make databases do not need a line per migration run.
setLogLevel('warn');

/** A database created for one suite. */
export interface FreshDatabase {
  /** postgres:// URL of the new database (contains the test server's password). */
  url: string;
  name: string;
  /** Drops the database, terminating any connections still open. */
  drop(): Promise<void>;
}

/** URL of the run's maintenance database (inject('pgServerUrl')). */
export function pgServerUrl(): string {
  return inject('pgServerUrl');
}

/**
 * Creates a uniquely named database on the test server and (unless `migrated: false`) applies every
 * migration in `migrations/`.
 *
 * @param options.prefix database name prefix (lower-case letters, digits, `_`); default `floe_test`.
 */
export async function freshDatabase(options: { prefix?: string; migrated?: boolean } = {}): Promise<FreshDatabase> {
  const server = pgServerUrl();
  const name = `${options.prefix ?? 'floe_test'}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(server, name);
  if (options.migrated !== false) {
    try {
      await migrate(url);
    } catch (err) {
      await dropDatabase(server, name).catch(() => undefined);
      throw err;
    }
  }
  return { url, name, drop: () => dropDatabase(server, name) };
}
