/**
 * Query results as the server hands them to the driver: small results inline (`rowset`), large
 * ones as chunks produced lazily from a DuckDB streaming result.
 *
 * A query outside an explicit transaction runs on its own connection inside its own read
 * transaction (one snapshot for the count and the rows), so the session stays free for further
 * statements while the driver downloads chunks. The first {@link INLINE_ROWS} rows are read; if
 * the result ends there it is returned inline. Otherwise the row count is taken
 * (`SELECT count(*) FROM (q)`, same snapshot), the query is streamed again and chunk k is encoded
 * only when the driver asks for it (or for a later one: chunks are produced in order). At most a
 * few encoded chunks are held at once; memory does not grow with the result.
 * Inside an explicit transaction the session's own connection must be used, so the result is
 * read at once and kept as encoded chunks (the session's next statement would end a stream).
 */
import type { DuckDBConnection, DuckDBResult, DuckDBValue } from '@duckdb/node-api';
import type { RowTypeColumn } from './contract.js';
import { encoderFor, rowTypeOf, type CellEncoder } from './encode.js';

/** Rows returned inline at most; larger results are chunked. */
export const INLINE_ROWS = 2048;
/** Rows per chunk. */
export const CHUNK_ROWS = 20_000;

/** A produced result: inline rows or chunk descriptors plus the producer serving chunk bodies. */
export interface QueryResult {
  columns: RowTypeColumn[];
  rowset: (string | null)[][];
  total: number;
  chunks: { rowCount: number; uncompressedSize: number }[];
  producer: ChunkProducer | null;
}

function encodeRows(rows: DuckDBValue[][], enc: CellEncoder[]): (string | null)[][] {
  return rows.map((r) => r.map((v, k) => enc[k](v)));
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

function columnsOf(result: DuckDBResult, names?: string[]): { columns: RowTypeColumn[]; enc: CellEncoder[] } {
  const types = result.columnTypes();
  return {
    columns: types.map((t, k) => rowTypeOf(names?.[k] ?? result.columnName(k), t)),
    enc: types.map((t) => encoderFor(t)),
  };
}

/**
 * Runs a query outside a transaction on a dedicated connection (`conn` is owned by the result:
 * closed when the last chunk is produced or {@link ChunkProducer.close} is called).
 */
export async function streamQuery(conn: DuckDBConnection, sql: string, names?: string[]): Promise<QueryResult> {
  await conn.run('BEGIN TRANSACTION');
  const first = await conn.stream(sql);
  const { columns, enc } = columnsOf(first, names);
  const head = await readUpTo(first, INLINE_ROWS);
  if (head.done) {
    await conn.run('COMMIT');
    conn.closeSync();
    return { columns, rowset: encodeRows(head.rows, enc), total: head.rows.length, chunks: [], producer: null };
  }
  const countResult = await conn.runAndReadAll(`SELECT count(*) FROM (${sql})`);
  const total = Number(countResult.getRowsJS()[0][0]);
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= CHUNK_ROWS) sizes.push(Math.min(CHUNK_ROWS, left));
  const stream = await conn.stream(sql);
  const producer = new ChunkProducer(sizes, enc, () => stream.fetchChunk().then((c) => (c && c.rowCount > 0 ? c.getRows() : null)), async () => {
    await conn.run('COMMIT').catch(() => undefined);
    conn.closeSync();
  });
  return { columns, rowset: [], total, chunks: sizes.map((rowCount) => ({ rowCount, uncompressedSize: rowCount * 64 })), producer };
}

/** Runs a query on the session's connection inside its open transaction and keeps the encoded result. */
export async function materializeQuery(conn: DuckDBConnection, sql: string, names?: string[]): Promise<QueryResult> {
  const result = await conn.stream(sql);
  const { columns, enc } = columnsOf(result, names);
  const all = await readUpTo(result, Number.MAX_SAFE_INTEGER);
  const cells = encodeRows(all.rows, enc);
  if (cells.length <= INLINE_ROWS) return { columns, rowset: cells, total: cells.length, chunks: [], producer: null };
  const sizes: number[] = [];
  for (let k = 0; k < cells.length; k += CHUNK_ROWS) sizes.push(Math.min(CHUNK_ROWS, cells.length - k));
  let offset = 0;
  const rows = all.rows;
  const producer = new ChunkProducer(sizes, enc, async () => {
    if (offset >= rows.length) return null;
    const slice = rows.slice(offset, offset + CHUNK_ROWS);
    offset += CHUNK_ROWS;
    return slice;
  }, async () => undefined);
  return { columns, rowset: [], total: cells.length, chunks: sizes.map((rowCount) => ({ rowCount, uncompressedSize: rowCount * 64 })), producer };
}

/**
 * Produces chunk bodies (JSON rows without the outer brackets) in order, on demand. Bodies already
 * produced but not yet fetched, and the last few fetched ones (for the driver's retries), are kept.
 */
export class ChunkProducer {
  private readonly bodies = new Map<number, string>();
  private nextToProduce = 0;
  private pendingRows: DuckDBValue[][] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  lastAccess = Date.now();

  constructor(
    private readonly sizes: number[],
    private readonly enc: CellEncoder[],
    private readonly fetchRows: () => Promise<DuckDBValue[][] | null>,
    private readonly onDone: () => Promise<void>,
  ) {}

  get chunkCount(): number {
    return this.sizes.length;
  }

  /** The body of chunk `index`; throws when it was evicted long ago or the producer is closed. */
  async body(index: number): Promise<string> {
    this.lastAccess = Date.now();
    const run = this.chain.then(() => this.produceUpTo(index));
    this.chain = run.catch(() => undefined);
    await run;
    const body = this.bodies.get(index);
    if (body === undefined) throw new Error(`chunk ${index} is no longer available`);
    // Keep two chunks behind the one served for retries; drop older ones.
    for (const k of this.bodies.keys()) if (k < index - 2) this.bodies.delete(k);
    return body;
  }

  private async produceUpTo(index: number): Promise<void> {
    while (this.nextToProduce <= index && this.nextToProduce < this.sizes.length) {
      if (this.closed) throw new Error('result closed');
      const want = this.sizes[this.nextToProduce];
      while (this.pendingRows.length < want) {
        const rows = await this.fetchRows();
        if (!rows) break;
        for (const r of rows) this.pendingRows.push(r);
      }
      const take = this.pendingRows.splice(0, want);
      const parts = take.map((r) => JSON.stringify(r.map((v, k) => this.enc[k](v))));
      this.bodies.set(this.nextToProduce, parts.join(','));
      this.nextToProduce++;
      if (this.nextToProduce === this.sizes.length) await this.close();
    }
  }

  /** Releases the DuckDB stream and its connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pendingRows = [];
    await this.onDone();
  }
}
