/**
 * Snowflake query → DuckDB SQL, token by token.
 *
 * - Unquoted words fold to upper case (Snowflake identifier semantics; DuckDB matches names
 *   case-insensitively and returns them as written, so result columns come back upper-case).
 * - String literals are re-quoted for DuckDB (Snowflake accepts backslash escapes).
 * - Type names after `::` and in CAST are mapped ({@link parseType}).
 * - Snowflake functions without a DuckDB twin are rewritten ({@link FUNCTIONS}).
 * - VARIANT path access `col:a.b[0]` becomes `json_extract(col, '$.a.b[0]')`
 *   (`json_extract_string` when cast with `::`), keys stay case-sensitive as in Snowflake.
 * - `<db>.INFORMATION_SCHEMA.<view>` is replaced by a subquery the engine prepared.
 * - Casts to TIMESTAMP_NTZ/LTZ/TZ and DATE go through the type-dispatching macros of macros.ts
 *   (`__SF_NTZ`, `__SF_INSTANT`, `__SF_TSTZ`, `__SF_DATE`), which accept the TIMESTAMP_TZ struct.
 * - Comparisons (`= <> != < <= > >= BETWEEN`) with a TIMESTAMP_TZ operand on either side compare
 *   instants, as Snowflake does: both operands are wrapped in `__SF_INSTANT`. An operand is
 *   TIMESTAMP_TZ when it is a `::TIMESTAMP_TZ`/`CAST(.. AS TIMESTAMP_TZ)`, `TO_TIMESTAMP_TZ(..)`,
 *   2-argument `CONVERT_TIMEZONE(..)`, or a column named in {@link TranslateEnv.tzColumns}
 *   (by name: an alias of a TZ column under another name is not recognised). Operands are the
 *   primary next to the operator (a name, literal, call, cast or parenthesised group).
 * - Text operands of the arithmetic operators `+ - * / %` become numbers, as Snowflake coerces them
 *   (Snowflake doc: "Data type conversion"): a string literal is read as the number it spells (`'12' + 1`
 *   is 13; a binding sent as TEXT arrives as such a literal), a text column ({@link TranslateEnv.columnKinds})
 *   as FLOAT. A text column compared with a number literal or a number column is read as FLOAT too. Text that
 *   is not a number fails the statement. Text arguments of functions (SUM, ABS, ...) are not converted.
 */
import { SfErrors, SnowflakeError } from '../errors.js';
import { checkQuery, type RelationRef } from './sandbox.js';
import { parseType, TSTZ_DUCKDB } from './types.js';
import { datePartSql, EPOCH_PARTS } from './datetime.js';
import { coerceArithmetic, coerceOperand, compareInstants, type ColumnKind } from './operands.js';
import { castSql, FUNCTIONS } from './functions.js';
import {
  identValue,
  isWord,
  quoteIdent,
  quoteSnowflakeIdent,
  quoteString,
  significant,
  stringValue,
  type Token,
  CLAUSE_WORDS,
  matchParen,
  splitTop,
} from './tokenizer.js';

/** What the translator needs from the session. */
export interface TranslateEnv {
  database: string | null;
  schema: string | null;
  /** Replacement subquery for `<db>.INFORMATION_SCHEMA.<view>` (prepared by the engine), or undefined. */
  infoSchema?: (database: string, view: string) => string | undefined;
  /**
   * Names of the TIMESTAMP_TZ columns of the tables the statement names (the engine looks them up).
   * A column reference whose last part is one of them counts as a TIMESTAMP_TZ operand in comparisons.
   */
  tzColumns?: ReadonlySet<string>;
  /** Text and number columns of the tables the statement names, by name: text is read as a number next to numbers. */
  columnKinds?: ReadonlyMap<string, ColumnKind>;
  /** The signed-in user (CURRENT_USER()); absent outside a session. */
  user?: string | null;
  /** LAST_QUERY_ID(n): the session's n-th query id (result-scan.ts), or null; absent outside a session. */
  lastQueryId?: (n: number) => string | null;
  /** TABLE(RESULT_SCAN(id)): DuckDB SQL of the relation holding that query's result; throws SnowflakeError. */
  resultScan?: (queryId: string) => string;
  /** TABLE(INFER_SCHEMA(args)): DuckDB SQL of the relation the engine prepared for these argument tokens (infer-schema.ts). */
  inferSchema?: (args: Token[]) => string | undefined;
  /**
   * Receives the table/view names the query reads (sandbox.ts): the caller must check that each
   * is a Snowflake table or view before running the SQL. Without it, a query naming a table is refused.
   */
  relations?: RelationRef[];
}

export type { ColumnKind };

/**
 * Translates Snowflake tokens (whitespace included or not) to DuckDB SQL, after checking that the
 * query uses Snowflake constructs only ({@link checkQuery}); the names it reads go to
 * `env.relations`. Throws SnowflakeError (001003/002040/002140) on constructs it refuses or cannot translate.
 */
export function translateTokens(input: Token[], env: TranslateEnv): string {
  const sig = significant(input);
  const relations = checkQuery(sig, (name) => Object.hasOwn(FUNCTIONS, name));
  if (env.relations) env.relations.push(...relations);
  else if (relations.length > 0) throw SfErrors.unsupported('a table reference in this position');
  const tokens = qualifyRelations(sig, relations, env);
  return new Translator(tokens, env).run(0, tokens.length);
}

/**
 * Writes each table/view name the query reads as `"DB"."SCHEMA"."NAME"`, resolved against the
 * session as Snowflake resolves it (names stay as written when the session lacks a current
 * database or schema: the engine then refuses them). DuckDB binds a view's body again on every
 * read; should a table it names be gone, a bare name would become a replacement scan of a file
 * of that name, a qualified one becomes a relative path `DB.SCHEMA.<name>` outside the sandbox.
 */
function qualifyRelations(sig: Token[], relations: RelationRef[], env: TranslateEnv): Token[] {
  const out = [...sig];
  for (const r of [...relations].reverse()) {
    const database = r.parts.length === 3 ? r.parts[0] : env.database;
    const schema = r.parts.length >= 2 ? r.parts[r.parts.length - 2] : env.schema;
    if (database === null || schema === null) continue;
    const dot: Token = { kind: 'op', text: '.' };
    const name = [database, schema, r.parts[r.parts.length - 1]].flatMap((p, k): Token[] => [
      ...(k ? [dot] : []),
      { kind: 'qident', text: quoteSnowflakeIdent(p) },
    ]);
    out.splice(r.start, r.end - r.start + 1, ...name);
  }
  return out;
}

/**
 * Whether the divisor that starts at `out[from]` is complete: at least one operand past any unary sign,
 * parentheses and brackets closed, and the next token not a postfix that binds tighter than `/`
 * (`::` cast, `:` path, `[` index).
 */
function divisorEnds(out: string[], from: number, next: Token | undefined): boolean {
  let depth = 0;
  let operand = false;
  for (let k = from; k < out.length; k++) {
    const e = out[k];
    if (e === '(' || e === '[') depth++;
    else if (e === ')' || e === ']') depth--;
    if (depth === 0 && e !== '-' && e !== '+' && e !== '(' && e !== '[') operand = true;
  }
  if (!operand || depth !== 0) return false;
  return !(next?.kind === 'op' && (next.text === '::' || next.text === ':' || next.text === '['));
}

/** Sizes a per-element flag array to `length` elements (new ones `none`) and sets the last one. */
function flagLast<T>(flags: T[], length: number, last: T, none: T): void {
  flags.length = Math.min(flags.length, length);
  while (flags.length < length) flags.push(none);
  if (length > 0) flags[length - 1] = last;
}

class Translator {
  constructor(
    private readonly t: Token[],
    private readonly env: TranslateEnv,
  ) {}

  /** Set by a step that emitted a TIMESTAMP_TZ operand (read by {@link run}). */
  private lastTz = false;
  /** Set by a step that emitted a text or number column (read by {@link run}). */
  private lastKind: ColumnKind | null = null;

  run(from: number, to: number): string {
    const out: string[] = [];
    /** Per `out` element: is it a TIMESTAMP_TZ operand (see {@link compareInstants}), a text column (see {@link coerceArithmetic}). */
    const tz: boolean[] = [];
    const kinds: (ColumnKind | null)[] = [];
    /** Where the divisor of the last `/` starts in `out`, until it is complete (see {@link divisorEnds}). */
    let divisor: number | null = null;
    let i = from;
    while (i < to) {
      this.lastTz = false;
      this.lastKind = null;
      const isDivide = this.t[i].kind === 'op' && this.t[i].text === '/';
      i = this.step(out, i, to);
      flagLast(tz, out.length, this.lastTz, false);
      flagLast(kinds, out.length, this.lastKind, null);
      if (divisor !== null && divisorEnds(out, divisor, i < to ? this.t[i] : undefined)) {
        // Snowflake fails a division by zero (100051) where DuckDB returns NULL.
        if (out.length - divisor === 1) coerceOperand(out, kinds, divisor);
        out.push(`__SF_DIVISOR(${out.splice(divisor).join(' ')})`);
        tz.length = out.length;
        kinds.length = out.length;
        divisor = null;
      }
      if (isDivide) divisor = out.length;
    }
    coerceArithmetic(out, kinds);
    compareInstants(out, tz, kinds);
    return out.join(' ');
  }

  /** Translates the construct at `t[i]` (pushing to, or rewriting the last element of, `out`); returns the next index. */
  private step(out: string[], i: number, to: number): number {
    const tok = this.t[i];
    const next = this.t[i + 1];
    if (tok.kind === 'raw' || tok.kind === 'number' || tok.kind === 'stageref') {
      out.push(tok.text);
      return i + 1;
    }
    if (tok.kind === 'string') {
      out.push(quoteString(stringValue(tok)));
      return i + 1;
    }
    if (tok.kind === 'bind') throw SfErrors.syntax(`Bind variable ${tok.text} not set.`);
    if (tok.kind === 'op' && tok.text === '::') {
      const type = parseType(this.t, i + 1);
      const operand = out.pop() ?? '';
      out.push(castSql(operand, type.duckdb) ?? `${operand}::${type.duckdb}`);
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
      return type.next;
    }
    if (tok.kind === 'op' && tok.text === ':' && out.length > 0) return this.variantPath(out, i + 1, to);
    if (tok.kind === 'word' && next?.kind === 'op' && next.text === '(' && i + 1 < to) return this.call(out, i, to);
    if (tok.kind === 'word' && (tok.text === 'X' || tok.text === 'x') && next?.kind === 'string') {
      // X'0A1B': a BINARY literal in hex.
      out.push(`unhex(${quoteString(stringValue(next))})`);
      return i + 2;
    }
    if (tok.kind === 'word' && tok.text.toUpperCase() === 'MINUS') {
      out.push('EXCEPT');
      return i + 1;
    }
    if (
      tok.kind === 'word' &&
      (tok.text.toUpperCase() === 'CURRENT_DATABASE' || tok.text.toUpperCase() === 'CURRENT_SCHEMA')
    ) {
      out.push(this.currentName(tok.text.toUpperCase()));
      return i + 1;
    }
    if (tok.kind === 'word' || tok.kind === 'qident') return this.name(out, i, to);
    out.push(tok.text);
    return i + 1;
  }

  private currentName(fn: string): string {
    const v = fn === 'CURRENT_DATABASE' ? this.env.database : this.env.schema;
    return v === null ? 'NULL' : quoteString(v);
  }

  /** An identifier chain `a.b.c`, emitted as one operand (so `:` path access can wrap it). */
  private name(out: string[], i: number, to: number): number {
    const parts: Token[] = [this.t[i]];
    let k = i + 1;
    while (
      k + 1 < to &&
      this.t[k].text === '.' &&
      this.t[k].kind === 'op' &&
      (this.t[k + 1].kind === 'word' || this.t[k + 1].kind === 'qident' || this.t[k + 1].text === '*')
    ) {
      parts.push(this.t[k + 1]);
      k += 2;
    }
    const values = parts.map((p) => (p.text === '*' ? '*' : identValue(p)));
    const isInfo = (n: number) =>
      values.length === n && values[n - 2] === 'INFORMATION_SCHEMA' && parts[n - 2].kind === 'word';
    if (this.env.infoSchema && (isInfo(3) || isInfo(2))) {
      const db = values.length === 3 ? values[0] : this.env.database;
      if (!db) throw SfErrors.objectDoesNotExist(`INFORMATION_SCHEMA.${values[values.length - 1]}`);
      const sub = this.env.infoSchema(db, values[values.length - 1]);
      if (sub) {
        const after = this.t[k];
        const hasAlias =
          after &&
          (after.kind === 'qident' ||
            (after.kind === 'word' && !CLAUSE_WORDS.has(after.text.toUpperCase())) ||
            isWord(after, 'AS'));
        out.push(hasAlias ? `(${sub})` : `(${sub}) AS ${quoteIdent(values[values.length - 1])}`);
        return k;
      }
    }
    out.push(
      parts
        .map((p, n) => (p.text === '*' ? '*' : p.kind === 'qident' ? quoteIdent(values[n]) : p.text.toUpperCase()))
        .join('.'),
    );
    const column = this.t[k]?.text !== '(';
    this.lastTz = column && this.env.tzColumns?.has(values[values.length - 1]) === true;
    this.lastKind = column ? (this.env.columnKinds?.get(values[values.length - 1]) ?? null) : null;
    return k;
  }

  /** `base:key.key[0]` → json_extract(base, '$.key.key[0]'); with `::type`, the string value cast. */
  private variantPath(out: string[], i: number, to: number): number {
    const base = out.pop() as string;
    let path = '$';
    let k = i;
    let first = true;
    while (k < to) {
      const tok = this.t[k];
      if (first || (tok.text === '.' && tok.kind === 'op')) {
        const keyTok = first ? tok : this.t[k + 1];
        if (!keyTok || (keyTok.kind !== 'word' && keyTok.kind !== 'qident')) break;
        const key = keyTok.kind === 'qident' ? identValue(keyTok) : keyTok.text;
        path += /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `."${key.replace(/"/g, '\\"')}"`;
        k += first ? 1 : 2;
        first = false;
      } else if (tok.text === '[' && tok.kind === 'op') {
        const idx = this.t[k + 1];
        if (this.t[k + 2]?.text !== ']') throw SfErrors.unsupported('non-literal VARIANT subscript');
        path += idx.kind === 'number' ? `[${idx.text}]` : `."${stringValue(idx)}"`;
        k += 3;
      } else break;
    }
    if (this.t[k]?.text === '::') {
      const type = parseType(this.t, k + 1);
      const text = `JSON_EXTRACT_STRING(${base}, ${quoteString(path)})`;
      if (type.duckdb === 'JSON') out.push(`JSON_EXTRACT(${base}, ${quoteString(path)})`);
      else out.push(castSql(text, type.duckdb) ?? `CAST(${text} AS ${type.duckdb})`);
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
      return type.next;
    }
    out.push(`JSON_EXTRACT(${base}, ${quoteString(path)})`);
    return k;
  }

  /** A function call; rewritten per {@link FUNCTIONS} or passed through. */
  private call(out: string[], i: number, to: number): number {
    const name = this.t[i].text.toUpperCase();
    const close = matchParen(this.t, i + 1);
    if (close >= to) throw SfErrors.syntax(`unexpected '<EOF>'.`);
    const inner = this.t.slice(i + 2, close);
    if ((name === 'CURRENT_DATABASE' || name === 'CURRENT_SCHEMA') && inner.length === 0) {
      out.push(this.currentName(name));
      return close + 1;
    }
    if (name === 'CURRENT_USER' && inner.length === 0 && this.env.user) {
      out.push(quoteString(this.env.user));
      return close + 1;
    }
    if (name === 'CAST' || name === 'TRY_CAST') {
      const asAt = lastTopLevelAs(inner);
      if (asAt < 0) throw SfErrors.syntax(`unexpected ')'.`);
      const expr = this.sub(inner.slice(0, asAt));
      const type = parseType(inner, asAt + 1);
      out.push(
        (name === 'CAST' ? castSql(expr, type.duckdb) : null) ??
          (type.duckdb === TSTZ_DUCKDB ? `__SF_TSTZ(${expr})` : `${name}(${expr} AS ${type.duckdb})`),
      );
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
      return close + 1;
    }
    if (name === 'EXTRACT' && isWord(inner[1], 'FROM') && EPOCH_PARTS[inner[0].text.toUpperCase()]) {
      out.push(datePartSql(inner.slice(0, 1), this.sub(inner.slice(2))));
      return close + 1;
    }
    if (name === 'TABLE' && isWord(inner[0], 'GENERATOR')) {
      const genClose = matchParen(inner, 1);
      const args = splitTop(inner.slice(2, genClose));
      const rowcount = args.find((a) => isWord(a[0], 'ROWCOUNT'));
      if (!rowcount || rowcount[1]?.text !== '=>') throw SfErrors.unsupported('GENERATOR without ROWCOUNT');
      out.push(`RANGE(${this.sub(rowcount.slice(2))})`);
      return close + 1;
    }
    if (name === 'LAST_QUERY_ID' && this.env.lastQueryId) {
      const id = this.env.lastQueryId(inner.length ? Number(inner.map((t) => t.text).join('')) : -1);
      out.push(id === null ? 'NULL' : quoteString(id));
      return close + 1;
    }
    if (name === 'TABLE' && isWord(inner[0], 'RESULT_SCAN') && this.env.resultScan) {
      out.push(this.env.resultScan(this.resultScanId(inner.slice(2, matchParen(inner, 1)))));
      return close + 1;
    }
    const inferred = isWord(inner[0], 'INFER_SCHEMA') && this.env.inferSchema?.(inner.slice(2, matchParen(inner, 1)));
    if (name === 'TABLE' && inferred) {
      out.push(inferred);
      return close + 1;
    }
    if (name === 'TABLE' && inner[0]?.kind === 'word' && /^FLATTEN$/i.test(inner[0].text))
      throw SfErrors.unsupported('FLATTEN');
    const rewrite = FUNCTIONS[name];
    if (!rewrite) {
      out.push(`${name}(${inner.length ? this.sub(inner) : ''})`);
      return close + 1;
    }
    const raw = inner.length ? splitTop(inner) : [];
    out.push(
      rewrite(
        raw.map((r) => this.sub(r)),
        raw,
        (tokens) => this.sub(tokens),
      ),
    );
    this.lastTz = name === 'TO_TIMESTAMP_TZ' || (name === 'CONVERT_TIMEZONE' && raw.length === 2);
    return close + 1;
  }

  /** The query id RESULT_SCAN's argument names: a string literal or LAST_QUERY_ID([n]). */
  private resultScanId(arg: Token[]): string {
    if (arg.length === 1 && arg[0].kind === 'string') return stringValue(arg[0]);
    if (isWord(arg[0], 'LAST_QUERY_ID') && arg[1]?.text === '(') {
      const id = /^'(.*)'$/s.exec(this.sub(arg));
      if (id) return id[1];
      throw new SnowflakeError('000709', '02000', 'RESULT_SCAN: the session has no previous query');
    }
    throw SfErrors.unsupported('RESULT_SCAN of an expression other than a query id or LAST_QUERY_ID()');
  }

  private sub(tokens: Token[]): string {
    return new Translator(tokens, this.env).run(0, tokens.length);
  }
}

function lastTopLevelAs(tokens: Token[]): number {
  let depth = 0;
  let found = -1;
  tokens.forEach((t, k) => {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && isWord(t, 'AS')) found = k;
  });
  return found;
}
