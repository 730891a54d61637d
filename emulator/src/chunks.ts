/**
 * Result chunks served to the drivers. The Node driver fetches chunks in order, a few ahead;
 * gosnowflake fetches with ten workers in parallel and JDBC retries a chunk it failed to read, so a
 * chunk may be asked for in any order and more than once. A chunk near the sequential cursor is
 * produced from the result stream in order; any other one (behind the cursor, far ahead of it, or
 * asked again) is read directly from the spooled result by its row offset. At most
 * {@link MAX_HELD} produced-but-unfetched chunks are kept, so memory stays bounded whatever the
 * order; the spool is released once every chunk has been served. Rows arrive already encoded as the
 * JSON texts of their cell arrays (`["1","abc",null]`), so a chunk body is those texts joined by commas.
 */

/** Produced but not yet fetched chunk bodies kept at most; older ones are read again when asked for. */
const MAX_HELD = 8;
/** Requests up to this many chunks past the cursor are produced in order (the Node driver's prefetch). */
const AHEAD = 4;

/** Rows of a result by chunk: the sequential stream, and (when the result is spooled) direct reads. */
export interface ChunkSource {
  /** The next rows of the sequential stream as JSON row texts, or null at its end. */
  next(): Promise<string[] | null>;
  /** The rows of chunk `index` as JSON row texts, read directly; absent when the result cannot be read out of order. */
  read?(index: number): Promise<string[]>;
  /** Releases the stream, its connection and the spool file. */
  release(): Promise<void>;
}

/** Produces chunk bodies (JSON rows without the outer brackets) on demand, in any order. */
export class ChunkProducer {
  private readonly bodies = new Map<number, string>();
  private readonly served = new Set<number>();
  private nextToProduce = 0;
  private pendingRows: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  lastAccess = Date.now();

  constructor(
    readonly sizes: number[],
    private readonly source: ChunkSource,
  ) {}

  get chunkCount(): number {
    return this.sizes.length;
  }

  /**
   * The body of chunk `index`. Throws when the producer is closed (every chunk served, or the result
   * dropped), or when a result that cannot be read out of order no longer holds that chunk.
   */
  async body(index: number): Promise<string> {
    this.lastAccess = Date.now();
    if (this.closed) throw new Error('result closed');
    let body = this.bodies.get(index);
    const inOrder = index >= this.nextToProduce && (!this.source.read || index < this.nextToProduce + AHEAD);
    if (body === undefined && inOrder) {
      const run = this.chain.then(() => this.produceUpTo(index));
      this.chain = run.catch(() => undefined);
      await run;
      body = this.bodies.get(index);
    }
    if (body === undefined) {
      if (!this.source.read) throw new Error(`chunk ${index} is no longer available`);
      body = (await this.source.read(index)).join(',');
    }
    this.bodies.delete(index);
    this.served.add(index);
    if (this.served.size === this.sizes.length) await this.close();
    return body;
  }

  private async produceUpTo(index: number): Promise<void> {
    while (this.nextToProduce <= index && this.nextToProduce < this.sizes.length) {
      if (this.closed) throw new Error('result closed');
      const want = this.sizes[this.nextToProduce];
      while (this.pendingRows.length < want) {
        const rows = await this.source.next();
        if (!rows) break;
        for (const r of rows) this.pendingRows.push(r);
      }
      this.bodies.set(this.nextToProduce, this.pendingRows.splice(0, want).join(','));
      this.nextToProduce++;
      if (this.source.read && this.bodies.size > MAX_HELD) this.bodies.delete(Math.min(...this.bodies.keys()));
    }
  }

  /** Releases the DuckDB stream, its connection and spool file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pendingRows = [];
    this.bodies.clear();
    await this.source.release();
  }
}
