/**
 * The Snowflake emulator: a DuckDB-backed HTTP server speaking the REST protocol snowflake-sdk 3.x
 * uses. Start it in-process with {@link startEmulator}, or from the command line with
 * `npm run emulator -- --port <port> --data-dir <dir> [--host <address>] [--seed-tpch <scale>] [--user NAME --password PW | --public-key-file F]` (main.ts).
 * It listens on 127.0.0.1 unless given another host, and its DuckDB is sandboxed (catalog.ts).
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
import { urlHost } from './http.js';
import type { FaultOptions } from './queries.js';
import { EmulatorServer } from './server.js';
import { quoteIdent } from './sql/tokenizer.js';
import { dropSessionStages, handleStageStatement } from './stages.js';
import { seedTpch, type TpchColumn } from './tpch.js';
import { handleUserStatement } from './user-statements.js';
import { UserStore, type BootstrapUser } from './users.js';

export type { FaultOptions } from './queries.js';

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Address to listen on; default 127.0.0.1 (this machine only). Anything else (e.g. 0.0.0.0)
   * exposes the emulator to the network: give it explicitly, and only with a configured user.
   */
  host?: string;
  /** Root of the persistent data: `databases/<DB>.duckdb`, `stages/`, `catalog.json`. Created if missing. */
  dataDir: string;
  /** Create SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale> (tpch.ts) before listening; skipped for tables already there. */
  seedTpch?: number;
  faults?: FaultOptions;
  /** Created, or its password / RSA_PUBLIC_KEY (PEM) updated, before listening; kept in `users.json`. */
  user?: BootstrapUser;
}

/** Creates SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale> (before the catalog is sandboxed: dbgen needs the tpch extension). */
async function seedSampleData(catalog: Catalog, scale: number): Promise<void> {
  const conn = await catalog.connect();
  try {
    await seedTpch(conn, {
      scale,
      ensureSchema: async (database, schema) => {
        await catalog.createDatabase(database, { ifNotExists: true, orReplace: false });
        await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(database)}.${quoteIdent(schema)}`);
        return `${quoteIdent(database)}.${quoteIdent(schema)}`;
      },
      register: async (database, schema, table, columns: TpchColumn[]) => {
        catalog.tableCreated(
          database,
          schema,
          table,
          Object.fromEntries(columns.map((c) => [c.name, c.snowflakeType])),
        );
      },
    });
  } finally {
    conn.closeSync();
  }
}

export interface RunningEmulator {
  /** `http://<host>:<port>` (127.0.0.1 by default): pass as snowflake-sdk `accessUrl`. */
  url: string;
  port: number;
  /** Stops the server, ends sessions, checkpoints and closes every database. */
  close(): Promise<void>;
}

/** Starts an emulator. Throws if the data directory cannot be opened or the port is taken. */
export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const dataDir = path.resolve(opts.dataDir);
  const seed = opts.seedTpch;
  const catalog = await Catalog.open(dataDir, seed === undefined ? undefined : (cat) => seedSampleData(cat, seed));
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
  const server = new EmulatorServer({
    engine,
    users,
    faults: opts.faults,
    onSessionEnd: (id) => dropSessionStages(dataDir, id),
  });
  const host = opts.host ?? '127.0.0.1';
  const port = await server.listen(opts.port ?? 0, host);
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    close: async () => {
      await server.close();
      await catalog.close();
    },
  };
}
