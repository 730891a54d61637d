/**
 * Snowflake metadata over the emulator's storage: SHOW DATABASES/SCHEMAS/TABLES, DESC TABLE and
 * the INFORMATION_SCHEMA views TABLES, COLUMNS and SCHEMATA.
 *
 * ROW_COUNT / `rows` are exact (count(*) in the asking session's transaction). BYTES / `bytes` is
 * an estimate: rows × the column widths DuckDB stores (8 bytes per fixed-width value, 16 per
 * DECIMAL(38), string/blob/JSON values counted at 16), 0 for an empty table — Snowflake reports
 * compressed micro-partition bytes, which no emulator can reproduce.
 * CREATED / LAST_ALTERED come from the sidecar catalog (catalog.ts), TIMESTAMP_LTZ. COLUMNS has the identity
 * fields and DATA_TYPE_ALIAS (the declared type with its parameters) that SQLAlchemy's Snowflake dialect reads.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Catalog } from '../catalog.js';
import { HIDDEN_SCHEMAS } from '../catalog.js';
import { snowflakeTypeOfDuckdb, typeFacts } from './types.js';
import { fromDuckdbName, identValue, isWord, nameLiteral, quoteIdent, quoteString, type Token } from './tokenizer.js';

/** One table or view as the metadata statements see it. */
export interface TableInfo {
  database: string;
  schema: string;
  name: string;
  kind: 'TABLE' | 'VIEW' | 'TEMPORARY';
  rows: number;
  bytes: number;
  created: string;
  lastAltered: string;
}

export interface ColumnInfo {
  database: string;
  schema: string;
  table: string;
  name: string;
  ordinal: number;
  /** Canonical Snowflake type, e.g. NUMBER(38,0). */
  sfType: string;
  nullable: boolean;
  default: string | null;
}

function width(duckType: string): number {
  const u = duckType.toUpperCase();
  if (u === 'BOOLEAN') return 1;
  if (/^DECIMAL\((\d+)/.test(u)) return Number(/^DECIMAL\((\d+)/.exec(u)![1]) > 18 ? 16 : 8;
  if (/^(DOUBLE|BIGINT|DATE|TIME|TIMESTAMP)/.test(u)) return 8;
  return 16;
}

/** Columns of the tables of `database` (optionally one schema/table), in ordinal order. */
export async function listColumns(
  conn: DuckDBConnection,
  catalog: Catalog,
  database: string,
  schema?: string,
  table?: string,
): Promise<(ColumnInfo & { duckType: string })[]> {
  const filters = [`database_name = ${nameLiteral(database)}`];
  if (schema) filters.push(`schema_name = ${nameLiteral(schema)}`);
  if (table) filters.push(`table_name = ${nameLiteral(table)}`);
  // One table: pragma_table_info looks it up by name (the same fields as duckdb_columns(), which
  // enumerates every column of every table: its cost grows with the catalog).
  const one =
    schema && table
      ? await conn
          .runAndReadAll(
            `SELECT ${nameLiteral(schema)}, ${nameLiteral(table)}, name, cid + 1, NOT "notnull", type, dflt_value
               FROM pragma_table_info(${quoteString(`${quoteIdent(database)}.${quoteIdent(schema)}.${quoteIdent(table)}`)})`,
          )
          .catch(() => null)
      : null;
  const r =
    one ??
    (await conn.runAndReadAll(
      `SELECT schema_name, table_name, column_name, column_index, is_nullable, data_type, column_default
       FROM duckdb_columns() WHERE ${filters.join(' AND ')} AND NOT internal ORDER BY schema_name, table_name, column_index`,
    ));
  return r
    .getRowsJS()
    .filter((row) => !HIDDEN_SCHEMAS.has(String(row[0])))
    .map((row) => {
      const [duckSchema, duckTable, duckColumn, idx, nullable, dataType, def] = row as [
        string,
        string,
        string,
        number,
        boolean,
        string,
        string | null,
      ];
      const [s, t, c] = [duckSchema, duckTable, duckColumn].map(fromDuckdbName);
      const declared = catalog.tableMeta(database, s, t)?.columns[c];
      return {
        database,
        schema: s,
        table: t,
        name: c,
        ordinal: Number(idx),
        nullable,
        default: def,
        sfType: declared ?? snowflakeTypeOfDuckdb(dataType),
        duckType: dataType,
      };
    });
}

/** Tables counted per statement by {@link rowCounts} (one UNION ALL branch each). */
const COUNTS_PER_STATEMENT = 500;

/**
 * Exact row counts of `tables` (schema, table; Snowflake spelling) of `database`, in the asking session's
 * transaction: one `count(*)` branch per table in UNION ALL statements of {@link COUNTS_PER_STATEMENT}
 * tables, so listing a database costs a statement per 500 tables rather than one per table.
 */
async function rowCounts(conn: DuckDBConnection, database: string, tables: [string, string][]): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < tables.length; i += COUNTS_PER_STATEMENT) {
    const part = tables.slice(i, i + COUNTS_PER_STATEMENT);
    const r = await conn.runAndReadAll(
      part
        .map(
          ([s, t], k) =>
            `SELECT ${k} AS k, count(*) AS n FROM ${quoteIdent(database)}.${quoteIdent(s)}.${quoteIdent(t)}`,
        )
        .join('\nUNION ALL '),
    );
    for (const [k, n] of r.getRowsJS() as [number, bigint][]) counts[i + Number(k)] = Number(n);
  }
  return counts;
}

/** A table or view without its size (rows, bytes). */
export type RelationInfo = Omit<TableInfo, 'rows' | 'bytes'>;

/** Tables and views of `database` (optionally one schema), ordered by schema and name; no table is counted. */
export async function listRelations(
  conn: DuckDBConnection,
  catalog: Catalog,
  database: string,
  schema?: string,
): Promise<RelationInfo[]> {
  const filter = `database_name = ${nameLiteral(database)}${schema ? ` AND schema_name = ${nameLiteral(schema)}` : ''}`;
  const r = await conn.runAndReadAll(
    `SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE ${filter} AND NOT internal
     UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() WHERE ${filter} AND NOT internal
     ORDER BY 1, 2`,
  );
  const fallback = catalog.databaseCreated(database);
  return (r.getRowsJS() as [string, string, 'TABLE' | 'VIEW'][])
    .filter(([duckSchema]) => !HIDDEN_SCHEMAS.has(duckSchema))
    .map(([duckSchema, duckTable, kind]) => {
      const [s, t] = [duckSchema, duckTable].map(fromDuckdbName);
      const meta = catalog.tableMeta(database, s, t);
      return {
        database,
        schema: s,
        name: t,
        kind: meta?.kind === 'TEMPORARY' ? 'TEMPORARY' : kind,
        created: meta?.created ?? fallback,
        lastAltered: meta?.lastAltered ?? meta?.created ?? fallback,
      };
    });
}

/** Tables and views of `database` (optionally one schema), with exact row counts. */
export async function listTables(
  conn: DuckDBConnection,
  catalog: Catalog,
  database: string,
  schema?: string,
): Promise<TableInfo[]> {
  const listed = await listRelations(conn, catalog, database, schema);
  const tables = listed.filter((x) => x.kind !== 'VIEW');
  const counts = await rowCounts(
    conn,
    database,
    tables.map((x) => [x.schema, x.name]),
  );
  const rowsOf = new Map(tables.map((x, i) => [`${x.schema}\u0000${x.name}`, counts[i] ?? 0]));
  // Row width per table, from one listing of the database's columns.
  const widths = new Map<string, number>();
  if (tables.length)
    for (const c of await listColumns(conn, catalog, database, schema)) {
      const key = `${c.schema}\u0000${c.table}`;
      widths.set(key, (widths.get(key) ?? 0) + width(c.duckType));
    }
  return listed.map((x) => {
    const key = `${x.schema}\u0000${x.name}`;
    const rows = rowsOf.get(key) ?? 0;
    return { ...x, rows, bytes: rows * (widths.get(key) ?? 0) };
  });
}

/** Columns of INFORMATION_SCHEMA.TABLES that count every table of the database. */
const SIZE_COLUMNS = new Set(['ROW_COUNT', 'BYTES']);

/**
 * Whether a statement (its significant tokens) may read INFORMATION_SCHEMA.TABLES' ROW_COUNT or BYTES, which
 * cost a count of every table of the database: it names one of them (in any case: DuckDB resolves names
 * case-insensitively), or it reads columns without naming them (`*`, a positional `$n`, NATURAL JOIN).
 * Conservative: any `*`, a multiplication or COUNT(*) included, counts as one.
 */
export function readsTableSizes(sig: Token[]): boolean {
  return sig.some(
    (t) =>
      t.text === '*' ||
      isWord(t, 'NATURAL') ||
      (t.kind !== 'string' && t.text.startsWith('$')) ||
      ((t.kind === 'word' || t.kind === 'qident') && SIZE_COLUMNS.has(identValue(t).toUpperCase())),
  );
}

/** Schemas of `database` as Snowflake shows them (INFORMATION_SCHEMA included). */
export async function listSchemas(conn: DuckDBConnection, database: string): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `SELECT schema_name FROM duckdb_schemas() WHERE database_name = ${nameLiteral(database)} ORDER BY 1`,
  );
  const names = (r.getRowsJS() as [string][])
    .map((x) => x[0])
    .filter((s) => !HIDDEN_SCHEMAS.has(s))
    .map(fromDuckdbName);
  return [...names, 'INFORMATION_SCHEMA'].sort();
}

/**
 * A subquery of typed columns holding `rows`: the rows as one JSON text that DuckDB's `from_json` reads with
 * the columns' types (DuckDB documentation, "JSON Processing Functions": a JSON structure argument gives the
 * result's type), unnested into columns in their order. DuckDB binds one literal whatever the number of rows,
 * where a VALUES list of typed literals cost about 0.1 ms of binding per row of 15 columns (~150 ms at 500
 * tables). Numbers travel as JSON strings, so a DECIMAL(38,0) keeps every digit.
 */
function rowsQuery(columns: [string, string][], rows: (string | number | null)[][]): string {
  const json = JSON.stringify(
    rows.map((r) => Object.fromEntries(columns.map(([n], k) => [n, typeof r[k] === 'number' ? String(r[k]) : r[k]]))),
  );
  const structure = JSON.stringify([Object.fromEntries(columns)]);
  return `SELECT unnest(from_json(${quoteString(json)}, ${quoteString(structure)}), recursive := true)`;
}

/**
 * The DuckDB subquery standing for `<database>.INFORMATION_SCHEMA.<view>`, or undefined for a view
 * the emulator does not provide (the caller reports 002003). `sizes: false` (a statement that cannot read
 * them, {@link readsTableSizes}) leaves TABLES' ROW_COUNT and BYTES NULL rather than counting every table.
 */
export async function infoSchemaQuery(
  conn: DuckDBConnection,
  catalog: Catalog,
  database: string,
  view: string,
  sizes = true,
): Promise<string | undefined> {
  const N = 'DECIMAL(38,0)';
  const V = 'VARCHAR';
  const TS = 'TIMESTAMPTZ';
  switch (view) {
    case 'TABLES': {
      const tables: (RelationInfo & { rows: number | null; bytes: number | null })[] = sizes
        ? await listTables(conn, catalog, database)
        : (await listRelations(conn, catalog, database)).map((t) => ({ ...t, rows: null, bytes: null }));
      return rowsQuery(
        [
          ['TABLE_CATALOG', V],
          ['TABLE_SCHEMA', V],
          ['TABLE_NAME', V],
          ['TABLE_OWNER', V],
          ['TABLE_TYPE', V],
          ['IS_TRANSIENT', V],
          ['CLUSTERING_KEY', V],
          ['ROW_COUNT', N],
          ['BYTES', N],
          ['RETENTION_TIME', N],
          ['CREATED', TS],
          ['LAST_ALTERED', TS],
          ['LAST_DDL', TS],
          ['AUTO_CLUSTERING_ON', V],
          ['COMMENT', V],
        ],
        tables.map((t) => [
          t.database,
          t.schema,
          t.name,
          'ACCOUNTADMIN',
          t.kind === 'VIEW' ? 'VIEW' : t.kind === 'TEMPORARY' ? 'TEMPORARY TABLE' : 'BASE TABLE',
          t.kind === 'VIEW' ? null : 'NO',
          null,
          t.kind === 'VIEW' ? null : t.rows,
          t.kind === 'VIEW' ? null : t.bytes,
          t.kind === 'VIEW' ? null : 1,
          t.created,
          t.lastAltered,
          t.lastAltered,
          t.kind === 'VIEW' ? null : 'NO',
          null,
        ]),
      );
    }
    case 'COLUMNS': {
      const cols = await listColumns(conn, catalog, database);
      return rowsQuery(
        [
          ['TABLE_CATALOG', V],
          ['TABLE_SCHEMA', V],
          ['TABLE_NAME', V],
          ['COLUMN_NAME', V],
          ['ORDINAL_POSITION', N],
          ['COLUMN_DEFAULT', V],
          ['IS_NULLABLE', V],
          ['DATA_TYPE', V],
          ['CHARACTER_MAXIMUM_LENGTH', N],
          ['CHARACTER_OCTET_LENGTH', N],
          ['NUMERIC_PRECISION', N],
          ['NUMERIC_PRECISION_RADIX', N],
          ['NUMERIC_SCALE', N],
          ['DATETIME_PRECISION', N],
          ['IS_IDENTITY', V],
          ['IDENTITY_GENERATION', V],
          ['IDENTITY_START', V],
          ['IDENTITY_INCREMENT', V],
          ['IDENTITY_MAXIMUM', V],
          ['IDENTITY_MINIMUM', V],
          ['IDENTITY_CYCLE', V],
          ['IDENTITY_ORDERED', V],
          ['COMMENT', V],
          ['DATA_TYPE_ALIAS', V],
        ],
        cols.map((c) => {
          const f = typeFacts(c.sfType);
          return [
            c.database,
            c.schema,
            c.table,
            c.name,
            c.ordinal,
            c.default,
            c.nullable ? 'YES' : 'NO',
            f.dataType,
            f.charLength,
            f.byteLength,
            f.precision,
            f.precision === null ? null : 10,
            f.scale,
            f.datetimePrecision,
            'NO',
            // No identity columns: the IDENTITY_* fields are NULL, as Snowflake gives them for other columns.
            ...Array<null>(7).fill(null),
            null,
            c.sfType,
          ];
        }),
      );
    }
    case 'SCHEMATA': {
      const schemas = await listSchemas(conn, database);
      const created = catalog.databaseCreated(database);
      return rowsQuery(
        [
          ['CATALOG_NAME', V],
          ['SCHEMA_NAME', V],
          ['SCHEMA_OWNER', V],
          ['IS_TRANSIENT', V],
          ['IS_MANAGED_ACCESS', V],
          ['RETENTION_TIME', N],
          ['CREATED', TS],
          ['LAST_ALTERED', TS],
          ['COMMENT', V],
        ],
        schemas.map((s) => [database, s, 'ACCOUNTADMIN', 'NO', 'NO', 1, created, created, null]),
      );
    }
    default:
      return undefined;
  }
}
