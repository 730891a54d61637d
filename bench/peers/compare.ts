/**
 * Cell-by-cell comparison of a peer's DuckDB table with floe's target of the same source table, in DuckDB:
 * both files attached read-only, the peer's columns (matched to floe's by name: DuckDB matches identifiers
 * case-insensitively, so Sling's and dlt's lower-case names find floe's upper-case ones) cast to floe's column
 * types with TRY_CAST, so numbers compare as values (`BIGINT 1` = `DECIMAL(38,0) 1`) and a value that does not
 * convert becomes NULL and so differs; then `EXCEPT ALL` both ways counts the rows each side has that the other
 * has not (duplicates counted). Columns a peer adds of its own (dlt's `_dlt_load_id`, `_dlt_id`) are ignored.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbInstanceOptions } from '../../src/infra/paths.js';
import { duckDbLiteral, quoteDuckDbName } from '../../src/sql/quote.js';

/** A table inside a DuckDB file. */
export interface FileTable {
  file: string;
  schema: string;
  table: string;
}

/** What the comparison found. */
export interface Comparison {
  /** Rows of the peer's table. */
  rows: number;
  /** Rows of floe's table missing from the peer's (as whole rows, cell by cell). */
  onlyInFloe: number;
  /** Rows of the peer's table missing from floe's. */
  onlyInPeer: number;
}

/** True when the two tables hold the same rows, cell by cell. */
export const matches = (c: Comparison): boolean => c.onlyInFloe === 0 && c.onlyInPeer === 0;

/** Compares each of `peers` with `floe` (see the module comment). Throws when a table or a column is missing. */
export async function compareWithFloe(floe: FileTable, peers: FileTable[]): Promise<Comparison[]> {
  const inst = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const conn = await inst.connect();
  try {
    const attach = async (file: string, alias: string) =>
      conn.run(`ATTACH ${duckDbLiteral(file)} AS ${quoteDuckDbName(alias)} (READ_ONLY)`);
    await attach(floe.file, 'floe');
    const cols = (
      await conn.runAndReadAll(
        `SELECT column_name, data_type FROM duckdb_columns()
          WHERE database_name = 'floe' AND schema_name = ${duckDbLiteral(floe.schema)} AND table_name = ${duckDbLiteral(floe.table)}
          ORDER BY column_index`,
      )
    ).getRows() as [string, string][];
    if (cols.length === 0) throw new Error(`floe's table ${floe.schema}.${floe.table} is not in ${floe.file}`);
    const floeRel = quoteDuckDbName('floe', floe.schema, floe.table);
    const floeSelect = `SELECT ${cols.map(([c]) => quoteDuckDbName(c)).join(', ')} FROM ${floeRel}`;
    const out: Comparison[] = [];
    for (const [k, peer] of peers.entries()) {
      const alias = `peer${k}`;
      await attach(peer.file, alias);
      const peerRel = quoteDuckDbName(alias, peer.schema, peer.table);
      const peerSelect = `SELECT ${cols.map(([c, t]) => `TRY_CAST(${quoteDuckDbName(c)} AS ${t}) AS ${quoteDuckDbName(c)}`).join(', ')} FROM ${peerRel}`;
      const [row] = (
        await conn.runAndReadAll(
          `SELECT (SELECT count(*) FROM ${peerRel}),
                  (SELECT count(*) FROM (${floeSelect} EXCEPT ALL ${peerSelect})),
                  (SELECT count(*) FROM (${peerSelect} EXCEPT ALL ${floeSelect}))`,
        )
      ).getRows() as [bigint, bigint, bigint][];
      out.push({ rows: Number(row[0]), onlyInFloe: Number(row[1]), onlyInPeer: Number(row[2]) });
      await conn.run(`DETACH ${quoteDuckDbName(alias)}`);
    }
    return out;
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}
