/**
 * Load history of COPY INTO <table>: which staged files (by stage path and MD5) a table has loaded.
 * Snowflake keeps this load metadata per table for 64 days and skips a file already loaded with the
 * same checksum unless FORCE = TRUE ("Loading using pattern matching"/"Load metadata" docs). The
 * emulator keeps it without expiry in `<dataDir>/load_history/<DB>/<SCHEMA>/<TABLE>.json`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** One loaded file. */
export interface LoadRecord {
  md5: string;
  rows: number;
  /** ISO timestamp. */
  loadedAt: string;
}

/** File key (`@DB.S.STAGE/path/file`) → record. */
type History = Record<string, LoadRecord>;

const enc = (s: string): string => encodeURIComponent(s).replace(/\./g, '%2E');

function historyFile(dataDir: string, db: string, schema: string, table: string): string {
  return path.join(dataDir, 'load_history', enc(db), enc(schema), `${enc(table)}.json`);
}

/** Serialises writers per history file within this process. */
const locks = new Map<string, Promise<unknown>>();

async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(file) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  locks.set(
    file,
    run.catch(() => undefined),
  );
  return run;
}

async function read(file: string): Promise<History> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as History;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** The table's load history (empty when it never loaded anything). */
export async function readLoadHistory(dataDir: string, db: string, schema: string, table: string): Promise<History> {
  return read(historyFile(dataDir, db, schema, table));
}

/** Add records for files a COPY just loaded. */
export async function recordLoads(
  dataDir: string,
  db: string,
  schema: string,
  table: string,
  records: Record<string, LoadRecord>,
): Promise<void> {
  const file = historyFile(dataDir, db, schema, table);
  await withLock(file, async () => {
    const history = { ...(await read(file)), ...records };
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(history));
    await fs.rename(tmp, file);
  });
}

/** Drop a table's history (the table was dropped or replaced). */
export async function forgetTableLoadHistory(
  dataDir: string,
  db: string,
  schema: string,
  table: string,
): Promise<void> {
  const file = historyFile(dataDir, db, schema, table);
  await withLock(file, () => fs.rm(file, { force: true }));
}
