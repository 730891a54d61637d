/**
 * The columns of the tables a statement names, looked up once per statement (any database, from the
 * catalog's relation index). They tell the translator which columns are TIMESTAMP_TZ (compared by instant,
 * translate.ts) and give result columns what DuckDB's types do not say: OBJECT and ARRAY (stored as
 * JSON), a declared VARCHAR length, NOT NULL. A result column is matched to a table column by name,
 * and only when the tables named agree on that name's facts: an alias under another name is not
 * recognised, and a column of the same name in two tables with different types is left as DuckDB says.
 */
import type { Catalog } from './catalog.js';
import type { RowTypeColumn } from './contract.js';
import { TSTZ_TYPEOF } from './sql/macros.js';
import { identValue, tokenize } from './sql/tokenizer.js';
import type { ColumnKind } from './sql/translate.js';
import { MAX_VARCHAR } from './sql/types.js';

/** One column of a table a statement names. */
export interface NamedColumn {
  name: string;
  duckType: string;
  nullable: boolean;
  /** The Snowflake type the table declared, when DuckDB's type does not say it (catalog.ts). */
  declared?: string;
}

/**
 * The columns of every table or view whose name appears in `sqlText`, from the catalog's relation
 * index (relations.ts: no catalog scan per statement).
 */
export async function namedTableColumns(catalog: Catalog, sqlText: string): Promise<NamedColumn[]> {
  const names = new Set<string>();
  for (const t of tokenize(sqlText)) if (t.kind === 'word' || t.kind === 'qident') names.add(identValue(t));
  if (names.size === 0) return [];
  const out: NamedColumn[] = [];
  for (const r of await catalog.relations.named(names))
    for (const c of r.columns)
      out.push({ ...c, declared: catalog.tableMeta(r.database, r.schema, r.table)?.columns[c.name] });
  return out;
}

/** Names of the TIMESTAMP_TZ columns among `columns`. */
export function tzColumnNames(columns: NamedColumn[]): Set<string> {
  return new Set(columns.filter((c) => c.duckType === TSTZ_TYPEOF).map((c) => c.name));
}

/** DuckDB types of Snowflake's NUMBER and FLOAT columns. */
const NUMBER_TYPE = /^(DECIMAL\(\d+,\d+\)|DOUBLE|FLOAT|REAL|(TINY|SMALL|BIG|HUGE|U?)INT(EGER)?)$/;

/**
 * The text (VARCHAR) and number columns among `columns`, by name, for the translator's conversions of
 * text next to numbers; a name that is of another kind in another table named is left out.
 */
export function columnKinds(columns: NamedColumn[]): Map<string, ColumnKind> {
  const kinds = new Map<string, ColumnKind>();
  const mixed = new Set<string>();
  for (const c of columns) {
    const kind = c.duckType === 'VARCHAR' ? 'text' : NUMBER_TYPE.test(c.duckType) ? 'number' : null;
    if (kind === null || (kinds.has(c.name) && kinds.get(c.name) !== kind)) mixed.add(c.name);
    else kinds.set(c.name, kind);
  }
  for (const name of mixed) kinds.delete(name);
  return kinds;
}

/** Result columns with the facts the named tables declare (see the module comment). */
export function refineRowType(columns: RowTypeColumn[], named: NamedColumn[]): RowTypeColumn[] {
  return columns.map((c) => {
    const same = named.filter((n) => n.name === c.name);
    const facts = same[0];
    if (!facts || same.some((n) => n.declared !== facts.declared || n.nullable !== facts.nullable)) return c;
    const out = { ...c, nullable: c.nullable && facts.nullable };
    const declared = facts.declared ?? '';
    if (c.type === 'variant' && (declared === 'OBJECT' || declared === 'ARRAY'))
      return { ...out, type: declared === 'OBJECT' ? 'object' : 'array' };
    const length = /^VARCHAR\((\d+)\)$/.exec(declared);
    if (c.type === 'text' && length) {
      const n = Number(length[1]);
      return { ...out, length: n, byteLength: Math.min(n * 4, MAX_VARCHAR) };
    }
    return out;
  });
}
