/**
 * Array binds (snowflake-sdk sends an array of values per bind marker, one element per row):
 * `INSERT … VALUES (?, …)` of text into text columns goes to DuckDB as list parameters
 * (dml.ts `insertTextLists`); any other INSERT … VALUES (one tuple) becomes one multi-row INSERT of
 * literals; any other statement runs once per row, in one transaction.
 */
import type { EngineContext, StatementOutcome } from '../contract.js';
import { isDml } from '../columns.js';
import type { Session } from '../session.js';
import { substituteBinds, textBindLists, type Bindings } from '../sql/binds.js';
import { isWord, significant, type Token, matchParen } from '../sql/tokenizer.js';
import { insertTextLists } from './dml.js';
import { begin, withTransaction } from './transaction.js';

/**
 * Runs `tokens` for the `rows` rows of `bindings`; `execute` runs one statement's tokens (binds
 * substituted) as the engine does. Returns the outcome of the INSERT, or of the last row's statement
 * with the DML counts summed. Throws what the statement throws.
 */
export async function executeArrayBind(
  e: EngineContext,
  s: Session,
  tokens: Token[],
  bindings: Bindings,
  rows: number,
  execute: (tokens: Token[]) => Promise<StatementOutcome>,
): Promise<StatementOutcome> {
  const sig = significant(tokens);
  const valuesAt = sig.findIndex((t) => isWord(t, 'VALUES'));
  if (
    isWord(sig[0], 'INSERT') &&
    valuesAt > 0 &&
    sig[valuesAt + 1]?.text === '(' &&
    matchParen(sig, valuesAt + 1) === sig.length - 1
  ) {
    const head = sig.slice(0, valuesAt + 1);
    const tuple = sig.slice(valuesAt + 1);
    const lists = head.some((t) => t.kind === 'bind' || isWord(t, 'IDENTIFIER'))
      ? null
      : textBindLists(tuple, bindings);
    if (lists) {
      // As the engine does before any INSERT: with AUTOCOMMIT off, DML opens a transaction.
      if (!s.autocommit && !s.inTransaction) await begin(s);
      const inserted = await insertTextLists(e, s, head, lists);
      if (inserted) return inserted;
    }
    const expanded: Token[] = [...head];
    for (let r = 0; r < rows; r++) {
      if (r > 0) expanded.push({ kind: 'op', text: ',' });
      expanded.push(...substituteBinds(tuple, bindings, r));
    }
    return execute(expanded);
  }
  return withTransaction(e, s, async () => {
    let last: StatementOutcome | null = null;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      last = await execute(substituteBinds(tokens, bindings, r));
      if (last.kind === 'rows' && isDml(last.statementTypeId)) total += Number(last.rows[0]?.[0] ?? 0);
    }
    if (last?.kind === 'rows' && isDml(last.statementTypeId))
      return { ...last, rows: [[String(total), ...last.rows[0].slice(1)]] };
    return last!;
  });
}
