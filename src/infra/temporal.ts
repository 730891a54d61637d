/**
 * A Temporal dev server (`temporal server start-dev` from the project venv) for the local stack and
 * the test run, search-attribute registration for an external server, and connecting with retries
 * while a server starts ({@link connectWithRetry}).
 *
 * Readiness is decided by `temporal operator cluster health` and the namespace's search attributes
 * being visible — not by a fixed delay (the SDK's 5 s start-up limit fails on a loaded box).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTE_TYPES } from '../jobs/common.js';
import { childLogger } from '../logger.js';
import { temporalBin } from './paths.js';
import { reclaimChild } from './childRecords.js';
import { freePort, killGroup, spawnManaged, waitUntil } from './process.js';

/** Options for {@link startTemporal}. */
export interface StartTemporalOptions {
  /** SQLite file for persistent state; omit for an in-memory server (state lost on stop). */
  dbFile?: string;
  /**
   * SQLite pragmas of the persistent store (`--sqlite-pragma name=value`), used with `dbFile` only.
   * Default {@link DEV_SERVER_SQLITE_PRAGMAS}; `{}` leaves the dev server's own settings (SQLite's defaults).
   */
  sqlitePragmas?: Readonly<Record<string, string>>;
  /** gRPC frontend port on 127.0.0.1; 0 or undefined picks a free port. */
  port?: number;
  /** Web UI port; 0 or undefined picks a free port; `false` disables the UI. */
  uiPort?: number | false;
  /** Namespace to create at launch (default `default`, which always exists). */
  namespace?: string;
  /** Search attributes to register; default every entry of SEARCH_ATTRIBUTE_TYPES. */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Append the server's output here (default: kept in memory only, for error messages). */
  logFile?: string;
  /** Give up waiting for the server after this many ms (default 180 000). */
  startTimeoutMs?: number;
  /**
   * Record the server's pid and command line here while it runs (e.g. `<state>/run/temporal.json`); a
   * server left by a floe process that died is stopped first (src/infra/childRecords.ts).
   */
  recordFile?: string;
}

/**
 * The SQLite settings floe gives a dev server's persistent store: write-ahead logging and
 * `synchronous=normal`.
 *
 * Without them `temporal server start-dev --db-filename` opens its file with SQLite's defaults, a rollback
 * journal (`journal_mode=delete`) and `synchronous=full`: every commit writes and syncs the journal, then
 * writes and syncs the database file, so each state change the server persists (a start, a workflow task,
 * its completion) waits for several fsyncs. In WAL mode with `synchronous=normal` a commit appends to the
 * write-ahead log without syncing it; the log is synced when it is checkpointed into the database file.
 *
 * What stays durable (SQLite documentation, "PRAGMA synchronous" and "Write-Ahead Logging"): a committed
 * transaction is in the operating system's page cache when the commit returns, so it survives the server
 * process being killed or restarted, and the next open replays the log; the file stays consistent in every
 * case. A power loss or an operating-system crash may roll back the last commits before a checkpoint: a dev
 * server is not built for that (production uses a Temporal cluster with its own database).
 */
export const DEV_SERVER_SQLITE_PRAGMAS: Readonly<Record<string, string>> = {
  journal_mode: 'wal',
  synchronous: 'normal',
};

/** A running dev server started by {@link startTemporal}. */
export interface TemporalServer {
  /** host:port of the gRPC frontend, e.g. 127.0.0.1:7233. */
  address: string;
  namespace: string;
  /** http://127.0.0.1:<uiPort>, or null when the UI is disabled. */
  uiUrl: string | null;
  /** SIGTERM to the process group, SIGKILL after 20 s. */
  stop(): Promise<void>;
  /** SIGKILL to the process group at once, as a crash or an OOM kill would end it. */
  kill(): Promise<void>;
}

/** Types accepted by `--search-attribute name=Type`. */
export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** temporal.api.enums.v1.IndexedValueType numbers (stable in the API protos). */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

function runCli(args: string[], timeoutMs = 30_000): { ok: boolean; out: string } {
  const r = spawnSync(temporalBin, args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** Names of the custom search attributes registered in `namespace`, via the CLI. */
function listSearchAttributesCli(address: string, namespace: string): Set<string> {
  const r = runCli([
    'operator',
    'search-attribute',
    'list',
    '--address',
    address,
    '--namespace',
    namespace,
    '--output',
    'json',
  ]);
  if (!r.ok) throw new Error(r.out || 'search-attribute list failed');
  // JSON output: either {customAttributes:{name:type}} or an array of {name,type}; accept both.
  const parsed: unknown = JSON.parse(r.out);
  const names = new Set<string>();
  if (Array.isArray(parsed)) {
    for (const e of parsed)
      if (e && typeof e === 'object' && 'name' in e) names.add(String((e as { name: unknown }).name));
  } else if (parsed && typeof parsed === 'object') {
    const custom = (parsed as { customAttributes?: Record<string, unknown> }).customAttributes ?? {};
    for (const k of Object.keys(custom)) names.add(k);
  }
  return names;
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 with floe's search attributes registered.
 *
 * @returns once the frontend reports SERVING and the namespace lists every search attribute.
 * @throws when the temporal CLI is missing (run bootstrap), or the server exits or is not ready within
 *   `startTimeoutMs` (the message carries the server's output).
 */
export async function startTemporal(options: StartTemporalOptions = {}): Promise<TemporalServer> {
  const log = childLogger({ component: 'temporal' });
  if (!fs.existsSync(temporalBin))
    throw new Error(`temporal CLI not found at ${temporalBin}: run \`node scripts/bootstrap.mjs\``);
  const namespace = options.namespace ?? 'default';
  const attrs = options.searchAttributes ?? (SEARCH_ATTRIBUTE_TYPES as Record<string, SearchAttributeTypeName>);
  const port = options.port ? options.port : await freePort();
  const uiPort = options.uiPort === false ? null : options.uiPort ? options.uiPort : await freePort();
  const address = `127.0.0.1:${port}`;

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-disable-news-fetch']));
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(path.resolve(options.dbFile)), { recursive: true });
    args.push('--db-filename', path.resolve(options.dbFile));
    for (const [name, value] of Object.entries(options.sqlitePragmas ?? DEV_SERVER_SQLITE_PRAGMAS))
      args.push('--sqlite-pragma', `${name}=${value}`);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(attrs)) args.push('--search-attribute', `${name}=${type}`);
  if (options.logFile) fs.mkdirSync(path.dirname(options.logFile), { recursive: true });

  if (options.recordFile) await reclaimChild(options.recordFile);
  const started = Date.now();
  const mc = spawnManaged(temporalBin, args, {
    logFile: options.logFile,
    ...(options.recordFile && { record: { file: options.recordFile, name: 'temporal', stopSignal: 'SIGTERM' } }),
  });
  const stop = (): Promise<void> => killGroup(mc, 'SIGTERM', 20_000);
  try {
    await waitUntil(
      async () => {
        const health = runCli(
          ['operator', 'cluster', 'health', '--address', address, '--command-timeout', '5s'],
          10_000,
        );
        if (!health.ok || !/SERVING/.test(health.out)) throw new Error(health.out || 'not serving');
        const have = listSearchAttributesCli(address, namespace);
        const missing = Object.keys(attrs).filter((a) => !have.has(a));
        if (missing.length) throw new Error(`search attributes not yet visible: ${missing.join(', ')}`);
        return true;
      },
      {
        what: `Temporal dev server on ${address}`,
        timeoutMs: options.startTimeoutMs ?? 180_000,
        intervalMs: 300,
        child: mc,
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const uiUrl = uiPort === null ? null : `http://127.0.0.1:${uiPort}`;
  log.info({ address, uiUrl, dbFile: options.dbFile ?? null, ms: Date.now() - started }, 'Temporal dev server ready');
  return { address, namespace, uiUrl, stop, kill: () => killGroup(mc, 'SIGKILL', 20_000) };
}

/**
 * Registers floe's search attributes on an existing server (TEMPORAL_ADDRESS), skipping the ones
 * already there. Uses the SDK's OperatorService, so it needs no CLI (works in the Docker image).
 *
 * @returns names that were added (empty when all existed).
 * @throws when the server is unreachable or refuses (e.g. a name exists with another type).
 */
export async function ensureSearchAttributes(
  address: string,
  namespace = 'default',
  attrs: Record<string, SearchAttributeTypeName> = SEARCH_ATTRIBUTE_TYPES as Record<string, SearchAttributeTypeName>,
): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.entries(attrs).filter(([name]) => !have.has(name));
    if (missing.length === 0) return [];
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]])),
    });
    childLogger({ component: 'temporal' }).info(
      { address, namespace, added: missing.map(([n]) => n) },
      'registered search attributes',
    );
    return missing.map(([n]) => n);
  } finally {
    await connection.close();
  }
}

/** Options of {@link connectWithRetry}. */
export interface ConnectRetryOptions {
  /** host:port, for the log lines and the final error. */
  address: string;
  /** Give up after this many seconds of failed attempts (TEMPORAL_CONNECT_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** Receives one `warn` per failed attempt: attempt number, error, seconds until the next one. */
  log: Pick<Logger, 'warn'>;
  /** First wait between attempts, ms (default 1000); doubles after each attempt up to `maxDelayMs`. */
  initialDelayMs?: number;
  /** Longest wait between attempts, ms (default 15 000). */
  maxDelayMs?: number;
}

/**
 * `connect()` (e.g. `NativeConnection.connect({ address })`), retried while it fails — the Temporal
 * server may still be starting, or restarting — with exponential backoff (1 s, ×2, at most 15 s),
 * logging each failed attempt.
 *
 * @returns what `connect` resolved to.
 * @throws an Error naming the address, the attempts and the last failure once `timeoutSeconds` have
 *   passed without a connection.
 */
export async function connectWithRetry<T>(connect: () => Promise<T>, o: ConnectRetryOptions): Promise<T> {
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  let delay = o.initialDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0)
        throw new Error(
          `Temporal at ${o.address} unreachable after ${attempt} attempts in ${o.timeoutSeconds} s: ${message}`,
          { cause: err },
        );
      o.log.warn(
        { address: o.address, attempt, err: message, retryInSeconds: Math.round(wait / 100) / 10 },
        'Temporal unreachable; retrying',
      );
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(delay * 2, o.maxDelayMs ?? 15_000);
    }
  }
}
