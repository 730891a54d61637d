/**
 * Listening wrapper around {@link createApp}: used by the stack, the demo and the API tests.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type pg from 'pg';
import { createApp, type ApiDeps } from './app.js';
import { createPool } from '../db/pool.js';

/** A listening API server. */
export interface RunningApi {
  server: Server;
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  port: number;
  /** Stop accepting connections and close idle ones. Does not close `deps` (only the pool it opened itself). */
  close(): Promise<void>;
}

/**
 * Create the app and listen on `host:port` (port 0 picks a free one). Rejects when the port is taken.
 * When PG_SYNC_SOURCE_URL names another database than DATABASE_URL and `deps` brings no pool for it,
 * the server opens one (closed by `close()`), so watermark-sync discovery reads the source database.
 */
export async function startApiServer(deps: ApiDeps, opts: { port?: number; host?: string } = {}): Promise<RunningApi> {
  const { config } = deps;
  let ownSourcePool: pg.Pool | undefined;
  if (!deps.watermarkSyncSourcePool && config.watermarkSync.sourceDatabaseUrl !== config.databaseUrl) {
    ownSourcePool = createPool(config.watermarkSync.sourceDatabaseUrl, {
      applicationName: 'floe-api-watermark-sync',
      max: 2,
    });
  }
  const app = createApp(ownSourcePool ? { ...deps, watermarkSyncSourcePool: ownSourcePool } : deps);
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? deps.config.api.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch(async (err: unknown) => {
    await ownSourcePool?.end().catch(() => undefined);
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await ownSourcePool?.end().catch(() => undefined);
    },
  };
}

/**
 * Run the API as a process (`npm run api`, `tsx src/api/server.ts`): configuration from the environment
 * (src/config.ts), the start-up checks every floe process makes (src/infra/startup.ts: migrations,
 * search attributes), a PostgreSQL pool, a Temporal client, listening on API_PORT (`--host 0.0.0.0` to
 * accept connections from other hosts; default 127.0.0.1). SIGINT/SIGTERM stop it and close what it opened.
 */
export async function main(): Promise<void> {
  const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' } } });
  const { loadConfig, redactConfig } = await import('../config.js');
  const { createPool } = await import('../db/index.js');
  const { createLogger } = await import('../logger.js');
  const { Client, Connection } = await import('@temporalio/client');
  const { prepareControlPlane } = await import('../infra/startup.js');
  const config = loadConfig();
  const logger = createLogger({ name: 'api', level: config.logLevel, format: config.logFormat });
  (await import('../connectors/duckdb.js')).setDuckDbFileMemoryLimit(config.duckdbMemoryLimit);
  await prepareControlPlane(config, logger);
  const pool = createPool(config.databaseUrl, { applicationName: 'floe-api' });
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const api = await startApiServer(
    { config, pool, temporal, snowflake: config.snowflake, duckdbPath: config.duckdbPath, logger },
    { host: values.host },
  );
  logger.info({ url: api.url, config: redactConfig(config) }, 'API listening');
  const stop = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'API stopping');
    await api.close();
    await connection.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`API failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
