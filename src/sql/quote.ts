/**
 * Identifier and literal quoting, one function per dialect (Snowflake, DuckDB, PostgreSQL).
 *
 * Every name floe puts into SQL passes through here: names are always double-quoted (so case and
 * special characters survive exactly as the source catalog stores them) with embedded `"` doubled,
 * and string literals are single-quoted with embedded `'` doubled. No SQL text is built by pasting
 * user input (docs/style: "one function quotes identifiers per dialect").
 *
 * Sources: Snowflake "Identifier requirements" (double-quoted identifiers are case-sensitive, `""`
 * escapes a quote); DuckDB and PostgreSQL follow the SQL standard the same way. Snowflake string
 * literals additionally treat `\` as an escape character, so it is doubled there.
 */

/** Thrown for names that cannot be quoted safely (empty, or containing NUL). */
export class InvalidIdentifierError extends Error {
  constructor(name: string) {
    super(`invalid SQL identifier ${JSON.stringify(name)}`);
    this.name = 'InvalidIdentifierError';
  }
}

function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\u0000'))
    throw new InvalidIdentifierError(String(name));
  return `"${name.replaceAll('"', '""')}"`;
}

/** Snowflake: `"name"` (case-sensitive, as stored). Throws {@link InvalidIdentifierError}. */
export function quoteSnowflakeIdent(name: string): string {
  return quoteIdent(name);
}

/**
 * The name Snowflake stores for an identifier a user wrote, by Snowflake's identifier rules:
 * - `"data"` (double-quoted, `""` escaping a quote) is exact and case-sensitive → `data`;
 * - an unquoted identifier (a letter or `_`, then letters, digits, `_` or `$`) folds to upper case:
 *   `orders` → `ORDERS`, so it never finds an object created as `"orders"`;
 * - anything else (`my table`, `Año`) cannot be an unquoted identifier, so it can only name an object
 *   created with quotes: it is taken exactly as given (an API field has no other reading of it).
 * Throws {@link InvalidIdentifierError} for an empty name or `""`.
 */
export function snowflakeStoredName(written: string): string {
  const quoted = /^"((?:[^"]|"")+)"$/.exec(written);
  if (quoted) return quoted[1].replaceAll('""', '"');
  if (written.length === 0 || written === '""') throw new InvalidIdentifierError(written);
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(written) ? written.toUpperCase() : written;
}

/** Snowflake qualified name from parts, e.g. `["DB","S","T"]` → `"DB"."S"."T"`. */
export function quoteSnowflakeName(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}

/** Snowflake string literal: `'...'` with `'` and `\` escaped (Snowflake treats `\` as an escape). */
export function snowflakeLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** DuckDB: `"name"`. Throws {@link InvalidIdentifierError}. */
export function quoteDuckDbIdent(name: string): string {
  return quoteIdent(name);
}

/** DuckDB qualified name from parts, e.g. `["TPCH_SF1","LINEITEM"]` → `"TPCH_SF1"."LINEITEM"`. */
export function quoteDuckDbName(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}

/** DuckDB string literal (file paths, JSON text): `'...'` with `'` doubled. */
export function duckDbLiteral(value: string): string {
  if (value.includes('\u0000')) throw new InvalidIdentifierError(value);
  return `'${value.replaceAll("'", "''")}'`;
}

/** PostgreSQL: `"name"`. Prefer bind parameters (`$1`) for values. Throws {@link InvalidIdentifierError}. */
export function quotePgIdent(name: string): string {
  return quoteIdent(name);
}

/** PostgreSQL qualified name from parts, e.g. `["public","t"]` → `"public"."t"`. */
export function quotePgName(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}

/**
 * A Snowflake stage location with a sub-path: `@"DB"."S"."FLOE_STAGE"/job-1/`. The path segments are
 * restricted to `[A-Za-z0-9._-]` (floe generates them from job ids) so the unquoted path part cannot
 * carry SQL. Throws {@link InvalidIdentifierError} for any other character.
 */
export function snowflakeStagePath(stage: readonly string[], ...segments: string[]): string {
  for (const s of segments) if (!/^[A-Za-z0-9._-]+$/.test(s)) throw new InvalidIdentifierError(s);
  const base = `@${quoteSnowflakeName(...stage)}`;
  return segments.length ? `${base}/${segments.join('/')}/` : base;
}
