/**
 * DuckDB target files. One process-wide instance per file path (DuckDB allows one writer process per
 * file): the worker's activities and, when they share the process, the API's sample endpoint use the
 * same instance. Instances are released when no user holds them, so a user's `duckdb` CLI can open the
 * file between syncs.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbInstanceOptions } from '../infra/paths.js';

interface Held {
  instance: Promise<DuckDBInstance>;
  users: number;
}

const held = new Map<string, Held>();

/**
 * Run `fn` with a connection to the DuckDB file at `path` (created if missing). The instance is
 * shared by concurrent callers in this process and closed when the last one finishes.
 * Throws DuckDB's error when another process holds the file (lock conflict) or the file is corrupt.
 */
export async function withDuckDb<T>(path: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  let entry = held.get(path);
  if (!entry) {
    entry = { instance: DuckDBInstance.create(path, duckdbInstanceOptions()), users: 0 };
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
