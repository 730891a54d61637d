/**
 * Query results as the server hands them to the driver: small results inline (`rowset`), large
 * ones as chunks produced lazily.
 *
 * What snowflake-sdk 3.3.0 needs up front (dist/lib/connection/result/result.js): the full chunk
 * list with each chunk's `rowCount` (it derives every chunk's start index from them) and
 * `returned` (it bounds the row window it streams). So the exact row count must be known before
 * the first response; chunks cannot be announced as they are produced.
 *
 * How a query is run (once in full):
 * 1. Stream it and read up to {@link INLINE_ROWS} + 1 rows. If it ends there, answer inline.
 * 2. Otherwise spool it once to a Parquet file, `COPY (q) TO '<dataDir>/.results/<id>.parquet'`
 *    (DuckDB writes it in parallel with bounded memory and reports the row count), then stream the
 *    file (`read_parquet`, file order = query order) on a dedicated connection and encode chunk k
 *    only when the driver asks for it, in order or directly by row offset (chunks.ts). At most a few
 *    encoded chunks are held; memory does not grow with the result. The file is deleted when every
 *    chunk has been served or the result is closed. When every column is text, an integer, a
 *    DECIMAL, a BOOLEAN or a DATE, DuckDB writes each row's JSON itself (`to_json` of the cells,
 *    encode.ts `sqlCellExpr`): reading DuckDB values into JavaScript objects to encode them costs
 *    about three times as much.
 *
 * The same path serves queries inside an explicit transaction: the COPY runs on the session's
 * connection (it sees the transaction's own writes) and the file is read on another connection,
 * so the session is free for its next statement while the driver downloads chunks.
 * HUGEINT/UHUGEINT/BIGNUM columns are spooled as text (Parquet would turn HUGEINT into DOUBLE).
 * A query whose result Parquet cannot hold falls back to counting it and streaming it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import type { RowTypeColumn } from './contract.js';
import { ChunkProducer } from './chunks.js';
import { encoderFor, rowTypeOf, sqlCellExpr, type CellEncoder } from './encode.js';
import { fromDuckdbName, quoteString } from './sql/tokenizer.js';

/** Rows returned inline at most; larger results are chunked. */
export const INLINE_ROWS = 2048;
/** Rows per chunk. */
export const CHUNK_ROWS = 20_000;

/** A produced result: inline rows or chunk descriptors plus the producer serving chunk bodies. */
export interface QueryResult {
  columns: RowTypeColumn[];
  rowset: (string | null)[][];
  total: number;
  chunks: ChunkInfo[];
  producer: ChunkProducer | null;
}

/** Where and how {@link runQuery} runs a query. */
export interface RunQueryOptions {
  /** DuckDB SQL of the query. */
  sql: string;
  /** Connection that executes the query (a dedicated one, or the session's inside a transaction). */
  conn: DuckDBConnection;
  /** True when `conn` belongs to the result: given to `recycle` (or closed) once the result is served. */
  ownsConn: boolean;
  /** Takes back an owned `conn` whose query ended without error (else it is closed). */
  recycle?: (conn: DuckDBConnection) => Promise<void>;
  /** Opens a fresh connection (to read the spool file when `conn` is not owned). */
  connect: () => Promise<DuckDBConnection>;
  /** Spool file for a large result (its directory is created on demand). */
  spoolFile: string;
  /** Result column names to report instead of DuckDB's. */
  names?: string[];
}

function encodeRows(rows: DuckDBValue[][], enc: CellEncoder[]): (string | null)[][] {
  return rows.map((r) => r.map((v, k) => enc[k](v)));
}

/** Rows as the JSON texts of their cell arrays (`["1","abc",null]`). */
function jsonRows(rows: DuckDBValue[][], enc: CellEncoder[]): string[] {
  return encodeRows(rows, enc).map((r) => JSON.stringify(r));
}

/** How the spool file is read: the SELECT giving its rows, the rows in order, and how rows become JSON row texts. */
interface SpoolReader {
  /** SELECT over the spool in file order (the query's order); a chunk is this with LIMIT/OFFSET. */
  select: string;
  /** The next rows of the sequential stream as JSON row texts; null at the end. */
  next: () => Promise<string[] | null>;
  /** Rows read with {@link select} → JSON row texts. */
  decode: (rows: DuckDBValue[][]) => string[];
}

/**
 * Streams the spool file's rows as JSON row texts: written by DuckDB when {@link sqlCellExpr} covers
 * every column, else encoded here (encoderFor).
 */
async function spoolReader(conn: DuckDBConnection, spoolFile: string): Promise<SpoolReader> {
  const from = `FROM read_parquet(${quoteString(spoolFile)})`;
  const p = await conn.prepare(`SELECT * ${from}`);
  let cells: (string | null)[];
  let enc: CellEncoder[];
  try {
    cells = Array.from({ length: p.columnCount }, (_, k) => sqlCellExpr(p.columnType(k), `c${k}`));
    enc = Array.from({ length: p.columnCount }, (_, k) => encoderFor(p.columnType(k)));
  } finally {
    p.destroySync();
  }
  if (cells.every((c) => c !== null)) {
    const alias = cells.map((_, k) => `c${k}`).join(', ');
    const select = `SELECT CAST(to_json([${cells.join(', ')}]) AS VARCHAR) FROM (SELECT * ${from}) AS __s(${alias})`;
    const stream = await conn.stream(select);
    return {
      select,
      next: async () => {
        const c = await stream.fetchChunk();
        if (!c || c.rowCount === 0) return null;
        return c.getColumnVector(0).toArray() as string[];
      },
      decode: (rows) => rows.map((r) => r[0] as string),
    };
  }
  const select = `SELECT * ${from}`;
  const stream = await conn.stream(select);
  return {
    select,
    next: () => stream.fetchChunk().then((c) => (c && c.rowCount > 0 ? jsonRows(c.getRows(), enc) : null)),
    decode: (rows) => jsonRows(rows, enc),
  };
}

async function readUpTo(result: DuckDBResult, n: number): Promise<{ rows: DuckDBValue[][]; done: boolean }> {
  const rows: DuckDBValue[][] = [];
  while (rows.length <= n) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return { rows, done: true };
    for (const r of chunk.getRows()) rows.push(r);
  }
  return { rows, done: false };
}

/**
 * A chunk as the chunk list describes it. Bodies are sent uncompressed, so `compressedSize` is
 * `uncompressedSize`: an estimate (64 bytes a row) the drivers use to size buffers and downloads.
 */
export interface ChunkInfo {
  rowCount: number;
  uncompressedSize: number;
  compressedSize: number;
}

function chunkList(producer: ChunkProducer): ChunkInfo[] {
  return producer.sizes.map((rowCount) => ({
    rowCount,
    uncompressedSize: rowCount * 64,
    compressedSize: rowCount * 64,
  }));
}

const chunkSizes = (total: number): number[] => {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= CHUNK_ROWS) sizes.push(Math.min(CHUNK_ROWS, left));
  return sizes;
};

/** Types Parquet cannot hold exactly: spooled as their text (FIXED cells are decimal text anyway). */
const AS_TEXT = new Set<DuckDBTypeId>([DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.BIGNUM]);

/** Runs a query once and returns its first response; large results are spooled (see the file comment). */
export async function runQuery(o: RunQueryOptions): Promise<QueryResult> {
  /** Done with an owned connection: recycled after a clean end (`reusable`), else closed. */
  const release = async (reusable = false) => {
    if (!o.ownsConn) return;
    if (reusable && o.recycle) await o.recycle(o.conn);
    else o.conn.closeSync();
  };
  let first: DuckDBResult;
  try {
    first = await o.conn.stream(o.sql);
  } catch (e) {
    await release();
    throw e;
  }
  const types = first.columnTypes();
  const columns = types.map((t, k) => rowTypeOf(o.names?.[k] ?? fromDuckdbName(first.columnName(k)), t));
  const head = await readUpTo(first, INLINE_ROWS).catch(async (e: unknown) => {
    await release();
    throw e;
  });
  if (head.done) {
    await release(true);
    return {
      columns,
      rowset: encodeRows(
        head.rows,
        types.map((t) => encoderFor(t)),
      ),
      total: head.rows.length,
      chunks: [],
      producer: null,
    };
  }
  const sql = o.sql;
  const alias = types.map((_, k) => `c${k}`);
  const select = types.map((t, k) => (AS_TEXT.has(t.typeId) ? `CAST(c${k} AS VARCHAR)` : `c${k}`));
  fs.mkdirSync(path.dirname(o.spoolFile), { recursive: true });
  let total: number;
  try {
    const copied = await o.conn.run(
      `COPY (SELECT ${select.join(', ')} FROM (${sql}) AS __q(${alias.join(', ')})) TO ${quoteString(o.spoolFile)} (FORMAT parquet, ROW_GROUP_SIZE ${CHUNK_ROWS * 5})`,
    );
    total = copied.rowsChanged;
  } catch (e) {
    fs.rmSync(o.spoolFile, { force: true });
    if (/INTERRUPT/i.test(String((e as Error).message))) {
      await release();
      throw e;
    }
    return countAndStream(
      o,
      columns,
      types.map((t) => encoderFor(t)),
      release,
    );
  }
  // The spool is read on a connection of its own, and the query's connection is released now (given
  // back with its current database reset, or closed): a connection left with a current database (USE)
  // keeps that database's file open in DuckDB, so a later DROP or CREATE OR REPLACE DATABASE could not
  // reuse it.
  await release(true);
  const reader = await o.connect();
  try {
    const spool = await spoolReader(reader, o.spoolFile);
    const producer = new ChunkProducer(chunkSizes(total), {
      next: spool.next,
      read: async (index) => {
        const conn = await o.connect();
        try {
          const r = await conn.runAndReadAll(`${spool.select} LIMIT ${CHUNK_ROWS} OFFSET ${index * CHUNK_ROWS}`);
          return spool.decode(r.getRows());
        } finally {
          conn.closeSync();
        }
      },
      release: async () => {
        reader.closeSync();
        fs.rmSync(o.spoolFile, { force: true });
      },
    });
    return {
      columns,
      rowset: [],
      total,
      chunks: chunkList(producer),
      producer,
    };
  } catch (e) {
    reader.closeSync();
    fs.rmSync(o.spoolFile, { force: true });
    throw e;
  }
}

/**
 * Fallback for results Parquet cannot hold: count the rows, then stream the query again, both in
 * one read transaction when the connection is ours (same snapshot). Inside the session's
 * transaction the rows are read at once (the session's next statement would end a stream).
 */
async function countAndStream(
  o: RunQueryOptions,
  columns: RowTypeColumn[],
  enc: CellEncoder[],
  release: () => Promise<void>,
): Promise<QueryResult> {
  const sql = o.sql;
  if (!o.ownsConn) {
    const all = await readUpTo(await o.conn.stream(sql), Number.MAX_SAFE_INTEGER);
    let offset = 0;
    const producer = new ChunkProducer(chunkSizes(all.rows.length), {
      next: async () => {
        if (offset >= all.rows.length) return null;
        const slice = all.rows.slice(offset, offset + CHUNK_ROWS);
        offset += CHUNK_ROWS;
        return jsonRows(slice, enc);
      },
      read: async (index) => jsonRows(all.rows.slice(index * CHUNK_ROWS, (index + 1) * CHUNK_ROWS), enc),
      release: async () => undefined,
    });
    return {
      columns,
      rowset: [],
      total: all.rows.length,
      chunks: chunkList(producer),
      producer,
    };
  }
  try {
    await o.conn.run('BEGIN TRANSACTION');
    const total = Number((await o.conn.runAndReadAll(`SELECT count(*) FROM (${sql})`)).getRowsJS()[0][0]);
    const stream = await o.conn.stream(sql);
    const producer = new ChunkProducer(chunkSizes(total), {
      next: () => stream.fetchChunk().then((c) => (c && c.rowCount > 0 ? jsonRows(c.getRows(), enc) : null)),
      release: async () => {
        await o.conn.run('COMMIT').catch(() => undefined);
        await release();
      },
    });
    return {
      columns,
      rowset: [],
      total,
      chunks: chunkList(producer),
      producer,
    };
  } catch (e) {
    await release();
    throw e;
  }
}
