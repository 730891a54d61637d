/**
 * A SQL tokenizer after Snowflake's and DuckDB's lexical rules, for the token scan of sqlRefs.ts: string
 * literals, quoted identifiers and comments become single tokens, so text inside them is never mistaken
 * for keywords or names.
 */

/** Thrown for SQL the scanner cannot tokenize (unterminated quote/comment, unbalanced parentheses). */
export class SqlScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequest';
  }
}

export type TokenKind = 'word' | 'qident' | 'string' | 'number' | 'op' | 'ws';

/** One token; `start`/`end` are character offsets into the SQL text. */
export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

/** One part of a name: its value (unquoted: as written; quoted: without quotes, `""` undone) and whether it was quoted. */
export interface NamePart {
  value: string;
  quoted: boolean;
}

/**
 * Split SQL into tokens (Snowflake/DuckDB lexical rules: `'..'` with `''` and `\\` escapes, `$$..$$`,
 * `"..."` with `""`, `--` and `//` line comments, block comments). Throws {@link SqlScanError}.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < sql.length; i = out[out.length - 1]!.end) out.push(tokenAt(sql, i));
  return out;
}

/** The token that starts at offset `start` of `sql` (see {@link tokenize}). Throws {@link SqlScanError}. */
export function tokenAt(sql: string, start: number): Token {
  const n = sql.length;
  const s = start;
  let i = start;
  const token = (kind: TokenKind): Token => ({ kind, text: sql.slice(s, i), start: s, end: i });
  const c = sql[i]!;
  if (/\s/.test(c)) {
    while (i < n && /\s/.test(sql[i]!)) i++;
    return token('ws');
  }
  if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '/')) {
    while (i < n && sql[i] !== '\n') i++;
    return token('ws');
  }
  if (c === '/' && sql[i + 1] === '*') {
    const e = sql.indexOf('*/', i + 2);
    if (e < 0) throw new SqlScanError('unterminated /* comment');
    i = e + 2;
    return token('ws');
  }
  if (c === "'") {
    i++;
    for (;;) {
      if (i >= n) throw new SqlScanError(`unterminated string literal at position ${s}`);
      if (sql[i] === '\\') i += 2;
      else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
      else if (sql[i] === "'") break;
      else i++;
    }
    i++;
    return token('string');
  }
  if (c === '$' && sql[i + 1] === '$') {
    const e = sql.indexOf('$$', i + 2);
    if (e < 0) throw new SqlScanError(`unterminated $$ string at position ${s}`);
    i = e + 2;
    return token('string');
  }
  if (c === '"') {
    i++;
    for (;;) {
      if (i >= n) throw new SqlScanError(`unterminated quoted identifier at position ${s}`);
      if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
      else if (sql[i] === '"') break;
      else i++;
    }
    i++;
    return token('qident');
  }
  if (/[A-Za-z_]/.test(c) || c.charCodeAt(0) > 127) {
    while (i < n && (/[A-Za-z0-9_$]/.test(sql[i]!) || sql.charCodeAt(i) > 127)) i++;
    return token('word');
  }
  if (/[0-9]/.test(c)) {
    while (i < n && /[0-9.eE]/.test(sql[i]!)) i++;
    return token('number');
  }
  i++;
  return token('op');
}

/** Value of a name token: quoted identifiers without quotes and with `""` undone. */
export function namePart(t: Token): NamePart {
  return t.kind === 'qident'
    ? { value: t.text.slice(1, -1).replaceAll('""', '"'), quoted: true }
    : { value: t.text, quoted: false };
}

/** `t` is one of the keywords `w` (case-insensitive). */
export const isWord = (t: Token | undefined, ...w: string[]) => t?.kind === 'word' && w.includes(t.text.toUpperCase());
/** `t` is the operator `op`. */
export const isOp = (t: Token | undefined, op: string) => t?.kind === 'op' && t.text === op;
/** `t` can be a name part (a word or a quoted identifier). */
export const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'qident';
