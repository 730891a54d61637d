/**
 * The local floe stack: everything `npm run stack` and `npm run demo` need, started in order and
 * stopped in reverse.
 *
 * | piece       | default                                                | skipped / replaced when            |
 * |-------------|--------------------------------------------------------|------------------------------------|
 * | PostgreSQL  | private server, data in `<state>/postgres`             | DATABASE_URL is set                |
 * | Temporal    | dev server 127.0.0.1:7233, UI :8233, `<state>/temporal.db` | TEMPORAL_ADDRESS is set (search attributes are registered there) |
 * | emulator    | Snowflake emulator :8080, TPC-H SF1, `<state>/emulator` | SNOWFLAKE_ACCOUNT is set (real account, or SNOWFLAKE_ACCESS_URL) |
 * | migrations  | applied to DATABASE_URL                                 | never                              |
 * | worker      | src/worker.ts `createWorker`, every job, DuckDB owner   | option `worker: false`,                   |
 * | API         | src/api `startApiServer` on API_PORT (8000)             | option `api: false`,                   |
 *
 * The worker and the API run inside the stack's process: one command, one log, the quickest start,
 * and when the stack dies they die with it. They are the same `createWorker` / `startApiServer` that
 * `npm run worker` and `npm run api` run as separate processes in production.
 *
 * PostgreSQL and the Temporal dev server are child processes. Each is recorded in
 * `<state>/run/<name>.json` while it runs; a stack killed without stopping them (SIGKILL, OOM) leaves
 * the records behind, and the next start on the same state directory stops those servers first when
 * they are still floe's (src/infra/childRecords.ts), instead of failing on "port in use".
 *
 * With the embedded emulator, floe signs in with a key pair (SNOWFLAKE_JWT): `<state>/snowflake-key.p8`
 * (made on first start, src/infra/keys.ts) whose public key the emulator registers for floe's user
 * (SNOWFLAKE_USER, default floe). JWT_SECRET_KEY and ADMIN_PASSWORD are generated for the session when
 * unset; the admin password is written to `<state>/admin-password` (mode 0600), never printed or logged.
 * The state directory is made private ({@link STATE_DIR_MODE}); every secret file in it is 0600.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { envValue, loadConfig, LOG_LEVELS, processEnv, redactUrl, type FloeConfig, type LogLevel } from '../config.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { childLogger, setLogLevel } from '../logger.js';
import { ensureKeyPair, type StackKeyPair } from './keys.js';
import { projectRoot, stateDir as defaultStateDir } from './paths.js';
import { portInUse } from './process.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { ensureSearchAttributes, startTemporal, type TemporalServer } from './temporal.js';
import { JOB_KINDS } from '../jobs/common.js';
import { reclaimChildren } from './childRecords.js';
import { ensureWorkerSchedules } from './startup.js';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { createWorker } from '../worker.js';
import { startApiServer } from '../api/server.js';

/** Options for {@link startStack}; every field is optional. */
export interface StackOptions {
  /** Environment to read (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Temporal frontend port (default 7233; 0 = free port). */
  temporalPort?: number;
  /** Temporal Web UI port (default 8233; 0 = free port; false = no UI). */
  temporalUiPort?: number | false;
  /** Keep Temporal state in `<state>/temporal.db` (default true); false = in-memory. */
  temporalPersistent?: boolean;
  /** Embedded emulator port (default 8080; 0 = free port). */
  emulatorPort?: number;
  /** TPC-H scale factor to seed the emulator with (default 1 → SNOWFLAKE_SAMPLE_DATA.TPCH_SF1; 0 = none). */
  seedTpch?: number;
  /** PostgreSQL port when floe starts its own (default 0 = free port). */
  postgresPort?: number;
  /** Start the worker (default true). */
  worker?: boolean;
  /** Start the API (default true). */
  api?: boolean;
  /** API bind address (default 127.0.0.1; 0.0.0.0 in a container). */
  apiHost?: string;
}

/** Where the running pieces are. URLs carry no secrets. */
export interface StackUrls {
  /** API base URL, or null when not started. */
  api: string | null;
  /** host:port of the Temporal frontend. */
  temporal: string;
  /** Temporal Web UI, or null (external server or headless). */
  temporalUi: string | null;
  /** Snowflake endpoint: the emulator's URL, SNOWFLAKE_ACCESS_URL, or `https://<account>.snowflakecomputing.com`. */
  snowflake: string;
  /** PostgreSQL URL with the password replaced by `***`. */
  postgres: string;
}

/** A running stack. */
export interface Stack {
  /** The configuration every piece runs with (contains secrets: print with redactConfig). */
  config: FloeConfig;
  urls: StackUrls;
  /** Human-readable notes (what was skipped, where the generated admin password is). */
  notes: string[];
  /** True when the embedded Snowflake emulator is running. */
  embeddedEmulator: boolean;
  /** Stops everything this stack started, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * Mode of the state directory: 0700, or 0711 when running as root — the embedded PostgreSQL runs as
 * the OS user `postgres` and must traverse it to reach `<state>/postgres`; it still cannot list it,
 * and every secret file in it is 0600.
 */
export const STATE_DIR_MODE = typeof process.getuid === 'function' && process.getuid() === 0 ? 0o711 : 0o700;

/** Write (or re-protect) a secret file: mode 0600, whatever the umask or an older file's mode. */
function writeSecretFile(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

function secret(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** `p` relative to the project root when inside it (shorter to print), else absolute. */
function displayPath(p: string): string {
  const rel = path.relative(projectRoot, p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/**
 * Starts the stack. Resolves when every piece is ready; on any failure stops what it had started
 * and rethrows (ConfigError for a bad environment, or the failing piece's error).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = childLogger({ component: 'stack' });
  const env: Record<string, string | undefined> = { ...(options.env ?? processEnv()) };
  // Apply LOG_LEVEL before anything logs (loadConfig validates it again further down).
  const level = envValue('LOG_LEVEL', env);
  if (level && (LOG_LEVELS as readonly string[]).includes(level)) {
    setLogLevel(level as LogLevel);
    quietTemporalRuntime(level as LogLevel);
  }
  const stateDir = path.resolve(envValue('FLOE_STATE_DIR', env) ?? defaultStateDir);
  fs.mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  fs.chmodSync(stateDir, STATE_DIR_MODE);
  const runDir = path.join(stateDir, 'run');
  const stack: Stoppable[] = [];
  const notes: string[] = [];
  let stopped = false;

  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const piece of stack.reverse()) {
      try {
        await piece.stop();
      } catch (err) {
        log.warn({ piece: piece.name, err: err instanceof Error ? err.message : String(err) }, 'stop failed');
      }
    }
  };

  try {
    // --- decide what to run -------------------------------------------------------------------
    const externalDb = envValue('DATABASE_URL', env);
    const externalTemporal = envValue('TEMPORAL_ADDRESS', env);
    const namespace = envValue('TEMPORAL_NAMESPACE', env) ?? 'default';
    const embeddedEmulator = !envValue('SNOWFLAKE_ACCOUNT', env);
    const temporalPort = options.temporalPort ?? 7233;
    const uiPort = options.temporalUiPort ?? 8233;
    const emulatorPort = options.emulatorPort ?? 8080;

    // Servers a previous stack on this state directory left running when it was killed hold the
    // ports and data directories: stop them first (never anything that is not floe's; refuses when
    // the stack that started them is still running).
    for (const r of await reclaimChildren(runDir)) {
      if (r.outcome === 'stopped')
        notes.push(`stopped ${r.name} (pid ${r.pid}) left running by a previous floe process`);
    }
    if (!externalTemporal && temporalPort && (await portInUse(temporalPort))) {
      throw new Error(
        `port ${temporalPort} is in use: is another Temporal server running? Stop it, or set TEMPORAL_ADDRESS=127.0.0.1:${temporalPort} to use it`,
      );
    }
    if (!externalTemporal && uiPort && (await portInUse(uiPort))) {
      throw new Error(`Temporal UI port ${uiPort} is in use: stop what listens there`);
    }
    if (embeddedEmulator && emulatorPort && (await portInUse(emulatorPort))) {
      throw new Error(
        `emulator port ${emulatorPort} is in use: stop what listens there, or set SNOWFLAKE_ACCOUNT and SNOWFLAKE_ACCESS_URL to use it`,
      );
    }

    // --- PostgreSQL, Temporal and the emulator start side by side -----------------------------
    const pgTask: Promise<PostgresServer | null> = externalDb
      ? Promise.resolve(null)
      : startPostgres({
          dataDir: path.join(stateDir, 'postgres'),
          port: options.postgresPort ?? 0,
          recordFile: path.join(runDir, 'postgres.json'),
        });
    const temporalTask: Promise<TemporalServer | null> = externalTemporal
      ? ensureSearchAttributes(externalTemporal, namespace).then(() => null)
      : startTemporal({
          port: temporalPort,
          uiPort,
          namespace,
          dbFile: options.temporalPersistent === false ? undefined : path.join(stateDir, 'temporal.db'),
          logFile: path.join(stateDir, 'logs', 'temporal.log'),
          recordFile: path.join(runDir, 'temporal.json'),
        });
    const emulatorUser = envValue('SNOWFLAKE_USER', env) ?? 'floe';
    const keyPair = embeddedEmulator ? ensureKeyPair(stateDir) : null;
    const emulatorTask: Promise<RunningEmulator | null> = keyPair
      ? startEmbeddedEmulator(keyPair)
      : Promise.resolve(null);

    async function startEmbeddedEmulator(keyPair: StackKeyPair): Promise<RunningEmulator> {
      const seedTpch = options.seedTpch ?? 1;
      const started = Date.now();
      const user = { name: emulatorUser, publicKey: keyPair.publicKey };
      const emu = await startEmulator({
        port: emulatorPort,
        dataDir: path.join(stateDir, 'emulator'),
        user,
        ...(seedTpch > 0 && { seedTpch }),
      });
      log.info({ url: emu.url, seedTpch, ms: Date.now() - started }, 'Snowflake emulator ready');
      return emu;
    }

    const settled = await Promise.allSettled([pgTask, temporalTask, emulatorTask]);
    const [pgRes, temporalRes, emuRes] = settled;
    if (emuRes.status === 'fulfilled' && emuRes.value) {
      const emu = emuRes.value;
      stack.push({ name: 'emulator', stop: () => emu.close() });
    }
    if (temporalRes.status === 'fulfilled' && temporalRes.value)
      stack.push({ name: 'temporal', stop: temporalRes.value.stop });
    if (pgRes.status === 'fulfilled' && pgRes.value) stack.push({ name: 'postgres', stop: pgRes.value.stop });
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const pgServer = pgRes.status === 'fulfilled' ? pgRes.value : null;
    const temporal = temporalRes.status === 'fulfilled' ? temporalRes.value : null;
    const emulator = emuRes.status === 'fulfilled' ? emuRes.value : null;

    // --- the configuration everything runs with -----------------------------------------------
    if (pgServer) env.DATABASE_URL = pgServer.url;
    if (temporal) env.TEMPORAL_ADDRESS = temporal.address;
    if (keyPair) {
      env.SNOWFLAKE_ACCESS_URL = emulator?.url ?? `http://127.0.0.1:${emulatorPort}`;
      env.SNOWFLAKE_ACCOUNT = 'floe';
      env.SNOWFLAKE_USER = emulatorUser;
      // floe's user in the embedded emulator has the stack's key pair and no other credential.
      for (const name of [
        'SNOWFLAKE_PASSWORD',
        'SNOWFLAKE_PRIVATE_KEY',
        'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE',
        'SNOWFLAKE_TOKEN',
        'SNOWFLAKE_TOKEN_FILE_PATH',
      ])
        delete env[name];
      env.SNOWFLAKE_AUTHENTICATOR = 'SNOWFLAKE_JWT';
      env.SNOWFLAKE_PRIVATE_KEY_PATH = keyPair.privateKeyPath;
      if (!envValue('JWT_SECRET_KEY', env)) env.JWT_SECRET_KEY = secret(48);
      if (!envValue('ADMIN_PASSWORD', env)) {
        env.ADMIN_PASSWORD = secret(12);
        const file = path.join(stateDir, 'admin-password');
        writeSecretFile(file, `${env.ADMIN_PASSWORD}\n`);
        notes.push(`admin password generated for this session: see ${displayPath(file)}`);
      }
    }
    if (!envValue('FLOE_ENCRYPTION_KEY', env)) {
      // Per-user Snowflake credentials (execution upload, named credentials) are encrypted with this key, so it must outlive the
      // session: kept in <state>/encryption-key (0600) and reused; set FLOE_ENCRYPTION_KEY in production.
      const file = path.join(stateDir, 'encryption-key');
      if (!fs.existsSync(file)) writeSecretFile(file, `${randomBytes(32).toString('hex')}\n`);
      fs.chmodSync(file, 0o600);
      env.FLOE_ENCRYPTION_KEY = fs.readFileSync(file, 'utf8').trim();
    }
    env.FLOE_STATE_DIR = stateDir;
    // One host runs everything, so its worker owns the DuckDB file.
    env.FLOE_DUCKDB_OWNER = envValue('FLOE_DUCKDB_OWNER', env) ?? 'true';
    const config = loadConfig(env);
    setLogLevel(config.logLevel);
    fs.mkdirSync(path.dirname(config.duckdbPath), { recursive: true });

    // --- migrations, worker, API --------------------------------------------------------------
    await migrate(config.databaseUrl);
    const pool: pg.Pool = createPool(config.databaseUrl, { applicationName: 'floe-stack' });
    stack.push({ name: 'pool', stop: () => pool.end() });
    const { Connection, Client } = await import('@temporalio/client');
    // With the worker in this process, the API's client shares its connection, so that a refresh the API
    // starts comes back to that worker in the start response (eager workflow start, src/client/cacheRefresh.ts).
    const address = config.temporal.address;
    const native = options.worker !== false ? await NativeConnection.connect({ address }) : undefined;
    const connection = native ?? (await Connection.connect({ address }));
    stack.push({ name: 'temporal-client', stop: () => connection.close() });
    const temporalClient = new Client({ connection, namespace: config.temporal.namespace });

    if (options.worker !== false) {
      // What a worker process ensures at start-up (src/infra/startup.ts): the stack's worker serves every job.
      await ensureWorkerSchedules(temporalClient, config, JOB_KINDS);
      const worker = await createWorker({ config, pool, connection: native });
      const running = worker.run();
      running.catch((err: unknown) =>
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'worker stopped with an error'),
      );
      stack.push({
        name: 'worker',
        stop: async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        },
      });
    }

    let apiUrl: string | null = null;
    if (options.api !== false) {
      const api = await startApiServer(
        {
          config,
          pool,
          temporal: temporalClient,
          eagerStart: native !== undefined,
          snowflake: config.snowflake,
          duckdbPath: config.duckdbPath,
          logger: childLogger({ component: 'api' }),
        },
        { port: config.api.port, host: options.apiHost ?? '127.0.0.1' },
      );
      stack.push({ name: 'api', stop: () => api.close() });
      apiUrl = options.apiHost === '0.0.0.0' ? `http://127.0.0.1:${api.port}` : api.url;
    }

    const urls: StackUrls = {
      api: apiUrl,
      temporal: config.temporal.address,
      temporalUi: temporal?.uiUrl ?? null,
      snowflake: config.snowflake.accessUrl ?? `https://${config.snowflake.account}.snowflakecomputing.com`,
      postgres: redactUrl(config.databaseUrl),
    };
    if (pgServer) notes.push(`PostgreSQL password: see ${displayPath(path.join(pgServer.dataDir, 'password'))}`);
    for (const n of notes) log.info(n);
    return { config, urls, notes, embeddedEmulator, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The Temporal SDK logs through its own Runtime (worker state, the webpack bundle report) at INFO.
 * Above `info`, install a Runtime logger at the matching level so those lines follow LOG_LEVEL too.
 * Runtime.install works once per process, before the first worker; later calls are ignored.
 */
function quietTemporalRuntime(level: LogLevel): void {
  if (level === 'trace' || level === 'debug' || level === 'info') return;
  try {
    Runtime.install({ logger: new DefaultLogger(level === 'warn' ? 'WARN' : 'ERROR') });
  } catch {
    // Already installed (a second stack in this process): keep the first.
  }
}
