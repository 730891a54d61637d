/** Control-plane database access: pools, transactions, migrations. */
export { createPool, withTransaction, type CreatePoolOptions } from './pool.js';
export { migrate, migrationsDir, MIGRATIONS_TABLE, type MigrateOptions } from './migrate.js';
