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

/**
 * Write `rows` (text cells, null = SQL NULL) to `file` as CSV without a header, streaming in ~1 MiB
 * writes so memory stays bounded by one buffer. Resolves when the file is flushed; rejects on I/O errors.
 */
export async function writeCsvFile(file: string, rows: Iterable<(string | null)[]>): Promise<void> {
  const out = fs.createWriteStream(file);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  let buf = '';
  for (const r of rows) {
    buf += r.map(csvField).join(',') + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await Promise.race([once(out, 'drain'), failed]);
      buf = '';
    }
  }
  out.end(buf);
  await Promise.race([once(out, 'finish'), failed]);
}
