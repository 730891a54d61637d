/**
 * Operand rewrites the translator applies to its output elements once a statement is translated
 * (src/sql/translate.ts): comparisons with a TIMESTAMP_TZ operand compare instants, and text operands
 * of arithmetic (and of comparisons with numbers) become numbers, as Snowflake coerces them. An operand
 * is the primary next to the operator: one element (a name, literal or call) or a parenthesised group.
 */
import { quoteString } from './tokenizer.js';

/** What the translator knows of a column's type: text (VARCHAR) or a number. */
export type ColumnKind = 'text' | 'number';

const COMPARISONS = new Set(['=', '==', '<>', '!=', '<', '<=', '>', '>=']);
/** Output elements that end (or start) an operand: anything else next to an operator is not a primary we can wrap. */
const NOT_OPERAND =
  /^(,|\(|\)|[-+*/%|<>=!]+|AND|OR|NOT|WHERE|ON|WHEN|THEN|ELSE|AND|HAVING|SELECT|BY|IS|IN|BETWEEN|LIKE)$/i;

/** Index range [start, end] of the operand ending at `end` (a primary, or a parenthesised group). */
function operandBefore(out: string[], end: number): number | null {
  if (end < 0) return null;
  if (out[end] === ')') {
    let depth = 0;
    for (let k = end; k >= 0; k--) {
      if (out[k] === ')') depth++;
      else if (out[k] === '(') depth--;
      if (depth === 0) return k > 0 && /^[A-Za-z_]/.test(out[k - 1]) && !NOT_OPERAND.test(out[k - 1]) ? null : k;
    }
    return null;
  }
  return NOT_OPERAND.test(out[end]) ? null : end;
}

function operandAfter(out: string[], start: number): number | null {
  if (start >= out.length) return null;
  if (out[start] === '(') {
    let depth = 0;
    for (let k = start; k < out.length; k++) {
      if (out[k] === '(') depth++;
      else if (out[k] === ')') depth--;
      if (depth === 0) return k;
    }
    return null;
  }
  return NOT_OPERAND.test(out[start]) ? null : start;
}

/**
 * Rewrites comparisons with a TIMESTAMP_TZ operand to compare instants (`__SF_INSTANT` on both
 * sides): Snowflake compares TIMESTAMP_TZ with TZ/LTZ/NTZ values and literals by instant, while
 * DuckDB would compare the struct field by field (or refuse to compare it with a timestamp).
 */
export function compareInstants(out: string[], tz: boolean[], kinds: (ColumnKind | null)[]): void {
  const wrap = (a: number, b: number) => {
    out[a] = `__SF_INSTANT(${out.slice(a, b + 1).join(' ')})`;
    for (let k = a + 1; k <= b; k++) out[k] = '';
  };
  const isTz = (a: number, b: number) => tz.slice(a, b + 1).some(Boolean);
  // `UPDATE .. SET col = v, ..` / `THEN UPDATE SET ..`: an `=` right after SET or a SET-list comma is an assignment.
  let inSet = false;
  let depth = 0;
  for (let k = 1; k < out.length - 1; k++) {
    const op = out[k].toUpperCase();
    if (out[k] === '(') depth++;
    else if (out[k] === ')') depth--;
    if (op === 'SET' && depth === 0) inSet = true;
    else if (depth === 0 && (op === 'FROM' || op === 'WHERE' || op === 'WHEN')) inSet = false;
    if (COMPARISONS.has(op)) {
      const a = operandBefore(out, k - 1);
      const b = operandAfter(out, k + 1);
      if (a === null || b === null) continue;
      if (op === '=' && inSet && depth === 0 && (out[a - 1] === ',' || out[a - 1]?.toUpperCase() === 'SET')) continue;
      if (a === k - 1 && b === k + 1) compareTextWithNumber(out, kinds, a, b);
      if (!(isTz(a, k - 1) || isTz(k + 1, b))) continue;
      wrap(k + 1, b);
      wrap(a, k - 1);
    } else if (op === 'BETWEEN') {
      const a = operandBefore(out, k - 1);
      const lo = operandAfter(out, k + 1);
      if (a === null || lo === null || out[lo + 1]?.toUpperCase() !== 'AND') continue;
      const hi = operandAfter(out, lo + 2);
      if (hi === null) continue;
      if (a === k - 1 && lo === k + 1) compareTextWithNumber(out, kinds, a, lo);
      if (a === k - 1 && hi === lo + 2) compareTextWithNumber(out, kinds, a, hi);
      if (!(isTz(a, k - 1) || isTz(k + 1, lo) || isTz(lo + 2, hi))) continue;
      wrap(lo + 2, hi);
      wrap(k + 1, lo);
      wrap(a, k - 1);
    }
  }
  for (let k = out.length - 1; k >= 0; k--) if (out[k] === '') out.splice(k, 1);
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
/** A whole string literal as the translator emits it. */
const STRING_LITERAL = /^'((?:[^']|'')*)'$/s;
/** Words that make the string literal after them a typed literal (`DATE '2024-01-01'`), not text. */
const TYPED_LITERAL = /^(DATE|TIME|TIMESTAMP\w*|INTERVAL)$/i;
/** Text that spells a fixed-point number (anything else, exponents included, is cast to DOUBLE). */
const DECIMAL_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)$/;

/**
 * Makes the text operands of arithmetic operators numbers (see the module comment): a string literal
 * becomes the numeric literal it spells (DuckDB types `12` INTEGER and `1.5` DECIMAL(2,1), as Snowflake
 * types the number), a text column (flagged in `text`) a DOUBLE. A literal that spells no number is cast,
 * so the statement fails on it as Snowflake's does. Only a single-element operand is converted.
 */
export function coerceArithmetic(out: string[], kinds: (ColumnKind | null)[]): void {
  for (let k = 1; k < out.length - 1; k++) {
    if (!ARITHMETIC.has(out[k]) || operandBefore(out, k - 1) !== k - 1 || operandAfter(out, k + 1) !== k + 1) continue;
    coerceOperand(out, kinds, k - 1);
    coerceOperand(out, kinds, k + 1);
  }
}

/** `out[k]` as a number when it is a (not typed) string literal or a text column ({@link coerceArithmetic}). */
export function coerceOperand(out: string[], kinds: (ColumnKind | null)[], k: number): void {
  const literal = STRING_LITERAL.exec(out[k]);
  if (literal && !TYPED_LITERAL.test(out[k - 1] ?? '')) {
    const value = literal[1].replace(/''/g, "'").trim();
    out[k] = DECIMAL_TEXT.test(value) ? value.replace(/^\+/, '') : `CAST(${quoteString(value)} AS DOUBLE)`;
  } else if (kinds[k] === 'text') out[k] = `CAST(${out[k]} AS DOUBLE)`;
}

/** A text column compared with a number literal or a number column (single-element operands `a`, `b`) is read as FLOAT. */
function compareTextWithNumber(out: string[], kinds: (ColumnKind | null)[], a: number, b: number): void {
  const isNumber = (k: number) => kinds[k] === 'number' || /^[-+]?(\d|\.\d)/.test(out[k]);
  for (const [text, other] of [
    [a, b],
    [b, a],
  ])
    if (kinds[text] === 'text' && isNumber(other)) {
      out[text] = `CAST(${out[text]} AS DOUBLE)`;
      kinds[text] = 'number';
    }
}
