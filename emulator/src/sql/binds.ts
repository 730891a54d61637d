/**
 * Bind variables as the Snowflake drivers send them: `bindings: {"1": {type, value}, ...}` where `value`
 * is a string (or null), or an array of strings for array binds (one statement per row).
 * Binds become DuckDB literals in the token stream (`raw` tokens): positional `?` take the next
 * binding, `:n` take binding n.
 */
import { SfErrors } from '../errors.js';
import { isWord, quoteString, render, significant, stringValue, tokenize, type Token } from './tokenizer.js';

export interface Binding {
  type: string;
  value: string | null | (string | null)[];
}
export type Bindings = Record<string, Binding>;

/** Number of rows of an array bind (0 when no binding is an array). */
export function arrayBindRows(bindings: Bindings | undefined): number {
  if (!bindings) return 0;
  const first = Object.values(bindings).find((b) => Array.isArray(b.value));
  return first && Array.isArray(first.value) ? first.value.length : 0;
}

/**
 * The values of an array bind whose tuple (significant tokens, `( ?, ?, … )` or `( :1, :2, … )`)
 * holds bind markers only, each bound to TEXT values: one list per marker, in tuple order. Null when
 * the tuple holds anything else or a marker is bound to another type (its value would be a typed
 * literal, {@link substituteBinds}).
 */
export function textBindLists(tuple: Token[], bindings: Bindings): (string | null)[][] | null {
  if (tuple.length % 2 === 0 || tuple[0]?.text !== '(' || tuple[tuple.length - 1]?.text !== ')') return null;
  const lists: (string | null)[][] = [];
  let positional = 0;
  for (let k = 1; k < tuple.length - 1; k++) {
    const t = tuple[k];
    if (k % 2 === 0) {
      if (t.kind !== 'op' || t.text !== ',') return null;
      continue;
    }
    if (t.kind !== 'bind') return null;
    const b = bindings[t.text === '?' ? String(++positional) : t.text.slice(1)];
    if (!b || b.type.toUpperCase() !== 'TEXT' || !Array.isArray(b.value)) return null;
    lists.push(b.value);
  }
  return lists.length > 0 ? lists : null;
}

/** An integer count as a BigInt, or null when `value` is not an optionally signed integer. */
function integer(value: string): bigint | null {
  return /^[-+]?\d+$/.test(value.trim()) ? BigInt(value.trim()) : null;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` of an instant in epoch nanoseconds (DuckDB keeps microseconds). */
function timestampText(epochNs: bigint): string {
  const micros = epochNs / 1000n - (epochNs % 1000n < 0n ? 1n : 0n);
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const frac = String(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19).replace('T', ' ')}.${frac}`;
}

/**
 * A bind value as a DuckDB literal. Typed binds arrive as the drivers encode them (the Python
 * connector's converter, JDBC, Go): DATE in epoch milliseconds, TIME in nanoseconds since midnight,
 * TIMESTAMP_NTZ/LTZ in epoch nanoseconds, TIMESTAMP_TZ as `<epoch ns> <offset minutes + 1440>`,
 * BINARY in hex; a value that is not in that form is taken as text, which Snowflake then converts.
 */
function literal(type: string, value: string | null): string {
  if (value === null) return 'NULL';
  const t = type.toUpperCase();
  switch (t) {
    case 'FIXED':
    case 'REAL':
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return quoteString(value);
      return value;
    case 'BOOLEAN':
      return /^(true|1)$/i.test(value) ? 'TRUE' : 'FALSE';
    case 'BINARY':
      return /^([0-9a-fA-F]{2})*$/.test(value) ? `unhex(${quoteString(value)})` : quoteString(value);
    case 'DATE': {
      const ms = integer(value);
      return ms === null ? quoteString(value) : `DATE ${quoteString(timestampText(ms * 1_000_000n).slice(0, 10))}`;
    }
    case 'TIME': {
      const ns = integer(value);
      return ns === null ? quoteString(value) : `TIME ${quoteString(timestampText(ns).slice(11))}`;
    }
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ': {
      const ns = integer(value);
      if (ns === null) return quoteString(value);
      return t === 'TIMESTAMP_NTZ'
        ? `TIMESTAMP ${quoteString(timestampText(ns))}`
        : `TIMESTAMPTZ ${quoteString(`${timestampText(ns)}+00`)}`;
    }
    case 'TIMESTAMP_TZ': {
      const [nsText, offsetText] = value.trim().split(/\s+/);
      const ns = integer(nsText ?? '');
      if (ns === null) return quoteString(value);
      const minutes = offsetText === undefined ? 0 : Number(offsetText) - 1440;
      const wall = timestampText(ns + BigInt(minutes) * 60_000_000_000n);
      const sign = minutes < 0 ? '-' : '+';
      const abs = Math.abs(minutes);
      const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      return `__SF_TSTZ(${quoteString(`${wall} ${offset}`)})`;
    }
    default:
      return quoteString(value);
  }
}

/**
 * Replaces bind markers with literals for row `row` of the bindings (row is ignored for scalar
 * binds). Throws 001003 when a marker has no value, unless `unboundAsNull` (a describe-only request
 * asks for a statement's shape before its values are known).
 */
export function substituteBinds(
  tokens: Token[],
  bindings: Bindings | undefined,
  row = 0,
  unboundAsNull = false,
): Token[] {
  let positional = 0;
  return tokens.map((t) => {
    if (t.kind !== 'bind') return t;
    const index = t.text === '?' ? String(++positional) : t.text.slice(1);
    const b = bindings?.[index];
    if (!b && unboundAsNull) return { kind: 'raw', text: 'NULL' } satisfies Token;
    if (!b) throw SfErrors.syntax(`Bind variable ${t.text} not set.`);
    const v = Array.isArray(b.value) ? (b.value[row] ?? null) : b.value;
    return { kind: 'raw', text: literal(b.type, v) } satisfies Token;
  });
}

/**
 * `IDENTIFIER('name')` and `IDENTIFIER(?)` (binds already substituted): the call is replaced by the
 * name it holds, read as Snowflake reads identifiers (`t`, `s.t`, `"Mixed"`...). Other calls stay.
 */
export function expandIdentifierCalls(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const sig = significantFrom(tokens, k, 4);
    const arg = sig[2];
    if (
      isWord(tokens[k], 'IDENTIFIER') &&
      sig[1]?.text === '(' &&
      (arg?.kind === 'string' || (arg?.kind === 'raw' && /^'.*'$/s.test(arg.text))) &&
      sig[3]?.text === ')'
    ) {
      const name = arg.kind === 'string' ? stringValue(arg) : arg.text.slice(1, -1).replace(/''/g, "'");
      out.push(...significant(tokenize(name)));
      k = tokens.indexOf(sig[3]);
    } else out.push(tokens[k]);
  }
  return out;
}

/** Up to `n` significant tokens starting at `tokens[from]`. */
function significantFrom(tokens: Token[], from: number, n: number): Token[] {
  const out: Token[] = [];
  for (let k = from; k < tokens.length && out.length < n; k++) if (tokens[k].kind !== 'ws') out.push(tokens[k]);
  return out;
}

/**
 * The text a statement handler reads: the request's SQL, or, when it binds values or names an object with
 * `IDENTIFIER(...)` (write_pandas binds its stage and table names: `CREATE TEMP STAGE identifier(?)`,
 * `COPY INTO identifier(?) ... ON_ERROR=?`), the statement with binds substituted and identifiers expanded.
 */
export function handlerText(sqlText: string, statement: Token[], bindings: Bindings | undefined): string {
  const hasBinds = bindings !== undefined && statement.some((t) => t.kind === 'bind');
  if (!hasBinds && !statement.some((t) => isWord(t, 'IDENTIFIER'))) return sqlText;
  const expanded = expandIdentifierCalls(hasBinds ? substituteBinds(statement, bindings) : statement);
  // A bound string is a DuckDB literal ('' doubled); the handlers read Snowflake's, where a backslash escapes.
  return render(
    expanded.map((t) =>
      t.kind === 'raw' && /^'.*'$/s.test(t.text) ? { ...t, text: t.text.replace(/\\/g, '\\\\') } : t,
    ),
  );
}
