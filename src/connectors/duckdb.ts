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
 * DuckDB keeps the blocks it has written cached in that buffer pool while it is below the limit, so
 * without one a table sync's stage load grew the worker's resident memory with the rows loaded (peak
 * 471 MiB at TPC-H SF1, 785 MiB at SF3). At the limit it evicts cached blocks (already in the file) and
 * spills intermediates of larger operators (MERGE's hash join, the dedup's window) to `<file>.tmp`
 * (DuckDB docs "How to Tune Workloads", larger-than-memory workloads), so a load's footprint stops
 * growing there. 512MB: the SF1 stage load ran as fast as without a limit (14.5–15.5 s against 15.6 s)
 * with worker peak RSS 440–505 MiB; 128MB held it to 360–400 MiB but cost about 30 % (16.7–20.8 s).
 */
export const DUCKDB_FILE_MEMORY_LIMIT = '512MB';

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
 * (default {@link DUCKDB_FILE_MEMORY_LIMIT}).
 * Throws DuckDB's error when another process holds the file (lock conflict) or the file is corrupt.
 */
export async function withDuckDb<T>(path: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  let entry = held.get(path);
  if (!entry) {
    const options: Record<string, string> = path === ':memory:' ? {} : { memory_limit: fileMemoryLimit };
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
