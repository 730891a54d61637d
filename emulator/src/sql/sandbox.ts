/**
 * What a query may name: the emulator speaks Snowflake, not DuckDB. Every query the translator
 * turns into DuckDB SQL is first walked here, token by token, and refused unless each construct is
 * one Snowflake has:
 *
 * - **Function calls** (`name(`): only Snowflake functions — the translator's rewrites, the
 *   Snowflake built-ins DuckDB implements under the same name ({@link SNOWFLAKE_BUILTINS}) and the
 *   emulator's own macros. Anything else (`read_csv`, `glob`, `getenv`, `query_table`, `pragma_*`,
 *   `duckdb_*`, ...) is Snowflake's "Unknown function" (002140). Qualified and method-style calls
 *   (`main.f()`, `'x'.f()`) are DuckDB-only and refused the same way.
 * - **Relations** (after FROM, JOIN, USING, a comma of a FROM list, and inside a parenthesised
 *   join): a string literal (DuckDB's replacement scan of a file path, `FROM 'x.csv'`) is a syntax
 *   error (001003); a stage reference is an unsupported feature (002040: staged files are read by
 *   COPY INTO); a table function must be Snowflake's `TABLE(GENERATOR(...))`, `TABLE(RESULT_SCAN(...))` or `TABLE(INFER_SCHEMA(...))`; a name is either a
 *   CTE in scope or a table/view the caller must find in a Snowflake database — the names are
 *   returned ({@link RelationRef}) so the engine checks them against its catalog before DuckDB
 *   sees the statement (a name DuckDB cannot find would otherwise become a replacement scan, and
 *   `system`/`memory`/`temp` are DuckDB catalogs, not Snowflake databases).
 * - **Subqueries** start with SELECT, WITH, VALUES or `(`: DuckDB's FROM-first queries and
 *   DESCRIBE/SUMMARIZE/SHOW/PIVOT statements in parentheses are syntax errors.
 *
 * Statements other than queries never reach DuckDB as text: the engine dispatches on the
 * statement kind (engine.ts) and builds the DuckDB statement itself.
 */
import { SfErrors, SnowflakeError } from '../errors.js';
import { identValue, isWord, type Token } from './tokenizer.js';
import {
  DUCKDB_SUBQUERY_WORDS,
  FROM_CLAUSE_END,
  KEYWORDS,
  SNOWFLAKE_BUILTINS,
  TRANSLATED_CALLS,
} from './sandbox-words.js';

/** A table or view name in a relation position, as written (parts folded as Snowflake folds them). */
export interface RelationRef {
  /** 1 to 3 parts: `[database.][schema.]name`. */
  parts: string[];
  /** Indices of its first and last token in the checked token list. */
  start: number;
  end: number;
}

type CteState = 'name' | 'columns' | 'as' | 'body' | 'comma';

/** One parenthesis level. */
interface Frame {
  /** CTE names defined at this level (visible here and deeper). */
  ctes: Set<string>;
  /** Inside a FROM list at this level: a comma starts a relation. */
  fromList: boolean;
  /** The parentheses of a function call: FROM inside is an argument (`EXTRACT(YEAR FROM d)`), not a relation (nor is `IS DISTINCT FROM x`). */
  call: boolean;
  /** Where a WITH clause at this level stands. */
  cte: CteState | null;
  recursive: boolean;
  /** A non-recursive CTE joins the scope once its body is closed. */
  pendingCte: string | null;
  /** This frame is the body of the parent's pending CTE. */
  cteBody: boolean;
}

const frame = (call = false): Frame => ({
  ctes: new Set(),
  fromList: false,
  call,
  cte: null,
  recursive: false,
  pendingCte: null,
  cteBody: false,
});

const unknownFunction = (name: string) =>
  new SnowflakeError('002140', '42601', `SQL compilation error:\nUnknown function ${name}`);
const unexpected = (t: Token | undefined) =>
  SfErrors.syntax(`line 1 at position 0 unexpected '${t?.text ?? '<EOF>'}'.`);

/**
 * Checks a query (significant tokens, any statement the translator accepts) against the rules
 * above. `isFunction(NAME)` says whether the translator knows an upper-cased function name.
 * Returns the names in relation positions that are not CTEs in scope (INFORMATION_SCHEMA views
 * excluded: the translator replaces them). Throws SnowflakeError 002140, 001003 or 002040.
 */
export function checkQuery(t: Token[], isFunction: (name: string) => boolean): RelationRef[] {
  const refs: RelationRef[] = [];
  const frames: Frame[] = [frame()];
  const top = () => frames[frames.length - 1];
  const isCte = (name: string) => frames.some((f) => f.ctes.has(name.toUpperCase()));
  const known = (name: string) =>
    isFunction(name) || SNOWFLAKE_BUILTINS.has(name) || TRANSLATED_CALLS.has(name) || name.startsWith('__SF_');
  let relation = false;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i];
    const f = top();
    const next = t[i + 1];
    // WITH name [(columns)] AS [NOT] [MATERIALIZED] (body) [, ...]
    if (f.cte === 'name') {
      if (tok.kind !== 'word' && tok.kind !== 'qident') throw unexpected(tok);
      const name = identValue(tok).toUpperCase();
      if (f.recursive) f.ctes.add(name);
      else f.pendingCte = name;
      f.cte = next?.text === '(' ? 'columns' : 'as';
      continue;
    }
    if (f.cte === 'columns') {
      i = matchClose(t, i); // identifiers only: DuckDB parses nothing else there
      f.cte = 'as';
      continue;
    }
    if (f.cte === 'as') {
      if (!isWord(tok, 'AS')) throw unexpected(tok);
      f.cte = 'body';
      continue;
    }
    if (f.cte === 'body' && isWord(tok, 'NOT', 'MATERIALIZED')) continue;
    if (f.cte === 'body' && tok.text !== '(') throw unexpected(tok);
    if (f.cte === 'comma') {
      f.cte = tok.kind === 'op' && tok.text === ',' ? 'name' : null;
      if (f.cte) continue;
    }

    if (tok.kind === 'op' && tok.text === '(') {
      if (next?.kind === 'word' && DUCKDB_SUBQUERY_WORDS.has(next.text.toUpperCase())) throw unexpected(next);
      const child = frame();
      if (f.cte === 'body') {
        child.cteBody = true;
        f.cte = null;
      }
      frames.push(child);
      // `FROM (a JOIN b)`: the first item of a parenthesised join is a relation too.
      if (relation && !isWord(next, 'SELECT', 'WITH', 'VALUES')) child.fromList = true;
      else relation = false;
      continue;
    }
    if (tok.kind === 'op' && tok.text === ')') {
      if (frames.length === 1) throw unexpected(tok);
      const closed = frames.pop()!;
      const parent = top();
      if (closed.cteBody) {
        if (parent.pendingCte) parent.ctes.add(parent.pendingCte);
        parent.pendingCte = null;
        parent.cte = 'comma';
      }
      relation = false;
      continue;
    }
    if (tok.kind === 'op' && tok.text === '::') {
      // A type name, possibly with (precision, scale): not a call. Anything else in those
      // parentheses is checked like any other expression.
      i += t[i + 2]?.text === '(' && plainList(t, i + 2) ? matchClose(t, i + 2) - i : 1;
      continue;
    }
    if (tok.kind === 'word' || tok.kind === 'qident') {
      // A name chain a.b.c
      const parts = [tok];
      let k = i + 1;
      while (t[k]?.kind === 'op' && t[k].text === '.' && (t[k + 1]?.kind === 'word' || t[k + 1]?.kind === 'qident')) {
        parts.push(t[k + 1]);
        k += 2;
      }
      const last = k - 1;
      const word = parts.length === 1 && tok.kind === 'word' ? tok.text.toUpperCase() : null;
      const callsNext = t[k]?.kind === 'op' && t[k].text === '(';
      const prev = t[i - 1];
      if (relation) {
        relation = word === 'LATERAL';
        if (word === 'LATERAL' || word === 'VALUES') continue;
        if (word === 'TABLE' && callsNext) {
          // Snowflake's table-function syntax; the emulator has GENERATOR, RESULT_SCAN and INFER_SCHEMA (checked as a call next).
          if (!isWord(t[k + 1], 'GENERATOR', 'RESULT_SCAN', 'INFER_SCHEMA') || t[k + 2]?.text !== '(')
            throw SfErrors.unsupported(`TABLE(${t[k + 1]?.text ?? ''})`);
          frames.push(frame(true));
          i = k;
          continue;
        }
        if (callsNext) {
          const name = parts.map(identValue).join('.');
          throw known(name) ? SfErrors.unsupported(`table function ${name} outside TABLE(...)`) : unknownFunction(name);
        }
        const values = parts.map(identValue);
        const info =
          values.length >= 2 &&
          values.length <= 3 &&
          parts[values.length - 2].kind === 'word' &&
          values[values.length - 2] === 'INFORMATION_SCHEMA';
        if (!info && !(values.length === 1 && isCte(values[0]))) refs.push({ parts: values, start: i, end: last });
        i = last;
        continue;
      }
      if (word !== null && KEYWORDS.has(word)) {
        if (word === 'FROM' && !f.call && !isWord(prev, 'DISTINCT')) {
          f.fromList = true;
          relation = true;
        } else if (word === 'JOIN') {
          f.fromList = true;
          relation = true;
        } else if (word === 'USING') {
          // JOIN ... USING (columns) names columns; MERGE/DELETE ... USING names a relation.
          if (!(next?.text === '(' && plainList(t, i + 1, false))) {
            f.fromList = true;
            relation = true;
          } else i = matchClose(t, i + 1);
        } else if (word === 'WITH') {
          f.cte = 'name';
          f.recursive = isWord(next, 'RECURSIVE');
          if (f.recursive) i++;
        } else if (FROM_CLAUSE_END.has(word)) f.fromList = false;
        continue;
      }
      if (word === 'TABLE') throw unexpected(tok); // DuckDB's `TABLE name`; Snowflake's TABLE(...) is a relation
      if (callsNext) {
        if (
          parts.length === 1 &&
          (isWord(prev, 'AS') || (prev?.kind === 'op' && prev.text === ')')) &&
          plainList(t, k)
        ) {
          // `AS alias(columns)`, `) alias(columns)`, `AS NUMBER(p, s)` inside CAST: names, not a call.
          i = matchClose(t, k);
          continue;
        }
        const name = parts.map((p) => identValue(p)).join('.');
        if (
          parts.length > 1 ||
          (prev?.kind === 'op' && prev.text === '.') ||
          parts[0].kind === 'qident' ||
          !known(name)
        )
          throw unknownFunction(name);
        frames.push(frame(true));
        i = k;
        continue;
      }
      i = last;
      continue;
    }
    if (relation) {
      if (tok.kind === 'stageref')
        throw SfErrors.unsupported('querying staged files (load them with COPY INTO <table>)');
      throw unexpected(tok);
    }
    if (tok.kind === 'op' && tok.text === ',' && f.fromList && !f.call) relation = true;
  }
  if (relation) throw unexpected(undefined);
  return refs;
}

/** Index of the `)` closing the `(` at `open`. */
function matchClose(t: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < t.length; k++) {
    if (t[k].kind !== 'op') continue;
    if (t[k].text === '(') depth++;
    else if (t[k].text === ')' && --depth === 0) return k;
  }
  throw unexpected(undefined);
}

/** `( item [, item ...] )` at `open` whose items are names (or, with `numbers`, numbers too): a column list or type parameters. */
function plainList(t: Token[], open: number, numbers = true): boolean {
  const close = matchClose(t, open);
  for (let k = open + 1; k < close; k++) {
    const item = t[k].kind === 'word' || t[k].kind === 'qident' || (numbers && t[k].kind === 'number');
    if ((k - open) % 2 === 1 ? !item : t[k].text !== ',') return false;
  }
  return close > open + 1 && (close - open) % 2 === 0;
}
