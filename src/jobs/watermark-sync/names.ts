/**
 * Names in the watermark sync's config, parsed as each dialect parses identifiers: PostgreSQL folds
 * unquoted names to lower case, Snowflake to upper case; double-quoted parts keep their case.
 */
import { floeError, NonRetryable } from '../../errors.js';

/** Thrown for a name the config gives that cannot be parsed. */
const invalid = (message: string): Error => floeError(NonRetryable.InvalidRequest, message);

/**
 * Split a dotted name into identifier parts. Double-quoted parts keep their case (`""` escapes a
 * quote); unquoted parts fold as the dialect folds them: `lower` for PostgreSQL, `upper` for Snowflake.
 * @throws InvalidRequest for an empty part or an unterminated quote.
 */
export function parseDottedName(text: string, fold: 'lower' | 'upper'): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw invalid(`unterminated quote in name ${JSON.stringify(text)}`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
      part = part.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part))
        throw invalid(`invalid name part ${JSON.stringify(part)} in ${JSON.stringify(text)} (quote it with "")`);
      part = fold === 'lower' ? part.toLowerCase() : part.toUpperCase();
    }
    if (part === '') throw invalid(`empty name part in ${JSON.stringify(text)}`);
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') throw invalid(`unexpected ${JSON.stringify(s[i])} in name ${JSON.stringify(text)}`);
    i++;
  }
  return parts;
}

/** `[schema, table]` of a configured source (`table` alone means schema `public`). */
export function sourceParts(source: string): [string, string] {
  const p = parseDottedName(source, 'lower');
  if (p.length === 1) return ['public', p[0]];
  if (p.length === 2) return [p[0], p[1]];
  throw invalid(`source ${JSON.stringify(source)} must be schema.table`);
}

/** A single column name from the config, folded like PostgreSQL (unquoted → lower case). */
export function sourceColumn(name: string): string {
  const p = parseDottedName(name, 'lower');
  if (p.length !== 1) throw invalid(`column ${JSON.stringify(name)} must be a single name`);
  return p[0];
}

/** `[database, schema, table]` of a configured target; two parts take `defaultDatabase`. */
export function targetParts(target: string, defaultDatabase: string | undefined): [string, string, string] {
  const p = parseDottedName(target, 'upper');
  if (p.length === 3) return [p[0], p[1], p[2]];
  if (p.length === 2) {
    if (!defaultDatabase)
      throw invalid(`target ${JSON.stringify(target)} has no database and SNOWFLAKE_DATABASE is not set`);
    return [defaultDatabase, p[0], p[1]];
  }
  throw invalid(`target ${JSON.stringify(target)} must be schema.table or database.schema.table`);
}

/** Snowflake name for a discovered source column: upper case when it is a plain lower-case name (Snowflake's unquoted form). */
export function defaultTargetColumn(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
}
