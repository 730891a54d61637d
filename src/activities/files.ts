/**
 * Local staging files for loads into Snowflake (PUT + COPY INTO): the CSV dialect floe writes and
 * Snowflake's CSV file format reads back — every field quoted with `"` doubled, SQL NULL as an unquoted
 * `\N` (Snowflake: FIELD_OPTIONALLY_ENCLOSED_BY='"', NULL_IF=('\\N')).
 */
import fs from 'node:fs';
import { once } from 'node:events';

/** One CSV field: quoted with `"` doubled; NULL as an unquoted `\N`. */
export function csvField(v: string | null): string {
  return v === null ? '\\N' : `"${v.replaceAll('"', '""')}"`;
}

/** A CSV file being written in the dialect above ({@link openCsvWriter}). */
export interface CsvWriter {
  /** Append `rows` (text cells, null = SQL NULL); resolves once they are buffered or handed to the file. */
  write(rows: Iterable<(string | null)[]>): Promise<void>;
  /** Flush and close the file; rejects on I/O errors. */
  end(): Promise<void>;
  /** Close the file without waiting (after a failure elsewhere; the caller removes it). Never throws. */
  abort(): void;
}

/**
 * Open `file` (created or truncated) for CSV rows without a header, written in ~1 MiB writes so memory
 * stays bounded by one buffer whatever the number of rows. I/O errors reject the next `write` or `end`.
 */
export function openCsvWriter(file: string): CsvWriter {
  const out = fs.createWriteStream(file);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  let buf = '';
  return {
    async write(rows) {
      for (const r of rows) {
        buf += r.map(csvField).join(',') + '\n';
        if (buf.length > 1 << 20) {
          if (!out.write(buf)) await Promise.race([once(out, 'drain'), failed]);
          buf = '';
        }
      }
    },
    async end() {
      out.end(buf);
      buf = '';
      await Promise.race([once(out, 'finish'), failed]);
    },
    abort() {
      buf = '';
      out.destroy();
    },
  };
}

/**
 * Write `rows` (text cells, null = SQL NULL) to `file` as CSV without a header ({@link openCsvWriter}).
 * Resolves when the file is flushed; rejects on I/O errors.
 */
export async function writeCsvFile(file: string, rows: Iterable<(string | null)[]>): Promise<void> {
  const w = openCsvWriter(file);
  try {
    await w.write(rows);
    await w.end();
  } catch (e) {
    w.abort();
    throw e;
  }
}
