/**
 * A small tokenizer and option parser for the statements the stage handler owns (CREATE/DROP STAGE,
 * PUT, GET, LIST, REMOVE, COPY INTO). These statements are not SQL queries: they carry stage
 * references (`@db.s."My Stage"/path`), `file://` URIs and `KEY = value` option lists, so they are
 * parsed here rather than by the engine's SQL translator. Only the embedded query of
 * `COPY INTO @stage FROM (SELECT ...)` is handed back to the engine, as the raw text slice.
 */
import { SfErrors } from './errors.js';

/** One lexical token with its character offsets into the statement text. */
export interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'stage' | 'uri' | 'punct';
  /** Decoded text: string literals unescaped, quoted identifiers without quotes, words as written. */
  text: string;
  start: number;
  end: number;
}

/**
 * Split a statement into tokens, skipping whitespace and comments (`--`, `//`, `/* *\/`).
 * Throws SnowflakeError 001003 on an unterminated literal.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if ((ch === '-' && sql[i + 1] === '-') || (ch === '/' && sql[i + 1] === '/')) {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
      continue;
    }
    const start = i;
    if (ch === "'") {
      const { text, end } = readString(sql, i);
      tokens.push({ kind: text.startsWith('@') ? 'stage' : isUri(text) ? 'uri' : 'string', text, start, end });
      i = end;
    } else if (ch === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw SfErrors.syntax(`line 1 at position ${start} unexpected '<EOF>'.`);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            text += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += sql[i++];
      }
      tokens.push({ kind: 'quoted', text, start, end: i });
    } else if (ch === '@') {
      i = readBareRef(sql, i);
      tokens.push({ kind: 'stage', text: sql.slice(start, i), start, end: i });
    } else if (/^file:\/\//i.test(sql.slice(i, i + 7))) {
      i = readBareRef(sql, i);
      tokens.push({ kind: 'uri', text: sql.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      i++;
      while (i < sql.length && /[0-9.eE]/.test(sql[i])) i++;
      tokens.push({ kind: 'number', text: sql.slice(start, i), start, end: i });
    } else if (/[A-Za-z_$]/.test(ch)) {
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i), start, end: i });
    } else {
      // Punctuation, and any operator character of an embedded query (kept as text, never interpreted).
      tokens.push({ kind: 'punct', text: ch, start, end: ++i });
    }
  }
  return tokens;
}

function isUri(text: string): boolean {
  return /^file:\/\//i.test(text);
}

/** A Snowflake string literal: `''` and backslash escapes (`\\`, `\'`, `\n`, `\t`, `\r`, `\0`). */
function readString(sql: string, at: number): { text: string; end: number } {
  let text = '';
  let i = at + 1;
  for (;;) {
    if (i >= sql.length) throw SfErrors.syntax(`line 1 at position ${at} unexpected '<EOF>'.`);
    const c = sql[i];
    if (c === "'") {
      if (sql[i + 1] === "'") {
        text += "'";
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    if (c === '\\' && i + 1 < sql.length) {
      const n = sql[i + 1];
      text += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '0' ? '\0' : n;
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
}

/** An unquoted stage reference or URI: runs to whitespace, `;`, `)` or `,` (double quotes may hold any of them). */
function readBareRef(sql: string, at: number): number {
  let i = at;
  let inQuotes = false;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (/\s/.test(c) || c === ';' || c === ')' || c === ',')) break;
    i++;
  }
  return i;
}

/** A parsed option value: a scalar, a parenthesised list (`NULL_IF=('a','b')`) or a nested group (`FILE_FORMAT=(TYPE=CSV)`). */
export type OptionValue =
  | { kind: 'scalar'; text: string; literal: boolean }
  | { kind: 'list'; items: string[] }
  | { kind: 'group'; options: Options };

/** Options by upper-case key, in statement order. */
export type Options = Map<string, OptionValue>;

/** A cursor over tokens with the helpers the statement parsers need. */
export class TokenStream {
  pos = 0;
  constructor(
    readonly sql: string,
    readonly tokens: Token[],
  ) {}

  static of(sql: string): TokenStream {
    const tokens = tokenize(sql);
    while (tokens.length > 0 && tokens[tokens.length - 1].text === ';' && tokens[tokens.length - 1].kind === 'punct')
      tokens.pop();
    return new TokenStream(sql, tokens);
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** True (and consumes) when the next tokens are the given keywords, case-insensitively. */
  acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.peek(k);
      if (!t || t.kind !== 'word' || t.text.toUpperCase() !== words[k]) return false;
    }
    this.pos += words.length;
    return true;
  }

  expectWords(...words: string[]): void {
    if (!this.acceptWords(...words)) this.fail();
  }

  acceptPunct(p: string): boolean {
    const t = this.peek();
    if (t && t.kind === 'punct' && t.text === p) {
      this.pos++;
      return true;
    }
    return false;
  }

  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) this.fail();
  }

  next(): Token {
    const t = this.peek();
    if (!t) this.fail();
    this.pos++;
    return t!;
  }

  /** Throws Snowflake's syntax error pointing at the current token. */
  fail(): never {
    const t = this.peek();
    throw SfErrors.syntax(
      t
        ? `line 1 at position ${t.start} unexpected '${this.sql.slice(t.start, t.end)}'.`
        : `line 1 at position ${this.sql.length} unexpected '<EOF>'.`,
    );
  }

  /**
   * A possibly qualified object name (`t`, `s.t`, `db.s."T"`), returned as its raw source text for
   * `StatementContext.resolveName`.
   */
  objectName(): string {
    const first = this.next();
    if (first.kind !== 'word' && first.kind !== 'quoted') {
      this.pos--;
      this.fail();
    }
    let end = first.end;
    while (this.peek()?.kind === 'punct' && this.peek()!.text === '.') {
      this.pos++;
      const part = this.next();
      if (part.kind !== 'word' && part.kind !== 'quoted') {
        this.pos--;
        this.fail();
      }
      end = part.end;
    }
    return this.sql.slice(first.start, end);
  }

  /** Raw source text between a `(` just consumed and its matching `)`, which is consumed too. */
  parenthesisedText(): string {
    const openEnd = this.tokens[this.pos - 1].end;
    let depth = 1;
    while (!this.atEnd()) {
      const t = this.next();
      if (t.kind !== 'punct') continue;
      if (t.text === '(') depth++;
      else if (t.text === ')' && --depth === 0) return this.sql.slice(openEnd, t.start);
    }
    return this.fail();
  }

  /** `KEY [=] value` pairs until the end of the statement (or a closing `)` when nested). */
  options(nested = false): Options {
    const out: Options = new Map();
    while (!this.atEnd()) {
      if (nested && this.peek()!.kind === 'punct' && this.peek()!.text === ')') break;
      if (this.acceptPunct(',')) continue;
      const key = this.next();
      if (key.kind !== 'word') {
        this.pos--;
        this.fail();
      }
      this.acceptPunct('=');
      out.set(key.text.toUpperCase(), this.optionValue());
    }
    return out;
  }

  private optionValue(): OptionValue {
    if (this.acceptPunct('(')) {
      // A nested group holds `KEY = value`; a list holds bare values.
      const isGroup = this.peek()?.kind === 'word' && this.peek(1)?.kind === 'punct' && this.peek(1)!.text === '=';
      if (isGroup) {
        const options = this.options(true);
        this.expectPunct(')');
        return { kind: 'group', options };
      }
      const items: string[] = [];
      while (!this.acceptPunct(')')) {
        if (this.acceptPunct(',')) continue;
        const t = this.next();
        if (t.kind === 'punct') {
          this.pos--;
          this.fail();
        }
        items.push(t.text);
      }
      return { kind: 'list', items };
    }
    const t = this.next();
    if (t.kind === 'punct') {
      this.pos--;
      this.fail();
    }
    return { kind: 'scalar', text: t.text, literal: t.kind !== 'word' && t.kind !== 'number' };
  }
}
