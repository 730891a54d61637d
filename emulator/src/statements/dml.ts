/**
 * DML: INSERT [OVERWRITE] INTO (VALUES or a query), UPDATE, DELETE, TRUNCATE, with Snowflake's count
 * columns (`number of rows inserted`, ...). Values assigned to timestamp columns are converted as
 * Snowflake converts them ({@link timestampColumns}). MERGE is in merge.ts.
 */
import { LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { EngineContext, EngineStatement, ResolvedName, StatementOutcome } from '../contract.js';
import { dmlCounts, status, StatementType } from '../columns.js';
import { SfErrors } from '../errors.js';
import type { Session } from '../session.js';
import { listColumns } from '../sql/metadata.js';
import { identValue, isWord, quoteIdent, type Token, matchParen, splitTop } from '../sql/tokenizer.js';
import { withTransaction } from './transaction.js';

/** TRUNCATE [TABLE] [IF EXISTS] t. */
export const truncate: EngineStatement = async (e, s, sig) => {
  let i = isWord(sig[1], 'TABLE') ? 2 : 1;
  let ifExists = false;
  if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'EXISTS')) {
    ifExists = true;
    i += 2;
  }
  const { name } = e.resolve(s, sig, i);
  if (!(await e.tableExists(s, name))) {
    if (ifExists) return status('Statement executed successfully.');
    throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
  }
  await s.conn.run(`DELETE FROM ${name.duckdbName}`);
  e.touch(s, name.database, name.schema, name.name);
  return status('Statement executed successfully.');
};

/**
 * A table's columns, and for its timestamp columns the macro that converts any value to the
 * column's type (macros.ts): DuckDB has no implicit cast from text with a ` +05:45` offset, nor
 * between the TIMESTAMP_TZ struct and TIMESTAMP/TIMESTAMPTZ, which Snowflake assigns freely.
 */
export async function timestampColumns(
  e: EngineContext,
  s: Session,
  n: ResolvedName,
): Promise<{ all: string[]; convert: Map<string, string> }> {
  const cols = await listColumns(s.conn, e.catalog, n.database, n.schema, n.name);
  const convert = new Map<string, string>();
  for (const c of cols) {
    const t = c.duckType.toUpperCase();
    if (t.startsWith('STRUCT(UTC TIMESTAMP WITH TIME ZONE')) convert.set(c.name, '__SF_TSTZ');
    else if (t === 'TIMESTAMP WITH TIME ZONE') convert.set(c.name, '__SF_INSTANT');
    else if (t === 'TIMESTAMP') convert.set(c.name, '__SF_NTZ');
  }
  return { all: cols.map((c) => c.name), convert };
}

/**
 * A SET list (`col = expr, ..`): drops a qualifier on the left (`t.col = ..`, which Snowflake accepts
 * and DuckDB refuses) and wraps the value of each assignment whose column has a converter (see
 * {@link timestampColumns}) in a call to it.
 */
export function wrapAssignments(tokens: Token[], convert: Map<string, string>): Token[] {
  const out: Token[] = [];
  for (const part of splitTop(tokens)) {
    if (out.length) out.push({ kind: 'op', text: ',' });
    const eq = part.findIndex((t) => t.kind === 'op' && t.text === '=');
    if (eq <= 0) {
      out.push(...part);
      continue;
    }
    const column = part[eq - 1];
    const fn = convert.get(identValue(column));
    out.push(column, part[eq], ...(fn ? wrapCall(fn, part.slice(eq + 1)) : part.slice(eq + 1)));
  }
  return out;
}

/** INSERT [OVERWRITE] INTO t [(cols)] VALUES ... | query; OVERWRITE empties the table in the same transaction. */
export const insert: EngineStatement = async (e, s, sig) => {
  let i = 1;
  const overwrite = isWord(sig[i], 'OVERWRITE');
  if (overwrite) i++;
  if (!isWord(sig[i], 'INTO')) throw SfErrors.syntax(`unexpected '${sig[i]?.text ?? '<EOF>'}'.`);
  const { name, next } = e.resolve(s, sig, i + 1);
  await e.requireTable(s, name);
  let k = next;
  const { all, convert } = await timestampColumns(e, s, name);
  let targetCols = all;
  if (sig[k]?.text === '(' && !isWord(sig[k + 1], 'SELECT', 'WITH')) {
    const close = matchParen(sig, k);
    targetCols = splitTop(sig.slice(k + 1, close)).map((p) => identValue(p[0]));
    k = close + 1;
  }
  let source = sig.slice(k);
  const isValues = isWord(source[0], 'VALUES');
  if (isValues && targetCols.some((c) => convert.has(c))) {
    // Per value (rows may mix TZ literals and text, which DuckDB's VALUES cannot unify).
    source = [
      source[0],
      ...splitTop(source.slice(1)).flatMap((tuple, r) => {
        if (tuple[0]?.text !== '(' || matchParen(tuple, 0) !== tuple.length - 1)
          return [...(r ? [COMMA] : []), ...tuple];
        const vals = splitTop(tuple.slice(1, -1)).flatMap((v, n) => {
          const fn = convert.get(targetCols[n] ?? '');
          return [...(n ? [COMMA] : []), ...(fn ? wrapCall(fn, v) : v)];
        });
        return [...(r ? [COMMA] : []), tuple[0], ...vals, tuple[tuple.length - 1]];
      }),
    ];
  }
  let sourceSql = await e.translate(s, source);
  if (!isValues && targetCols.some((c) => convert.has(c))) {
    // Timestamp targets: convert explicitly (text with offsets, TZ struct ↔ TIMESTAMP/TIMESTAMPTZ).
    const alias = targetCols.map((_, n) => `c${n}`);
    const select = targetCols.map((c, n) => (convert.has(c) ? `${convert.get(c)}(${alias[n]})` : alias[n])).join(', ');
    sourceSql = `SELECT ${select} FROM (${sourceSql}) AS __src(${alias.join(', ')})`;
  }
  const colList = `(${targetCols.map(quoteIdent).join(', ')})`;
  const run = async () => {
    if (overwrite) await s.conn.run(`DELETE FROM ${name.duckdbName}`);
    const r = await s.conn.run(`INSERT INTO ${name.duckdbName} ${colList} ${sourceSql}`);
    e.touch(s, name.database, name.schema, name.name);
    return r.rowsChanged;
  };
  const inserted = overwrite ? await withTransaction(e, s, run) : await run();
  return dmlCounts(StatementType.INSERT, ['number of rows inserted'], [inserted]);
};

/**
 * An array-bind INSERT of text into text columns: `INSERT INTO t [(cols)] VALUES (?, ?, …)` (`head` is
 * its significant tokens up to VALUES) with one TEXT value list per column. The rows reach DuckDB as one
 * list parameter per column, `INSERT … SELECT unnest($1), unnest($2), …`, instead of as a VALUES list
 * of literals, which DuckDB parses and binds value by value (1,000 rows of 5 columns: 60 against 100 ms
 * under load). The same rows and count as that path: text into a VARCHAR column is not converted, so
 * no value can fail. Null when the statement is not of that shape (INSERT OVERWRITE, a column that is
 * not VARCHAR or does not exist, as many lists as columns); the caller then takes the general path.
 */
export async function insertTextLists(
  e: EngineContext,
  s: Session,
  head: Token[],
  lists: (string | null)[][],
): Promise<StatementOutcome | null> {
  if (!isWord(head[1], 'INTO')) return null;
  const { name, next } = e.resolve(s, head, 2);
  await e.requireTable(s, name);
  const columns = await e.catalog.relations.columns(name.database, name.schema, name.name);
  if (!columns) return null;
  let targets = columns.map((c) => c.name);
  if (head[next]?.text === '(') {
    const close = matchParen(head, next);
    if (close !== head.length - 2) return null;
    targets = splitTop(head.slice(next + 1, close)).map((p) => (p.length === 1 ? identValue(p[0]) : ''));
  } else if (next !== head.length - 1) return null;
  const types = new Map(columns.map((c) => [c.name, c.duckType]));
  if (targets.length !== lists.length || targets.some((c) => types.get(c) !== 'VARCHAR')) return null;
  const select = lists.map((_, k) => `unnest($${k + 1})`).join(', ');
  const r = await s.conn.run(
    `INSERT INTO ${name.duckdbName} (${targets.map(quoteIdent).join(', ')}) SELECT ${select}`,
    lists.map((l) => listValue(l)),
    lists.map(() => LIST(VARCHAR)),
  );
  e.touch(s, name.database, name.schema, name.name);
  return dmlCounts(StatementType.INSERT, ['number of rows inserted'], [r.rowsChanged]);
}

/** UPDATE t [SET ...] [FROM ...] [WHERE ...]: translated as a whole, timestamp assignments converted. */
export const update: EngineStatement = async (e, s, sig) => {
  const { name } = e.resolve(s, sig, 1);
  await e.requireTable(s, name);
  const set = topLevelIndex(sig, (t) => isWord(t, 'SET'));
  if (set > 0) {
    const end = topLevelIndex(sig, (t, k) => k > set && isWord(t, 'FROM', 'WHERE'));
    const stop = end < 0 ? sig.length : end;
    const { convert } = await timestampColumns(e, s, name);
    sig = [...sig.slice(0, set + 1), ...wrapAssignments(sig.slice(set + 1, stop), convert), ...sig.slice(stop)];
  }
  const changed = await run(e, s, name, sig);
  return dmlCounts(StatementType.UPDATE, ['number of rows updated', 'number of multi-joined rows updated'], [changed]);
};

/** DELETE [FROM] t [USING ...] [WHERE ...]: translated as a whole. */
export const deleteFrom: EngineStatement = async (e, s, sig) => {
  const { name } = e.resolve(s, sig, isWord(sig[1], 'FROM') ? 2 : 1);
  await e.requireTable(s, name);
  return dmlCounts(StatementType.DELETE, ['number of rows deleted'], [await run(e, s, name, sig)]);
};

/** Runs a translated DML statement on `target`; returns the rows it changed. */
async function run(e: EngineContext, s: Session, target: ResolvedName, sig: Token[]): Promise<number> {
  const r = await s.conn.run(await e.translate(s, sig));
  e.touch(s, target.database, target.schema, target.name);
  return r.rowsChanged;
}

export const COMMA: Token = { kind: 'op', text: ',' };

/** `fn ( expr )` as tokens (the translator passes unknown function names through). */
export function wrapCall(fn: string, expr: Token[]): Token[] {
  return [{ kind: 'word', text: fn }, { kind: 'op', text: '(' }, ...expr, { kind: 'op', text: ')' }];
}

/** Index of the first top-level (depth 0) token matching `pred`, or -1. */
function topLevelIndex(sig: Token[], pred: (t: Token, k: number) => boolean): number {
  let d = 0;
  for (let k = 0; k < sig.length; k++) {
    const t = sig[k];
    if (t.kind === 'op' && t.text === '(') d++;
    else if (t.kind === 'op' && t.text === ')') d--;
    else if (d === 0 && pred(t, k)) return k;
  }
  return -1;
}
