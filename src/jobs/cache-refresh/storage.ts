/**
 * DuckLake storage of the query-result cache: a PostgreSQL catalog (DUCKLAKE_CATALOG_URL,
 * default the floe database) whose DuckLake tables live in their own schema (`floe_ducklake`), and
 * Parquet data files under a data path (a local directory by default; `s3://bucket/prefix/` works when
 * the httpfs extension and S3 credentials are available to DuckDB — not vendored here).
 *
 * One in-memory DuckDB instance per process and settings holds the ATTACH (`LOAD ducklake; LOAD
 * postgres;` from the vendored extensions, nothing downloaded). Several processes (API, workers) may
 * attach the same lake: DuckLake commits are PostgreSQL transactions, so readers always see a complete
 * snapshot. Caches are tables `<lake>.main.<cache_name>`.
 *
 * The catalog URL carries a password: it is never logged, and DuckDB error messages are scrubbed of it
 * ({@link scrubSecret}).
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { FloeConfig } from '../../config.js';
import { redactUrl } from '../../config.js';
import { duckdbInstanceOptions } from '../../infra/paths.js';
import { duckDbLiteral, quoteDuckDbIdent } from '../../sql/quote.js';

/** Where the lake lives. */
export interface LakeSettings {
  /** postgres:// URL of the DuckLake catalog database (secret: contains the password). */
  catalogUrl: string;
  /** Local directory or `s3://...` prefix for Parquet files. */
  dataPath: string;
  /** PostgreSQL schema holding DuckLake's catalog tables (default `floe_ducklake`). */
  metadataSchema?: string;
  /** DuckDB alias of the attached lake (default `lake`). */
  alias?: string;
}

/** Default PostgreSQL schema for DuckLake's catalog tables. */
export const DEFAULT_METADATA_SCHEMA = 'floe_ducklake';
/** Default DuckDB alias of the lake (what the README's ATTACH uses too). */
export const DEFAULT_LAKE_ALIAS = 'lake';

/**
 * Lake settings from floe's configuration (`config.ducklake`): catalog = DUCKLAKE_CATALOG_URL or the
 * control-plane database; data path = DUCKLAKE_DATA_PATH or `<stateDir>/ducklake`.
 */
export function lakeSettingsFromConfig(config: FloeConfig, overrides: Partial<LakeSettings> = {}): LakeSettings {
  return {
    catalogUrl: overrides.catalogUrl ?? config.ducklake.catalogUrl,
    dataPath: overrides.dataPath ?? config.ducklake.dataPath,
    metadataSchema: overrides.metadataSchema ?? DEFAULT_METADATA_SCHEMA,
    alias: overrides.alias ?? DEFAULT_LAKE_ALIAS,
  };
}

/** Replace the catalog password (and the URL) in a message with `***`. */
export function scrubSecret(message: string, settings: LakeSettings): string {
  let out = message.replaceAll(settings.catalogUrl, redactUrl(settings.catalogUrl));
  try {
    const pw = decodeURIComponent(new URL(settings.catalogUrl).password);
    if (pw.length >= 3) out = out.replaceAll(pw, '***');
  } catch {
    // not a URL: nothing more to scrub
  }
  return out;
}

/** The data path is a local directory, not a URL such as `s3://bucket/prefix/`. */
const isLocal = (s: LakeSettings) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s.dataPath);

/** The data path with a trailing `/` (DuckLake's DATA_PATH and DuckDB's allowed_directories want a directory). */
const dataDirectory = (s: LakeSettings) => (s.dataPath.endsWith('/') ? s.dataPath : `${s.dataPath}/`);

/** `ATTACH 'ducklake:postgres:<url>' AS lake (DATA_PATH ..., METADATA_SCHEMA ...)` (contains the secret). */
export function attachSql(s: LakeSettings, opts: { readOnly?: boolean } = {}): string {
  return (
    `ATTACH IF NOT EXISTS ${duckDbLiteral(`ducklake:postgres:${s.catalogUrl}`)} AS ${quoteDuckDbIdent(s.alias ?? DEFAULT_LAKE_ALIAS)} ` +
    `(DATA_PATH ${duckDbLiteral(dataDirectory(s))}, METADATA_SCHEMA ${duckDbLiteral(s.metadataSchema ?? DEFAULT_METADATA_SCHEMA)}${opts.readOnly ? ', READ_ONLY' : ''})`
  );
}

interface Held {
  instance: Promise<DuckDBInstance>;
  /** Idle connections of a sandboxed instance, reused by the next query (see {@link withLake}). */
  idle: DuckDBConnection[];
}
const held = new Map<string, Held>();

/**
 * Most idle connections a sandboxed instance keeps: as many as queries usually run at once in one
 * process; a connection beyond that is closed when its query ends.
 */
const MAX_IDLE_CONNECTIONS = 4;

function keyOf(s: LakeSettings, sandbox: boolean): string {
  return JSON.stringify([s.catalogUrl, s.dataPath, s.metadataSchema, s.alias, sandbox]);
}

/**
 * DuckDB settings that shut a sandboxed instance off from the host, in the order they must be set
 * (DuckDB documentation, "Securing DuckDB"): `allowed_directories` before `enable_external_access = false`
 * (after it, no file outside those directories — and DuckDB's own temp directory — can be read or written,
 * no database attached, no extension installed or loaded); extension auto-loading/-installing off; then
 * `lock_configuration = true`, after which no `SET`/`RESET`/`PRAGMA` can change any setting. The ATTACH of
 * the lake happens before: DuckLake keeps using its PostgreSQL catalog connection afterwards, while new
 * PostgreSQL attaches are refused.
 */
function sandboxSettingsSql(s: LakeSettings): string[] {
  return [
    `SET allowed_directories = [${duckDbLiteral(dataDirectory(s))}]`,
    'SET enable_external_access = false',
    'SET autoload_known_extensions = false',
    'SET autoinstall_known_extensions = false',
    'SET lock_configuration = true',
  ];
}

async function openInstance(s: LakeSettings, sandbox: boolean): Promise<DuckDBInstance> {
  if (isLocal(s)) await mkdir(s.dataPath, { recursive: true });
  const inst = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const c = await inst.connect();
  try {
    await c.run('LOAD ducklake; LOAD postgres;');
    try {
      await c.run(attachSql(s, { readOnly: sandbox }));
    } catch (err) {
      // Not attached as `cause`: DuckDB's message may carry the catalog URL with its password.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrubSecret((err as Error).message, s));
    }
    if (sandbox) {
      for (const stmt of sandboxSettingsSql(s)) await c.run(stmt);
    }
  } catch (err) {
    c.closeSync();
    inst.closeSync();
    throw err;
  } finally {
    try {
      c.closeSync();
    } catch {
      /* closed above */
    }
  }
  return inst;
}

/**
 * Run `fn` with a connection to an in-memory DuckDB that has the lake attached (as `settings.alias`,
 * default `lake`), creating the process-wide instance on first use.
 *
 * `sandbox: true` gives the instance `POST /query` runs user SQL on: the lake attached READ_ONLY (routed
 * SQL cannot write it), then {@link sandboxSettingsSql} — no file outside the lake's data path, no
 * network, no ATTACH, no extension loading, and no setting the user's SQL can change. It is a separate
 * instance from the writable one that refreshes use (a locked instance cannot be unlocked).
 *
 * Sandboxed connections are pooled: a connection whose `fn` resolved goes back to the instance's idle
 * list (at most {@link MAX_IDLE_CONNECTIONS}) and serves a later call; one whose `fn` threw is closed, so
 * a connection left in an unknown state (a failed or interrupted statement) is never reused. Reuse keeps
 * the sandbox — its settings are the instance's and locked — and each statement still sees the lake's
 * current snapshot: DuckDB runs each statement outside an explicit transaction in a transaction of its
 * own, and DuckLake reads the latest snapshot from its catalog when a transaction starts (so a sandboxed
 * `fn` must not leave a transaction of its own open: the routed query runs one SELECT). Connections of
 * the writable instance (refreshes: explicit transactions, temporary state) are opened and closed per call.
 * Throws the (secret-scrubbed) DuckDB error when the catalog is unreachable or the data path unusable.
 */
export async function withLake<T>(
  settings: LakeSettings,
  fn: (conn: DuckDBConnection) => Promise<T>,
  opts: { sandbox?: boolean } = {},
): Promise<T> {
  const sandbox = opts.sandbox ?? false;
  const key = keyOf(settings, sandbox);
  let entry = held.get(key);
  if (!entry) {
    entry = { instance: openInstance(settings, sandbox), idle: [] };
    held.set(key, entry);
    entry.instance.catch(() => held.delete(key));
  }
  const inst = await entry.instance;
  const conn = (sandbox && entry.idle.pop()) || (await inst.connect());
  let result: T;
  try {
    result = await fn(conn);
  } catch (err) {
    conn.closeSync();
    throw err;
  }
  // Back to the pool only while the instance is still held (closeLakes may have closed it meanwhile).
  if (sandbox && held.get(key) === entry && entry.idle.length < MAX_IDLE_CONNECTIONS) entry.idle.push(conn);
  else conn.closeSync();
  return result;
}

/** Close every lake instance of this process, and its idle connections (tests, shutdown). */
export async function closeLakes(): Promise<void> {
  const all = [...held.values()];
  held.clear();
  for (const h of all) {
    for (const c of h.idle.splice(0)) c.closeSync();
    await h.instance.then((i) => i.closeSync()).catch(() => undefined);
  }
}

/** Quoted `lake.main.<cache>` name of a cache's table. */
export function cacheTableName(settings: LakeSettings, cacheName: string): string {
  return `${quoteDuckDbIdent(settings.alias ?? DEFAULT_LAKE_ALIAS)}.main.${quoteDuckDbIdent(cacheName)}`;
}

/**
 * Deletes the files in a cache table's data directory (`<data path>/main/<cache>/`, DuckLake's default
 * layout: schema name, then table name) that the DuckLake catalog lists nowhere — not as a data file, a
 * delete file or a file scheduled for deletion. Such files were written by an earlier refresh of this
 * cache whose transaction never committed: its process was killed mid-transaction, or its catalog
 * connection was lost during COMMIT (DuckLake then neither commits nor removes the Parquet files it has
 * written). Returns the paths deleted.
 *
 * Only safe while no other transaction writes this cache's table: the caller holds the cache's lock
 * (refreshes of one cache are serialized). Only a local data path is cleaned; on an object store the
 * files stay until DuckLake's own `ducklake_delete_orphaned_files` removes them.
 */
export async function removeUncommittedFiles(
  conn: DuckDBConnection,
  settings: LakeSettings,
  cacheName: string,
): Promise<string[]> {
  if (!isLocal(settings)) return [];
  const dir = path.join(settings.dataPath, 'main', cacheName);
  const names = await readdir(dir).catch(() => [] as string[]);
  if (!names.length) return [];
  // DuckLake keeps its catalog tables in the metadata database it attaches as `__ducklake_metadata_<alias>`.
  const meta = `${quoteDuckDbIdent(`__ducklake_metadata_${settings.alias ?? DEFAULT_LAKE_ALIAS}`)}.${quoteDuckDbIdent(
    settings.metadataSchema ?? DEFAULT_METADATA_SCHEMA,
  )}`;
  const listed = await conn.runAndReadAll(
    ['ducklake_data_file', 'ducklake_delete_file', 'ducklake_files_scheduled_for_deletion']
      .map((t) => `SELECT path FROM ${meta}.${t}`)
      .join(' UNION ALL '),
  );
  const known = new Set(listed.getRows().map(([p]) => path.basename(String(p))));
  const unlisted = names.filter((n) => !known.has(n)).map((n) => path.join(dir, n));
  for (const file of unlisted) await rm(file, { force: true });
  return unlisted;
}

/** Current DuckLake snapshot id of the attached lake. */
export async function currentSnapshot(conn: DuckDBConnection, settings: LakeSettings): Promise<number> {
  const r = await conn.runAndReadAll(
    `SELECT id FROM ${quoteDuckDbIdent(settings.alias ?? DEFAULT_LAKE_ALIAS)}.current_snapshot()`,
  );
  return Number(r.getRows()[0]?.[0] ?? 0);
}

/** What {@link setupStorage} reports. */
export interface StorageInfo {
  /** Catalog URL with the password replaced by `***`. */
  catalog: string;
  data_path: string;
  metadata_schema: string;
  alias: string;
  snapshot_id: number;
}

/**
 * Attach (creating the DuckLake catalog on first use) and report. Idempotent: a second call attaches
 * the same lake and changes nothing. Throws the scrubbed DuckDB error when it cannot.
 */
export async function setupStorage(settings: LakeSettings): Promise<StorageInfo> {
  const snapshot = await withLake(settings, (c) => currentSnapshot(c, settings));
  return {
    catalog: redactUrl(settings.catalogUrl),
    data_path: settings.dataPath,
    metadata_schema: settings.metadataSchema ?? DEFAULT_METADATA_SCHEMA,
    alias: settings.alias ?? DEFAULT_LAKE_ALIAS,
    snapshot_id: snapshot,
  };
}
