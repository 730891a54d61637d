/**
 * Parsers of command-line values shared by the command groups: table names (in actions: {@link CliError},
 * exit 2) and option values (commander argument parsers: `InvalidArgumentError`, which commander reports
 * naming the option; exit 2 too).
 */
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from './errors.js';

/** A table as the API's bodies name it; `database_name` left out means the server's SNOWFLAKE_DATABASE. */
export interface TableRef {
  database_name?: string;
  schema_name: string;
  table_name: string;
}

/** Parse `DATABASE.SCHEMA.TABLE` or `SCHEMA.TABLE`. */
export function parseTableName(name: string): TableRef {
  const parts = name.split('.');
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p.trim() === ''))
    throw new CliError(`'${name}' must be DATABASE.SCHEMA.TABLE or SCHEMA.TABLE`, EXIT.usage);
  const [table, schema, database] = parts.reverse() as [string, string, string | undefined];
  return database === undefined
    ? { schema_name: schema, table_name: table }
    : { database_name: database, schema_name: schema, table_name: table };
}

/** Parse `DATABASE.SCHEMA` or `SCHEMA`. */
export function parseSchemaName(name: string): { database?: string; schema: string } {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((p) => p.trim() === ''))
    throw new CliError(`'${name}' must be DATABASE.SCHEMA or SCHEMA`, EXIT.usage);
  return parts.length === 2 ? { database: parts[0], schema: parts[1]! } : { schema: parts[0]! };
}

/** Split a comma-separated value (`--primary-key A,B`) into names. */
export function listOption(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A whole number ≥ 0 (`--limit`, `--lag-seconds`, `--ttl`). */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError('must be a whole number ≥ 0.');
  return n;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** An interval in seconds: whole seconds (`900`) or a number with a unit s, m, h or d (`15m`, `1h`). */
export function intervalOption(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be seconds, or a number with s, m, h or d (900, 15m, 1h, 1d).');
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
}
