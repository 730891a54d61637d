/**
 * Terminal output of the CLI: aligned tables, CSV (RFC 4180), JSON for scripts (`--json`), key/value
 * blocks, and number/duration formatting. Everything returns strings; the caller writes them.
 */

/** A cell as text: null/undefined empty, objects as JSON, everything else `String()`. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Longest cell shown in a terminal table; longer ones end with `…` (CSV and JSON keep everything). */
const MAX_CELL = 60;

/**
 * An aligned text table with a header row; `columns` defaults to the keys of the first row. Numbers are
 * right-aligned, newlines in cells shown as `⏎`.
 */
export function renderTable(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  if (cols.length === 0) return '(no columns)';
  const cells = rows.map((r) =>
    cols.map((c) => {
      const t = cellText(r[c]).replace(/\r?\n/g, '⏎');
      return t.length > MAX_CELL ? `${t.slice(0, MAX_CELL - 1)}…` : t;
    }),
  );
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

/** One CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180), quotes doubled. */
function csvField(v: unknown): string {
  const t = cellText(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** Rows as CSV with a header line (CRLF line ends, as RFC 4180 writes them). */
export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  return [cols.map(csvField).join(','), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(','))]
    .map((l) => `${l}\r\n`)
    .join('');
}

/** Pretty JSON (2-space indent). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `key: value` lines for the given keys (values as {@link cellText}; missing ones left out). */
export function renderFields(obj: Record<string, unknown>, keys: string[]): string {
  const present = keys.filter((k) => obj[k] !== undefined && obj[k] !== null);
  const w = Math.max(0, ...present.map((k) => k.length));
  return present.map((k) => `${`${k}:`.padEnd(w + 2)}${cellText(obj[k])}`).join('\n');
}

/** An integer with thousands separators (`1,234,567`). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds as `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Bytes in binary units (`12.3 MiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
