/**
 * COPY INTO for internal stages, executed by DuckDB's own readers and writers:
 *
 * - Unload, `COPY INTO @stage[/path] FROM <table> | (<query>) ...` (Snowflake doc: COPY INTO <location>):
 *   the translated query runs in one DuckDB `COPY ... TO` that rotates files at MAX_FILE_SIZE; the
 *   files are then renamed the way Snowflake names them (`<prefix>_0_0_<n>.snappy.parquet`,
 *   `data_0_0_<n>.csv.gz`).
 * - Load, `COPY INTO <table> FROM @stage[/path] ...` (Snowflake doc: COPY INTO <table>): the files are
 *   read with `read_csv`/`read_parquet`, cast to the table's column types into a temporary table
 *   (so a bad value aborts before the target changes), then inserted in one statement. Load history
 *   (stage-history.ts) skips files already loaded with the same MD5 unless FORCE = TRUE.
 */
import type { StatementContext, StatementOutcome } from './contract.js';
import { load } from './copy-load.js';
import { unload } from './copy-unload.js';
import { SfErrors } from './errors.js';
import type { TokenStream } from './stage-lexer.js';

/** Dispatch `COPY INTO ...` (the stream is positioned on COPY). */
export async function executeCopy(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('COPY', 'INTO');
  const target = ts.peek();
  if (target?.kind === 'stage') return unload(ts, ctx);
  if (target?.kind === 'string') throw SfErrors.unsupported('COPY INTO an external location');
  return load(ts, ctx);
}
