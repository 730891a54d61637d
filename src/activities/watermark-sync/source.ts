/** Reads of the watermark sync's source PostgreSQL database: every value as PostgreSQL text. */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { classifyPostgres, floeError, Retryable } from '../../errors.js';

/** pg type parsers that keep every value as the text PostgreSQL sent (exact numerics, timestamps as written). */
const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/**
 * The floe error for a failed read of `table`: typed by `classifyPostgres` (src/errors.ts: 42P01
 * TableNotFound, class 22 DataConversion, ...; anything else Transient, retried), its message naming the
 * table: `<table>: PostgreSQL: <message> [<SQLSTATE>]`. The driver's error is not kept as the cause: the
 * workflow reports the innermost message of a failure's cause chain, and this one names the table.
 */
function sourceError(table: string, err: unknown): Error {
  const e = (err ?? {}) as { code?: unknown; message?: string };
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  // classifyPostgres returns one of floe's types (src/errors.ts) as a plain string.
  const type = (classifyPostgres(e) ?? Retryable.Transient) as Parameters<typeof floeError>[0];
  return floeError(type, `${table}: PostgreSQL: ${e.message ?? String(err)}${code}`);
}

/**
 * Run one statement on the source database for `table`, values as text.
 * @throws the floe error of {@link sourceError} (typed, naming the table).
 */
export async function sourceQuery<T extends pg.QueryResultRow = Record<string, string | null>>(
  pool: pg.Pool,
  table: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  try {
    const r = await pool.query<T>({ text: sql, values: params, types: TEXT_TYPES });
    return r.rows;
  } catch (err) {
    throw sourceError(table, err);
  }
}

/**
 * Run one SELECT on the source database for `table` through a cursor (a portal read `chunkRows` rows at a
 * time, one statement and so one snapshot), values as text, handing each chunk of rows to `onChunk` in
 * order. The next chunk is asked for before `onChunk` runs, so PostgreSQL sends it while the worker
 * handles this one; only about two chunks are held at a time, so rows die young instead of a whole
 * result set living (and being promoted by V8) until the last row arrives. Returns the rows read and the
 * last row (null when none).
 * @throws the floe error of {@link sourceError} for a failed read (the connection is then discarded);
 *   what `onChunk` throws, as it is.
 */
export async function sourceChunks<T extends pg.QueryResultRow = Record<string, string | null>>(
  pool: pg.Pool,
  table: string,
  sql: string,
  params: unknown[],
  chunkRows: number,
  onChunk: (rows: T[]) => Promise<void> | void,
): Promise<{ rows: number; last: T | null }> {
  const size = Math.max(1, Math.floor(chunkRows));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw sourceError(table, err);
  }
  const cursor = client.query(new Cursor<T>(sql, params, { types: TEXT_TYPES }));
  // pg-cursor can miss its connection's death: an error that arrives after the portal's last rows but
  // before the server's ReadyForQuery leaves the pending read unanswered for good (seen when a backend was
  // terminated mid-batch). So every wait on the cursor also ends when the client reports its connection
  // gone ('error', then 'end').
  let gone: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => {
    gone = reject;
  });
  lost.catch(() => undefined);
  const onError = (err: Error) => gone(err);
  const onEnd = () => gone(new Error('Connection terminated unexpectedly'));
  client.on('error', onError);
  client.on('end', onEnd);
  // Destroyed rather than reused when the read did not run to its end (a portal or a read may be open).
  let finished = false;
  try {
    let rows = 0;
    let last: T | null = null;
    const read = () => {
      const p = Promise.race([cursor.read(size), lost]).catch((err: unknown) =>
        Promise.reject(sourceError(table, err)),
      );
      p.catch(() => undefined); // surfaces where awaited
      return p;
    };
    let next = read();
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) break;
      rows += chunk.length;
      last = chunk[chunk.length - 1];
      const more = chunk.length === size;
      if (more) next = read();
      await onChunk(chunk);
      if (!more) break;
    }
    await Promise.race([cursor.close(), lost]).catch((err: unknown) => Promise.reject(sourceError(table, err)));
    finished = true;
    return { rows, last };
  } finally {
    client.off('error', onError);
    client.off('end', onEnd);
    client.release(!finished);
  }
}
