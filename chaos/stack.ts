/**
 * The chaos runner's stack: PostgreSQL (its own ephemeral server, or a database on a given server), a
 * Temporal dev server with a persistent SQLite store (so it can be restarted mid-job), the Snowflake
 * emulator in this process (its fault options are a live object the runner changes between requests),
 * and floe's API and one worker (serving every job, the DuckDB owner) as separate processes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { startEmulator, type FaultOptions, type RunningEmulator } from '../emulator/src/index.js';
import { connectSnowflake, type SnowflakeSession } from '../src/connectors/snowflake.js';
import { createPool } from '../src/db/index.js';
import { createDatabase, dropDatabase, startPostgres, type PostgresServer } from '../src/infra/postgres.js';
import { freePort } from '../src/infra/process.js';
import { startTemporal, type TemporalServer } from '../src/infra/temporal.js';
import { generateEncryptionKey } from '../src/secrets/crypto.js';
import { signIn, type ApiClient } from './api.js';
import { logSays, startFloeProcess, type FloeProcess } from './processes.js';

/** Where the stack's PostgreSQL comes from. */
export interface ChaosStackOptions {
  /** Directory for everything the run writes (state, logs, stores). */
  dir: string;
  /** A PostgreSQL server URL (any database on it) to create the run's database on; default: start one. */
  pgServerUrl?: string;
}

/** A running chaos stack. */
export interface ChaosStack {
  readonly dir: string;
  /** floe's state directory (`FLOE_STATE_DIR`): the DuckDB file, DuckLake data, temporary files. */
  readonly stateDir: string;
  readonly duckdbPath: string;
  /** Control-plane database URL (contains the password: never print it). */
  readonly databaseUrl: string;
  /** The runner's own pool (application_name `floe-chaos`, spared by connection terminations). */
  readonly pool: pg.Pool;
  /** The runner's own Snowflake session, for sources and verification. */
  readonly snowflake: SnowflakeSession;
  /** The emulator's live fault options: set a field and the next request sees it. */
  readonly emulatorFaults: FaultOptions;
  readonly emulatorUrl: string;
  /** The Snowflake user floe signs in as (also the owner of each user's execution-upload target). */
  readonly snowflakeUser: { name: string; password: string };
  readonly api: ApiClient;
  readonly worker: FloeProcess;
  readonly apiProcess: FloeProcess;
  readonly temporalLog: string;
  /** Stops the Temporal dev server and starts it again on the same port and store. */
  restartTemporal(): Promise<void>;
  /** Stops everything (processes, Temporal, emulator, PostgreSQL or the run's database). */
  stop(): Promise<void>;
}

/** Snowflake database every scenario's source and target tables live in. */
export const CHAOS_DATABASE = 'CHAOS';

/** Starts the stack; on failure stops what it had started and rethrows. */
export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const dir = path.resolve(options.dir);
  const stateDir = path.join(dir, 'state');
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(logs, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    let pgServer: PostgresServer | null = null;
    let databaseUrl: string;
    if (options.pgServerUrl) {
      const name = `floe_chaos_${process.pid}_${randomBytes(3).toString('hex')}`;
      databaseUrl = await createDatabase(options.pgServerUrl, name);
      const server = options.pgServerUrl;
      stops.push(() => dropDatabase(server, name));
    } else {
      pgServer = await startPostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true });
      databaseUrl = pgServer.url;
      stops.push(() => pgServer!.stop());
    }

    const temporalPort = await freePort();
    const temporalLog = path.join(logs, 'temporal.log');
    const temporalOptions = {
      port: temporalPort,
      uiPort: false as const,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: temporalLog,
    };
    let temporal: TemporalServer = await startTemporal(temporalOptions);
    stops.push(() => temporal.stop());

    const snowflakeUser = { name: 'floe', password: randomBytes(12).toString('base64url') };
    const emulatorFaults: FaultOptions = {};
    const emulator: RunningEmulator = await startEmulator({
      port: 0,
      dataDir: path.join(dir, 'emulator'),
      user: snowflakeUser,
      faults: emulatorFaults,
    });
    stops.push(() => emulator.close());
    const snowflake = await connectSnowflake({
      account: 'floe',
      username: snowflakeUser.name,
      password: snowflakeUser.password,
      accessUrl: emulator.url,
    });
    stops.push(() => snowflake.close());
    await snowflake.query(`CREATE DATABASE IF NOT EXISTS ${CHAOS_DATABASE}`);
    await snowflake.query(`CREATE SCHEMA IF NOT EXISTS ${CHAOS_DATABASE}.FLOE`);

    const pool = createPool(databaseUrl, { applicationName: 'floe-chaos', max: 4 });
    stops.push(() => pool.end());

    const apiPort = await freePort();
    const adminPassword = randomBytes(12).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      FLOE_TASK_QUEUE: 'floe-chaos',
      FLOE_DUCKDB_OWNER: 'true',
      FLOE_STATE_DIR: stateDir,
      SNOWFLAKE_ACCOUNT: 'floe',
      SNOWFLAKE_USER: snowflakeUser.name,
      SNOWFLAKE_PASSWORD: snowflakeUser.password,
      SNOWFLAKE_ACCESS_URL: emulator.url,
      SNOWFLAKE_DATABASE: CHAOS_DATABASE,
      SNOWFLAKE_SCHEMA: 'FLOE',
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
      JWT_SECRET_KEY: randomBytes(36).toString('base64url'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: adminPassword,
      API_PORT: String(apiPort),
      FLOE_ENCRYPTION_KEY: generateEncryptionKey(),
      EXECUTION_UPLOAD_INTERVAL_SECONDS: '2',
      LOG_LEVEL: 'info',
    };
    const workerLog = path.join(logs, 'worker.log');
    const worker = startFloeProcess({
      name: 'worker',
      script: 'src/worker.ts',
      args: ['--jobs', 'all'],
      env,
      logFile: workerLog,
      isReady: logSays(workerLog, '"msg":"worker started"'),
    });
    stops.push(() => worker.stop());
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const apiProcess = startFloeProcess({
      name: 'api',
      script: 'src/api/server.ts',
      args: [],
      env,
      logFile: path.join(logs, 'api.log'),
      isReady: async () => (await fetch(`${apiUrl}/healthz`)).ok,
    });
    stops.push(() => apiProcess.stop());
    await Promise.all([worker.ready(), apiProcess.ready()]);
    const api = await signIn(apiUrl, 'admin', adminPassword);

    return {
      dir,
      stateDir,
      duckdbPath: path.join(stateDir, 'floe.duckdb'),
      databaseUrl,
      pool,
      snowflake,
      emulatorFaults,
      emulatorUrl: emulator.url,
      snowflakeUser,
      api,
      worker,
      apiProcess,
      temporalLog,
      async restartTemporal() {
        await temporal.stop();
        temporal = await startTemporal(temporalOptions);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
