/**
 * The Snowflake emulator: a DuckDB-backed HTTP server speaking the REST protocol snowflake-sdk 3.x
 * uses (DESIGN §5). Start it in-process with {@link startEmulator}, or from the command line with
 * `npm run emulator -- --port <port> --data-dir <dir> [--seed-tpch <scale>] [--user NAME --password PW | --public-key-file F]` (main.ts).
 *
 * Sign-in is checked as Snowflake checks it (users.ts): start with a `user` (or create users with
 * CREATE USER from a session of one), then connect with e.g. `snowflake.createConnection({ account:
 * 'floe', username, password, accessUrl: url })` or `authenticator: 'SNOWFLAKE_JWT', privateKey`.
 * With no user configured there are no users and every login is refused.
 */
import path from 'node:path';
import { Catalog } from './catalog.js';
import { Engine } from './engine.js';
import type { StatementHandler } from './contract.js';
import { EmulatorServer, type FaultOptions } from './server.js';
import { quoteIdent } from './sql/tokenizer.js';
import { dropSessionStages, handleStageStatement } from './stages.js';
import { seedTpch, type TpchColumn } from './tpch.js';
import { handleUserStatement, UserStore, type BootstrapUser } from './users.js';

export type { FaultOptions } from './server.js';

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Root of the persistent data: `databases/<DB>.duckdb`, `stages/`, `catalog.json`. Created if missing. */
  dataDir: string;
  /** Create SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale> (tpch.ts) before listening; skipped for tables already there. */
  seedTpch?: number;
  faults?: FaultOptions;
  /** Created, or its password / RSA_PUBLIC_KEY (PEM) updated, before listening; kept in `users.json`. */
  user?: BootstrapUser;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`: pass as snowflake-sdk `accessUrl`. */
  url: string;
  port: number;
  /** Stops the server, ends sessions, checkpoints and closes every database. */
  close(): Promise<void>;
}

/** Starts an emulator. Throws if the data directory cannot be opened or the port is taken. */
export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const dataDir = path.resolve(opts.dataDir);
  const catalog = await Catalog.open(dataDir);
  const users = UserStore.open(dataDir);
  if (opts.user) await users.ensureUser(opts.user);
  const handlers: StatementHandler[] = [handleUserStatement(users), handleStageStatement];
  const engine = new Engine(catalog, dataDir, async (sql, ctx) => {
    for (const handle of handlers) {
      const outcome = await handle(sql, ctx);
      if (outcome) return outcome;
    }
    return null;
  });
  if (opts.seedTpch !== undefined) {
    const conn = await catalog.connect();
    try {
      await seedTpch(conn, {
        scale: opts.seedTpch,
        ensureSchema: async (database, schema) => {
          await catalog.createDatabase(database, { ifNotExists: true, orReplace: false });
          await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(database)}.${quoteIdent(schema)}`);
          return `${quoteIdent(database)}.${quoteIdent(schema)}`;
        },
        register: async (database, schema, table, columns: TpchColumn[]) => {
          catalog.tableCreated(database, schema, table, Object.fromEntries(columns.map((c) => [c.name, c.snowflakeType])));
        },
      });
    } finally {
      conn.closeSync();
    }
  }
  const server = new EmulatorServer({ engine, users, faults: opts.faults, onSessionEnd: (id) => dropSessionStages(dataDir, id) });
  const port = await server.listen(opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await server.close();
      await catalog.close();
    },
  };
}
