/**
 * floe configuration: the ONLY module that reads `process.env` (style notes: one validated config).
 *
 * `loadConfig()` validates every variable with zod and returns a typed {@link FloeConfig}; any
 * missing or malformed variables are reported together in one {@link ConfigError}. Print a config
 * only through {@link redactConfig}.
 *
 * | variable              | default                         | notes                                      |
 * |-----------------------|---------------------------------|--------------------------------------------|
 * | DATABASE_URL          | required                        | postgres:// control-plane database         |
 * | TEMPORAL_ADDRESS      | 127.0.0.1:7233                  | host:port of the Temporal frontend         |
 * | TEMPORAL_NAMESPACE    | default                         |                                            |
 * | TEMPORAL_CONNECT_TIMEOUT_SECONDS | 300                  | a starting worker retries an unreachable Temporal this long |
 * | FLOE_TASK_QUEUE       | DEFAULT_TASK_QUEUE (floe-v1)    | prefix of the task queues (src/jobs/common.ts) |
 * | FLOE_DUCKDB_OWNER     | false                           | true on the one host whose worker writes DUCKDB_PATH |
 * | SNOWFLAKE_ACCOUNT     | required                        |                                            |
 * | SNOWFLAKE_USER        | required                        |                                            |
 * | SNOWFLAKE_AUTHENTICATOR | SNOWFLAKE_JWT with a key, else SNOWFLAKE | SNOWFLAKE_JWT, PROGRAMMATIC_ACCESS_TOKEN, OAUTH, SNOWFLAKE |
 * | SNOWFLAKE_PASSWORD    | required for SNOWFLAKE           | secret                                     |
 * | SNOWFLAKE_PRIVATE_KEY_PATH / SNOWFLAKE_PRIVATE_KEY | one, for SNOWFLAKE_JWT | PEM PKCS#8 RSA key (file, or the PEM text; `\n` escapes allowed); secret |
 * | SNOWFLAKE_PRIVATE_KEY_PASSPHRASE | for an encrypted key  | secret                                     |
 * | SNOWFLAKE_TOKEN / SNOWFLAKE_TOKEN_FILE_PATH | one, for PROGRAMMATIC_ACCESS_TOKEN and OAUTH | the file is re-read for every new session; secret |
 * | SNOWFLAKE_ACCESS_URL  | optional                        | e.g. http://127.0.0.1:8080 (emulator)      |
 * | SNOWFLAKE_WAREHOUSE / _DATABASE / _SCHEMA / _ROLE | optional |                                   |
 * | DUCKDB_PATH           | <FLOE_STATE_DIR>/floe.duckdb    | table-sync target file                     |
 * | DUCKDB_MEMORY_LIMIT   | 256MB                           | DuckDB `memory_limit` of every DuckDB file floe opens (src/connectors/duckdb.ts) |
 * | JWT_SECRET_KEY        | required, ≥ 32 characters       | secret                                     |
 * | ADMIN_USERNAME        | admin                           |                                            |
 * | ADMIN_PASSWORD        | required                        | secret                                     |
 * | API_PORT              | 8000                            | 0 = pick a free port                       |
 * | TOKEN_TTL_MINUTES     | 30                              |                                            |
 * | AUTH_MAX_FAILURES     | 10                              | failed sign-ins per username or address before 429 |
 * | AUTH_FAILURE_WINDOW_MINUTES | 15                        | window of that count (decimals allowed)    |
 * | METRICS_AUTH          | none                            | none or bearer (GET /metrics needs METRICS_TOKEN) |
 * | METRICS_TOKEN         | required with METRICS_AUTH=bearer, ≥ 32 characters | secret                |
 * | WORKER_METRICS_PORT   | unset (off)                     | a worker serves its job metrics at GET /metrics on this port (0 = free port) |
 * | WORKER_METRICS_HOST   | 127.0.0.1                       | address of that endpoint (0.0.0.0 for a Prometheus on another host) |
 * | FLOE_STATE_DIR        | <FLOE_HOME>/state (.floe/state) |                                            |
 * | LOG_LEVEL             | info                            | trace, debug, info, warn, error, fatal, silent |
 * | LOG_FORMAT            | pretty on a terminal, else json | json (one JSON object a line) or pretty (pino-pretty) |
 * | PG_SYNC_SOURCE_URL    | DATABASE_URL                    | watermark sync source; secret              |
 * | DUCKLAKE_CATALOG_URL  | DATABASE_URL                    | DuckLake catalog for caches; secret        |
 * | DUCKLAKE_DATA_PATH    | <FLOE_STATE_DIR>/ducklake       | Parquet data path: a directory or s3://... |
 * | FLOE_ENCRYPTION_KEY   | optional (uploads refuse without) | 32 bytes, hex or base64: AES-256-GCM key of stored secrets (per-user configurations, named credentials); secret |
 * | FLOE_ENCRYPTION_KEY_PREVIOUS | optional               | the key before a rotation: still decrypts until `npm run rotate-key` (docs/credentials.md); secret |
 * | EXECUTION_UPLOAD_INTERVAL_SECONDS | 30                  | drain schedule interval                    |
 * | EXECUTION_UPLOAD_MAX_CONCURRENT   | 5                   | uploads at once                            |
 * | EXECUTION_UPLOAD_SCHEDULE_ID      | execution-upload-drain | id of the drain Schedule: one per floe deployment in a Temporal namespace |
 *
 * Empty values count as unset. Relative paths are resolved against the current directory.
 */
import path from 'node:path';
import { z } from 'zod';
import { stateDir as defaultStateDir } from './infra/paths.js';
import { DEFAULT_TASK_QUEUE, taskQueues, type TaskQueues } from './jobs/common.js';
import { EXECUTION_UPLOAD_SCHEDULE_ID } from './jobs/execution-upload/contract.js';
import { snowflakeCredential } from './config-snowflake.js';
import { SNOWFLAKE_AUTHENTICATORS, type SnowflakeSettings } from './connectors/snowflake.js';

/** pino levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log line formats accepted by LOG_FORMAT (src/logger.ts). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Validated floe configuration. Secrets: snowflake.password / privateKey / privateKeyPassphrase / token, api.jwtSecretKey, api.adminPassword, api.metricsToken,
 * executionUpload.encryptionKey / previousEncryptionKey, and the passwords in databaseUrl, watermarkSync.sourceDatabaseUrl, ducklake.catalogUrl.
 */
export interface FloeConfig {
  /** postgres:// URL of the control-plane database. */
  databaseUrl: string;
  temporal: {
    /** host:port of the Temporal frontend (gRPC). */
    address: string;
    namespace: string;
    /** How long a starting worker retries an unreachable server before it exits, seconds. */
    connectTimeoutSeconds: number;
    /** Task queue prefix (FLOE_TASK_QUEUE); also the table-sync queue. */
    taskQueue: string;
    /** Every queue's name under the prefix. */
    taskQueues: TaskQueues;
  };
  /** Snowflake connection (accessUrl e.g. http://127.0.0.1:8080 for the emulator; unset = the account's own host). */
  snowflake: SnowflakeSettings;
  /** Absolute path of the DuckDB file table syncs write to. */
  duckdbPath: string;
  /** DuckDB `memory_limit` of the DuckDB files floe opens, as DuckDB reads it (e.g. `128MB`, `2GB`). */
  duckdbMemoryLimit: string;
  /**
   * This host owns `duckdbPath`: its worker serves the table sync's DuckDB-writing queue. Exactly one
   * worker process of a deployment may have it (DuckDB allows one writing process per file).
   */
  duckdbOwner: boolean;
  api: {
    /** TCP port of the HTTP API; 0 picks a free one. */
    port: number;
    /** HS256 signing key, at least 32 characters. */
    jwtSecretKey: string;
    adminUsername: string;
    adminPassword: string;
    /** Lifetime of issued tokens, in minutes. */
    tokenTtlMinutes: number;
    /** Sign-in throttle: failures per username or per client address within the window before 429. */
    authMaxFailures: number;
    /** Sign-in throttle window, in minutes. */
    authFailureWindowMinutes: number;
    /** Bearer token GET /metrics requires; undefined = /metrics is open (METRICS_AUTH=none). */
    metricsToken?: string;
  };
  /** A worker's own GET /metrics endpoint (WORKER_METRICS_PORT / _HOST); undefined = none. */
  workerMetrics?: { port: number; host: string };
  /** Absolute directory for floe's run-time state (Temporal SQLite, PostgreSQL cluster, emulator data). */
  stateDir: string;
  logLevel: LogLevel;
  /** LOG_FORMAT; undefined: pretty when stdout is a terminal, else json (src/logger.ts decides). */
  logFormat?: LogFormat;
  /** Watermark sync: the PostgreSQL it reads from (PG_SYNC_SOURCE_URL, default DATABASE_URL). */
  watermarkSync: { sourceDatabaseUrl: string };
  /** Query-result cache: DuckLake catalog (postgres:// URL) and Parquet data path. */
  ducklake: { catalogUrl: string; dataPath: string };
  /** Execution upload. */
  executionUpload: {
    /** AES-256-GCM key text (64 hex chars or base64 of 32 bytes), or undefined when not configured. */
    encryptionKey?: string;
    /** The key before a rotation (FLOE_ENCRYPTION_KEY_PREVIOUS): decrypts values not yet re-encrypted. */
    previousEncryptionKey?: string;
    /** Drain schedule interval, in seconds. */
    intervalSeconds: number;
    /** Uploads at once. */
    maxConcurrent: number;
    /** Id of the drain Schedule that workers create and the API and the queue listener trigger. */
    scheduleId: string;
  };
}

/** One missing or malformed environment variable. */
export interface ConfigIssue {
  variable: string;
  problem: string;
}

/** Thrown by {@link loadConfig}; the message names every bad variable (never its value). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid floe configuration: ${issues.map((i) => `${i.variable} ${i.problem}`).join('; ')}`);
  }
}

const required = (what = 'is required') =>
  z.string({ error: (iss) => (iss.input === undefined ? what : 'must be a string') });
const optionalText = z.string().optional();
const portNumber = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be an integer')
  .min(0, 'must be 0..65535')
  .max(65535, 'must be 0..65535');
const port = (dflt: number) => portNumber.default(dflt);

const encryptionKeyText = z
  .string()
  .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, 'must be 32 bytes as 64 hex characters or base64')
  .optional();

const envSchema = z
  .object({
    DATABASE_URL: required().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL'),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port (e.g. 127.0.0.1:7233)')
      .default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_CONNECT_TIMEOUT_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .positive('must be positive')
      .default(300),
    FLOE_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUE),
    FLOE_DUCKDB_OWNER: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
    SNOWFLAKE_ACCOUNT: required(),
    SNOWFLAKE_USER: required(),
    SNOWFLAKE_AUTHENTICATOR: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(z.enum(SNOWFLAKE_AUTHENTICATORS, { error: `must be one of ${SNOWFLAKE_AUTHENTICATORS.join(', ')}` }))
      .optional(),
    SNOWFLAKE_PASSWORD: optionalText,
    SNOWFLAKE_PRIVATE_KEY: optionalText,
    SNOWFLAKE_PRIVATE_KEY_PATH: optionalText,
    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: optionalText,
    SNOWFLAKE_TOKEN: optionalText,
    SNOWFLAKE_TOKEN_FILE_PATH: optionalText,
    SNOWFLAKE_ACCESS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    SNOWFLAKE_WAREHOUSE: optionalText,
    SNOWFLAKE_DATABASE: optionalText,
    SNOWFLAKE_SCHEMA: optionalText,
    SNOWFLAKE_ROLE: optionalText,
    DUCKDB_PATH: optionalText,
    DUCKDB_MEMORY_LIMIT: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 128MB or 2GB')
      .default('256MB'),
    JWT_SECRET_KEY: required().min(32, 'must be at least 32 characters'),
    ADMIN_USERNAME: z.string().default('admin'),
    ADMIN_PASSWORD: required().min(1, 'must not be empty'),
    API_PORT: port(8000),
    TOKEN_TTL_MINUTES: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .positive('must be positive')
      .default(30),
    AUTH_MAX_FAILURES: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .default(10),
    AUTH_FAILURE_WINDOW_MINUTES: z.coerce
      .number({ error: 'must be a number' })
      .positive('must be positive')
      .default(15),
    METRICS_AUTH: z.enum(['none', 'bearer'], { error: "must be 'none' or 'bearer'" }).default('none'),
    METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    WORKER_METRICS_PORT: portNumber.optional(),
    WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
    FLOE_STATE_DIR: optionalText,
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    LOG_FORMAT: z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')}` }).optional(),
    PG_SYNC_SOURCE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DUCKLAKE_CATALOG_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DUCKLAKE_DATA_PATH: optionalText,
    FLOE_ENCRYPTION_KEY: encryptionKeyText,
    FLOE_ENCRYPTION_KEY_PREVIOUS: encryptionKeyText,
    EXECUTION_UPLOAD_INTERVAL_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .positive('must be positive')
      .default(30),
    EXECUTION_UPLOAD_MAX_CONCURRENT: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .default(5),
    EXECUTION_UPLOAD_SCHEDULE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1-200 letters, digits, dots, dashes or underscores')
      .default(EXECUTION_UPLOAD_SCHEDULE_ID),
  })
  .refine((e) => e.METRICS_AUTH !== 'bearer' || e.METRICS_TOKEN !== undefined, {
    path: ['METRICS_TOKEN'],
    message: 'is required when METRICS_AUTH=bearer',
  });

/**
 * Reads and validates floe's configuration.
 *
 * @param env variables to read (default `process.env`); tests pass a plain object.
 * @returns the validated configuration, paths made absolute.
 * @throws ConfigError naming every missing or malformed variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): FloeConfig {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const parsed = envSchema.safeParse(cleaned);
  const credential = snowflakeCredential(cleaned);
  const issues: ConfigIssue[] = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({
          variable: String(issue.path[0] ?? '(environment)'),
          problem: issue.message,
        }))),
    ...credential.issues,
  ];
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
  const e = parsed.data;
  const stateDir = path.resolve(e.FLOE_STATE_DIR ?? defaultStateDir);
  return {
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      connectTimeoutSeconds: e.TEMPORAL_CONNECT_TIMEOUT_SECONDS,
      taskQueue: e.FLOE_TASK_QUEUE,
      taskQueues: taskQueues(e.FLOE_TASK_QUEUE),
    },
    snowflake: {
      account: e.SNOWFLAKE_ACCOUNT,
      username: e.SNOWFLAKE_USER,
      ...credential.settings,
      ...(e.SNOWFLAKE_ACCESS_URL !== undefined && { accessUrl: e.SNOWFLAKE_ACCESS_URL.replace(/\/+$/, '') }),
      ...(e.SNOWFLAKE_WAREHOUSE !== undefined && { warehouse: e.SNOWFLAKE_WAREHOUSE }),
      ...(e.SNOWFLAKE_DATABASE !== undefined && { database: e.SNOWFLAKE_DATABASE }),
      ...(e.SNOWFLAKE_SCHEMA !== undefined && { schema: e.SNOWFLAKE_SCHEMA }),
      ...(e.SNOWFLAKE_ROLE !== undefined && { role: e.SNOWFLAKE_ROLE }),
    },
    duckdbPath: path.resolve(e.DUCKDB_PATH ?? path.join(stateDir, 'floe.duckdb')),
    duckdbMemoryLimit: e.DUCKDB_MEMORY_LIMIT,
    duckdbOwner: e.FLOE_DUCKDB_OWNER === 'true',
    api: {
      port: e.API_PORT,
      jwtSecretKey: e.JWT_SECRET_KEY,
      adminUsername: e.ADMIN_USERNAME,
      adminPassword: e.ADMIN_PASSWORD,
      tokenTtlMinutes: e.TOKEN_TTL_MINUTES,
      authMaxFailures: e.AUTH_MAX_FAILURES,
      authFailureWindowMinutes: e.AUTH_FAILURE_WINDOW_MINUTES,
      ...(e.METRICS_AUTH === 'bearer' && { metricsToken: e.METRICS_TOKEN }),
    },
    ...(e.WORKER_METRICS_PORT !== undefined && {
      workerMetrics: { port: e.WORKER_METRICS_PORT, host: e.WORKER_METRICS_HOST },
    }),
    stateDir,
    logLevel: e.LOG_LEVEL,
    ...(e.LOG_FORMAT && { logFormat: e.LOG_FORMAT }),
    watermarkSync: { sourceDatabaseUrl: e.PG_SYNC_SOURCE_URL ?? e.DATABASE_URL },
    ducklake: {
      catalogUrl: e.DUCKLAKE_CATALOG_URL ?? e.DATABASE_URL,
      dataPath: /^[a-z0-9]+:\/\//i.test(e.DUCKLAKE_DATA_PATH ?? '')
        ? e.DUCKLAKE_DATA_PATH!
        : path.resolve(e.DUCKLAKE_DATA_PATH ?? path.join(stateDir, 'ducklake')),
    },
    executionUpload: {
      ...(e.FLOE_ENCRYPTION_KEY !== undefined && { encryptionKey: e.FLOE_ENCRYPTION_KEY }),
      ...(e.FLOE_ENCRYPTION_KEY_PREVIOUS !== undefined && { previousEncryptionKey: e.FLOE_ENCRYPTION_KEY_PREVIOUS }),
      intervalSeconds: e.EXECUTION_UPLOAD_INTERVAL_SECONDS,
      maxConcurrent: e.EXECUTION_UPLOAD_MAX_CONCURRENT,
      scheduleId: e.EXECUTION_UPLOAD_SCHEDULE_ID,
    },
  };
}

/**
 * Reads one raw variable for the few places that decide *how* to build a config before it exists
 * (the stack: "is DATABASE_URL set? is SNOWFLAKE_ACCOUNT set?"). Empty counts as unset.
 */
export function envValue(name: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A snapshot of the process environment, for code that must hand it to a child process. */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

const REDACTED = '***';

/** `settings` with its password, private key, passphrase and token replaced by `***` (those present). */
export function redactSnowflake(settings: SnowflakeSettings): SnowflakeSettings {
  const out = { ...settings };
  for (const key of ['password', 'privateKey', 'privateKeyPassphrase', 'token'] as const)
    if (out[key] !== undefined) out[key] = REDACTED;
  return out;
}

/** Replaces the password of a postgres:// URL with `***` (other URLs are returned unchanged). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = REDACTED;
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, `//$1:${REDACTED}@`);
  }
}

/** A copy of `cfg` safe to print or log: passwords, keys and URL credentials become `***`. */
export function redactConfig(cfg: FloeConfig): FloeConfig {
  return {
    ...cfg,
    databaseUrl: redactUrl(cfg.databaseUrl),
    temporal: { ...cfg.temporal, taskQueues: { ...cfg.temporal.taskQueues } },
    snowflake: redactSnowflake(cfg.snowflake),
    api: {
      ...cfg.api,
      jwtSecretKey: REDACTED,
      adminPassword: REDACTED,
      ...(cfg.api.metricsToken !== undefined && { metricsToken: REDACTED }),
    },
    watermarkSync: { sourceDatabaseUrl: redactUrl(cfg.watermarkSync.sourceDatabaseUrl) },
    ducklake: { ...cfg.ducklake, catalogUrl: redactUrl(cfg.ducklake.catalogUrl) },
    executionUpload: {
      ...cfg.executionUpload,
      ...(cfg.executionUpload.encryptionKey !== undefined && { encryptionKey: REDACTED }),
      ...(cfg.executionUpload.previousEncryptionKey !== undefined && { previousEncryptionKey: REDACTED }),
    },
  };
}
