/**
 * A small lexer for Snowflake SQL. Translation works on tokens, never on raw text, so string
 * literals, quoted identifiers and comments are never rewritten by accident. Also the token helpers
 * every statement handler shares: {@link matchParen}, {@link splitTop}, {@link CLAUSE_WORDS}.
 */
import { SfErrors } from '../errors.js';

export type TokenKind =
  | 'word' // unquoted identifier or keyword
  | 'qident' // "quoted identifier" (text keeps the quotes)
  | 'string' // 'string literal' or $$dollar string$$ (text keeps the quotes)
  | 'number'
  | 'bind' // ? or :1 (text keeps the marker)
  | 'op' // punctuation and operators
  | 'ws' // whitespace and comments
  | 'stageref' // @stage/path (text keeps the @)
  | 'raw'; // DuckDB text produced by the translator (bind literals); never rewritten again

export interface Token {
  kind: TokenKind;
  text: string;
}

const OPS = ['::', '||', '<=', '>=', '<>', '!=', '=>', '->', '->>'];

/**
 * Splits SQL into tokens. Throws a Snowflake syntax error (001003) on an unterminated string,
 * quoted identifier or comment.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i])) i++;
      out.push({ kind: 'ws', text: sql.slice(start, i) });
    } else if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '/')) {
      while (i < n && sql[i] !== '\n') i++;
      out.push({ kind: 'ws', text: ' ' });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw SfErrors.syntax(`line 1 at position ${i} unexpected '<EOF>'.`);
      i = end + 2;
      out.push({ kind: 'ws', text: ' ' });
    } else if (c === "'") {
      i++;
      while (i < n) {
        if (sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      if (i >= n) throw SfErrors.syntax(`line 1 at position ${start} unexpected '<EOF>'.`);
      i++;
      out.push({ kind: 'string', text: sql.slice(start, i) });
    } else if (c === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) throw SfErrors.syntax(`line 1 at position ${start} unexpected '<EOF>'.`);
      i = end + 2;
      out.push({ kind: 'string', text: sql.slice(start, i) });
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') break;
        else i++;
      }
      if (i >= n) throw SfErrors.syntax(`line 1 at position ${start} unexpected '<EOF>'.`);
      i++;
      out.push({ kind: 'qident', text: sql.slice(start, i) });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9]/.test(sql[i])) i++;
      if (sql[i] === '.' && sql[i + 1] !== '.') {
        i++;
        while (i < n && /[0-9]/.test(sql[i])) i++;
      }
      if (/[eE]/.test(sql[i] ?? '') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(sql[i])) i++;
      }
      out.push({ kind: 'number', text: sql.slice(start, i) });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i])) i++;
      out.push({ kind: 'word', text: sql.slice(start, i) });
    } else if (c === '?') {
      i++;
      out.push({ kind: 'bind', text: '?' });
    } else if (c === ':' && /[0-9]/.test(sql[i + 1] ?? '') && prevSignificant(out)?.text !== ':') {
      i++;
      while (i < n && /[0-9]/.test(sql[i])) i++;
      out.push({ kind: 'bind', text: sql.slice(start, i) });
    } else if (c === '@') {
      i++;
      while (i < n && !/[\s;,)']/.test(sql[i])) i++;
      out.push({ kind: 'stageref', text: sql.slice(start, i) });
    } else {
      const op = OPS.filter((o) => sql.startsWith(o, i)).sort((a, b) => b.length - a.length)[0];
      i += op ? op.length : 1;
      out.push({ kind: 'op', text: op ?? c });
    }
  }
  return out;
}

function prevSignificant(tokens: Token[]): Token | undefined {
  for (let k = tokens.length - 1; k >= 0; k--) if (tokens[k].kind !== 'ws') return tokens[k];
  return undefined;
}

/** Joins tokens back into SQL text. */
export function render(tokens: Token[]): string {
  return tokens.map((t) => t.text).join('');
}

/** Tokens without whitespace/comments. */
export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws');
}

/** True when the token is the (case-insensitive) keyword. */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return !!t && t.kind === 'word' && words.includes(t.text.toUpperCase());
}

/**
 * Splits a script into statements at top-level semicolons (the driver sends one statement per
 * request unless MULTI_STATEMENT_COUNT says otherwise; trailing semicolons are common).
 */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'op' && t.text === ';') {
      if (significant(cur).length) out.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (significant(cur).length) out.push(cur);
  return out;
}

/** The value of an identifier token as Snowflake resolves it: unquoted folds to upper case. */
export function identValue(t: Token): string {
  if (t.kind === 'qident') return t.text.slice(1, -1).replace(/""/g, '"');
  return t.text.toUpperCase();
}

/**
 * Marks the ASCII lower-case letters of a name as DuckDB stores it. Snowflake resolves names exactly
 * (unquoted ones fold to upper case first), so `"casey"`, `"Casey"` and `CASEY` are three objects;
 * DuckDB compares names ignoring ASCII case. A name with lower-case letters is therefore stored with
 * each such letter preceded by `·` (and `·` itself doubled): no two Snowflake names are then equal
 * ignoring case, and DuckDB's lookups become Snowflake's exact ones. Names without lower-case letters
 * (every unquoted name) are stored as they are.
 */
export function toDuckdbName(name: string): string {
  return /[a-z\u00b7]/.test(name) ? name.replace(/\u00b7/g, '\u00b7\u00b7').replace(/[a-z]/g, '\u00b7$&') : name;
}

/** The Snowflake name of a name DuckDB stores ({@link toDuckdbName} undone). */
export function fromDuckdbName(name: string): string {
  return name.includes('\u00b7') ? name.replace(/\u00b7(.)/gu, '$1') : name;
}

/** A Snowflake name quoted for DuckDB SQL, as DuckDB stores it ({@link toDuckdbName}). */
export function quoteIdent(name: string): string {
  return `"${toDuckdbName(name).replace(/"/g, '""')}"`;
}

/** A Snowflake name as the DuckDB string literal to compare with the names `duckdb_tables()` and the like list. */
export function nameLiteral(name: string): string {
  return quoteString(toDuckdbName(name));
}

/** A name as a quoted Snowflake identifier token text (`"a""b"`), which {@link identValue} reads back. */
export function quoteSnowflakeIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for DuckDB. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Decodes a Snowflake string literal token ('..' with '' and backslash escapes, or $$..$$). */
export function stringValue(t: Token): string {
  if (t.text.startsWith('$$')) return t.text.slice(2, -2);
  const body = t.text.slice(1, -1);
  return body
    .replace(/''/g, "'")
    .replace(/\\(.)/g, (_m, ch: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f' })[ch] ?? ch);
}

/** Words after which an identifier is an alias rather than a keyword. */
export const CLAUSE_WORDS = new Set([
  'WHERE',
  'JOIN',
  'ON',
  'GROUP',
  'ORDER',
  'LIMIT',
  'LEFT',
  'RIGHT',
  'INNER',
  'FULL',
  'CROSS',
  'UNION',
  'QUALIFY',
  'HAVING',
  'NATURAL',
  'WINDOW',
  'EXCEPT',
  'INTERSECT',
  'MINUS',
  'USING',
  'OFFSET',
  'FETCH',
  'OUTER',
  'SAMPLE',
  'TABLESAMPLE',
  'LATERAL',
  'SET',
  'WHEN',
  'THEN',
  'AS',
]);

/** Index of the token closing the parenthesis opened at `open`. */
export function matchParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (tokens[k].text === '(' && tokens[k].kind === 'op') depth++;
    else if (tokens[k].text === ')' && tokens[k].kind === 'op') {
      depth--;
      if (depth === 0) return k;
    }
  }
  throw SfErrors.syntax(`line 1 at position 0 unexpected '<EOF>'.`);
}

/** Splits tokens at top-level occurrences of a separator (`,` by default). */
export function splitTop(
  tokens: Token[],
  isSep: (t: Token) => boolean = (t) => t.kind === 'op' && t.text === ',',
): Token[][] {
  const parts: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) depth++;
    if (t.kind === 'op' && (t.text === ')' || t.text === ']')) depth--;
    if (depth === 0 && isSep(t)) {
      parts.push(cur);
      cur = [];
    } else cur.push(t);
  }
  parts.push(cur);
  return parts;
}
