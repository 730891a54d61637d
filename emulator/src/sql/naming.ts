/**
 * Result column names as Snowflake gives them: an unaliased expression in the outermost select
 * list is named after its own text, upper-cased (`count(*)` → `COUNT(*)`, `a+1` → `A+1`), where
 * DuckDB would invent its own (`count_star()`). This pass adds `AS "<name>"` to such items.
 */
import { isWord, quoteSnowflakeIdent, type Token, matchParen } from './tokenizer.js';

const END_OF_LIST = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'QUALIFY',
  'HAVING',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'MINUS',
  'WINDOW',
  'OFFSET',
  'FETCH',
  'INTO',
]);

/** Index (in `tokens`) of the next non-whitespace token at or after `i`. */
function skipWs(tokens: Token[], i: number): number {
  while (i < tokens.length && tokens[i].kind === 'ws') i++;
  return i;
}

/** Adds Snowflake-style aliases to the outermost select list. Tokens include whitespace. */
export function nameSelectList(tokens: Token[]): Token[] {
  let i = skipWs(tokens, 0);
  if (isWord(tokens[i], 'WITH')) {
    // Skip CTE definitions: name [(cols)] AS ( ... ) [, ...]
    i = skipWs(tokens, i + 1);
    if (isWord(tokens[i], 'RECURSIVE')) i = skipWs(tokens, i + 1);
    for (;;) {
      while (
        i < tokens.length &&
        !(tokens[i].kind === 'op' && tokens[i].text === '(' && isWord(prevSig(tokens, i), 'AS'))
      ) {
        if (tokens[i].kind === 'op' && tokens[i].text === '(') i = matchParen(tokens, i);
        i++;
      }
      if (i >= tokens.length) return tokens;
      i = skipWs(tokens, matchParen(tokens, i) + 1);
      if (tokens[i]?.text === ',') i = skipWs(tokens, i + 1);
      else break;
    }
  }
  if (!isWord(tokens[i], 'SELECT')) return tokens;
  let start = skipWs(tokens, i + 1);
  while (isWord(tokens[start], 'DISTINCT', 'ALL')) start = skipWs(tokens, start + 1);
  if (isWord(tokens[start], 'TOP')) start = skipWs(tokens, skipWs(tokens, start + 1) + 1);
  // Items: [start, end) split at top-level commas.
  const items: [number, number][] = [];
  let itemStart = start;
  let k = start;
  for (; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) {
      k = t.text === '(' ? matchParen(tokens, k) : closeBracket(tokens, k);
      continue;
    }
    if (t.kind === 'op' && t.text === ',') {
      items.push([itemStart, k]);
      itemStart = k + 1;
    } else if (t.kind === 'word' && END_OF_LIST.has(t.text.toUpperCase())) break;
    else if (t.kind === 'op' && t.text === ';') break;
  }
  items.push([itemStart, k]);
  const out = tokens.slice(0, start);
  items.forEach(([a, b], idx) => {
    const item = tokens.slice(a, b);
    out.push(...item);
    const sig = item.filter((t) => t.kind !== 'ws');
    if (needsName(sig)) {
      out.push(
        { kind: 'ws', text: ' ' },
        { kind: 'word', text: 'AS' },
        { kind: 'ws', text: ' ' },
        { kind: 'qident', text: quoteSnowflakeIdent(snowflakeName(item)) },
      );
    }
    if (idx < items.length - 1) out.push({ kind: 'op', text: ',' });
  });
  out.push(...tokens.slice(k));
  return out;
}

function closeBracket(tokens: Token[], open: number): number {
  for (let k = open; k < tokens.length; k++) if (tokens[k].text === ']') return k;
  return tokens.length - 1;
}

function prevSig(tokens: Token[], i: number): Token | undefined {
  for (let k = i - 1; k >= 0; k--) if (tokens[k].kind !== 'ws') return tokens[k];
  return undefined;
}

/** True for an expression without alias that is not a plain (qualified) column or `*`. */
function needsName(sig: Token[]): boolean {
  if (sig.length === 0) return false;
  const last = sig[sig.length - 1];
  const beforeLast = sig[sig.length - 2];
  // Explicit (`AS x`) or implicit (`expr x`) alias.
  const aliasable = last.kind === 'qident' || (last.kind === 'word' && !isKeywordTail(last));
  const afterOperand =
    isWord(beforeLast, 'AS') ||
    beforeLast?.kind === 'word' ||
    beforeLast?.kind === 'qident' ||
    beforeLast?.kind === 'string' ||
    beforeLast?.kind === 'number' ||
    (beforeLast?.kind === 'op' && beforeLast.text === ')');
  if (sig.length >= 2 && aliasable && afterOperand) return false;
  // a, t.a, "A", t.*, *
  const plain = sig.every((t, n) =>
    n % 2 === 0 ? t.kind === 'word' || t.kind === 'qident' || t.text === '*' : t.text === '.',
  );
  return !plain;
}

/** Words that end an expression rather than alias it (`CASE ... END`, `x IS NULL`). */
function isKeywordTail(t: Token): boolean {
  return isWord(
    t,
    'END',
    'NULL',
    'TRUE',
    'FALSE',
    'CURRENT_TIMESTAMP',
    'CURRENT_DATE',
    'CURRENT_TIME',
    'LOCALTIMESTAMP',
    'SYSDATE',
  );
}

/** Snowflake's name for an expression: its text, upper-cased outside quoted identifiers. */
function snowflakeName(item: Token[]): string {
  return item
    .map((t) => (t.kind === 'qident' ? t.text.slice(1, -1) : t.kind === 'ws' ? ' ' : t.text.toUpperCase()))
    .join('')
    .trim();
}
