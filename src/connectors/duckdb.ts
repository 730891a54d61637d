/**
 * DuckDB target files. One process-wide instance per file path (DuckDB allows one writer process per
 * file): the worker's activities and, when they share the process, the API's sample endpoint use the
 * same instance. Instances are released when no user holds them, so a user's `duckdb` CLI can open the
 * file between syncs.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbInstanceOptions } from '../infra/paths.js';

/**
 * Default DuckDB `memory_limit` of every instance on a file; DUCKDB_MEMORY_LIMIT changes it. DuckDB's
 * own default is 80 % of RAM, and the limit bounds only DuckDB's buffer manager (DuckDB docs "Limits").
 * DuckDB keeps the blocks of a table it has just written cached in that buffer pool while it is below
 * the limit, so without one a table sync's stage load grew the worker's resident memory with the rows
 * loaded (peak 471 MiB at TPC-H SF1, 785 MiB at SF3). Sampled with `duckdb_memory()` during an SF3 load
 * at 512MB: 365 MB of the pool was such cached blocks (`BASE_TABLE`), 80–130 MB the load's own work. At
 * the limit DuckDB evicts cached blocks (already in the file) and spills intermediates of larger
 * operators (MERGE's hash join, the dedup's window) to `<file>.tmp` (DuckDB docs "How to Tune
 * Workloads"), so a load's footprint stops growing there. 256MB with {@link FILE_INSTANCE_SETTINGS} and
 * the stage load as one INSERT: worker peak 438 MiB at SF1 and 447 MiB at SF3, the stage sync at 1.05× and
 * 1.08× its floor (docs/table-sync.md, "Measured"); 512MB reached 747 MiB at SF3 (the cache fills up to
 * the limit).
 */
export const DUCKDB_FILE_MEMORY_LIMIT = '256MB';

/**
 * Settings of every instance on a file besides the memory limit. `preserve_insertion_order = false`
 * lets DuckDB insert the row groups of a parallel `INSERT ... SELECT` (the stage load's `read_parquet`
 * of a file) as its threads finish them rather than buffering them to keep the source's order (DuckDB
 * docs "How to Tune Workloads", larger-than-memory loads); a SELECT without ORDER BY may then return
 * rows in another order. floe's own reads order explicitly where order matters (pages, cursors, the
 * dedup's window; the `first` sample orders by the primary key), and a table's physical order is not
 * part of what a sync promises: the unload it comes from has none. What changes is that the `first`
 * sample of a table without a primary key may show other rows from one call to the next. Under a 256MB
 * limit the SF1 stage sync (then one INSERT per file) ran at 1.54× its floor with insertion order kept
 * and 1.20× without it.
 */
const FILE_INSTANCE_SETTINGS: Readonly<Record<string, string>> = { preserve_insertion_order: 'false' };

let fileMemoryLimit = DUCKDB_FILE_MEMORY_LIMIT;

/**
 * Sets the `memory_limit` of DuckDB file instances opened from now on (the worker and the API call it
 * with DUCKDB_MEMORY_LIMIT at start-up; instances already open keep theirs). `limit` is a size as DuckDB
 * reads it, e.g. `'128MB'` or `'2GB'` (validated by src/config.ts).
 */
export function setDuckDbFileMemoryLimit(limit: string): void {
  fileMemoryLimit = limit;
}

interface Held {
  instance: Promise<DuckDBInstance>;
  users: number;
}

const held = new Map<string, Held>();

/**
 * Run `fn` with a connection to the DuckDB file at `path` (created if missing; `:memory:` for a private
 * in-memory database). The instance is shared by concurrent callers in this process and closed when the
 * last one finishes; a file's instance has the memory limit {@link setDuckDbFileMemoryLimit} set
 * (default {@link DUCKDB_FILE_MEMORY_LIMIT}) and {@link FILE_INSTANCE_SETTINGS}.
 * Throws DuckDB's error when another process holds the file (lock conflict) or the file is corrupt.
 */
export async function withDuckDb<T>(path: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  let entry = held.get(path);
  if (!entry) {
    const options: Record<string, string> =
      path === ':memory:' ? {} : { ...FILE_INSTANCE_SETTINGS, memory_limit: fileMemoryLimit };
    entry = { instance: DuckDBInstance.create(path, duckdbInstanceOptions(options)), users: 0 };
    held.set(path, entry);
  }
  entry.users++;
  try {
    const instance = await entry.instance;
    const conn = await instance.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  } finally {
    entry.users--;
    if (entry.users === 0 && held.get(path) === entry) {
      held.delete(path);
      await entry.instance.then((i) => i.closeSync()).catch(() => undefined);
    }
  }
}

/** How {@link runWithProgress} reports and stops a statement. */
export interface StatementProgress {
  /** Called with DuckDB's estimate of the share of the statement done, 0–1, when it has grown. */
  onProgress(fraction: number): void;
  /** How often the estimate is read, ms. */
  everyMs: number;
  /** When it aborts, the statement is interrupted (it then rejects with DuckDB's interrupt error). */
  signal?: AbortSignal;
}

/**
 * Run one statement (an `INSERT ... SELECT`; DuckDB reports no changed rows for a CTAS) on `conn` and
 * return the rows it changed, reading DuckDB's progress estimate every `everyMs` while it runs. The
 * estimate is `duckdb_query_progress`:
 * the rows the statement's pipelines have read over the rows DuckDB expects them to read, which
 * DuckDB tracks only while the session setting `enable_progress_bar` is on (turned on here with
 * `enable_progress_bar_print` off, so nothing is printed; DuckDB docs "Configuration"). It has no
 * estimate (-1) at first; `onProgress` is called only with a larger fraction than the last one.
 * Throws DuckDB's error; an aborted `signal` interrupts the statement (`duckdb_interrupt`).
 */
export async function runWithProgress(conn: DuckDBConnection, sql: string, p: StatementProgress): Promise<number> {
  if (p.signal?.aborted) throw new Error('statement not started: the operation was cancelled');
  await conn.run('SET enable_progress_bar = true');
  await conn.run('SET enable_progress_bar_print = false');
  let last = 0;
  const timer = setInterval(() => {
    const pct = conn.progress.percentage;
    if (pct > last * 100) {
      last = Math.min(1, pct / 100);
      p.onProgress(last);
    }
  }, p.everyMs);
  const interrupt = () => conn.interrupt();
  p.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    return Number((await conn.run(sql)).rowsChanged);
  } finally {
    clearInterval(timer);
    p.signal?.removeEventListener('abort', interrupt);
  }
}
