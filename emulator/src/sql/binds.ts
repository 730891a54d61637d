/**
 * Bind variables as snowflake-sdk sends them: `bindings: {"1": {type, value}, ...}` where `value`
 * is a string (or null), or an array of strings for array binds (one statement per row).
 * Binds become DuckDB literals in the token stream (`raw` tokens): positional `?` take the next
 * binding, `:n` take binding n.
 */
import { SfErrors } from '../errors.js';
import { quoteString, type Token } from './tokenizer.js';

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

function literal(type: string, value: string | null): string {
  if (value === null) return 'NULL';
  switch (type.toUpperCase()) {
    case 'FIXED':
    case 'REAL':
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return quoteString(value);
      return value;
    case 'BOOLEAN':
      return /^(true|1)$/i.test(value) ? 'TRUE' : 'FALSE';
    default:
      return quoteString(value);
  }
}

/**
 * Replaces bind markers with literals for row `row` of the bindings (row is ignored for scalar
 * binds). Throws 001003 when a marker has no value.
 */
export function substituteBinds(tokens: Token[], bindings: Bindings | undefined, row = 0): Token[] {
  let positional = 0;
  return tokens.map((t) => {
    if (t.kind !== 'bind') return t;
    const index = t.text === '?' ? String(++positional) : t.text.slice(1);
    const b = bindings?.[index];
    if (!b) throw SfErrors.syntax(`Bind variable ${t.text} not set.`);
    const v = Array.isArray(b.value) ? (b.value[row] ?? null) : b.value;
    return { kind: 'raw', text: literal(b.type, v) } satisfies Token;
  });
}
