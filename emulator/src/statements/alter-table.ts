/**
 * ALTER TABLE [IF EXISTS] t: ADD [COLUMN] [IF NOT EXISTS] defs, DROP [COLUMN] cols, RENAME COLUMN a TO
 * b, RENAME TO t2 (same schema), SWAP WITH t2 (same schema, atomic), ALTER/MODIFY [COLUMN] c SET/DROP
 * NOT NULL or [SET DATA] TYPE; SET/UNSET/CLUSTER BY are accepted and change nothing. Each is DDL:
 * an open transaction is committed first.
 */
import { randomBytes } from 'node:crypto';
import type { EngineStatement } from '../contract.js';
import { status } from '../columns.js';
import { SfErrors } from '../errors.js';
import { identValue, isWord, quoteIdent, splitTop } from '../sql/tokenizer.js';
import { parseType } from '../sql/types.js';
import { columnOptions } from './ddl.js';
import { commit, ddl } from './transaction.js';

/** The intermediate table of SWAP WITH: a per-process counter + random suffix (never reused, even within a millisecond). */
let swapCounter = 0;

export const alterTable: EngineStatement = async (e, s, sig) => {
  let i = 2;
  let ifExists = false;
  if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'EXISTS')) {
    ifExists = true;
    i += 2;
  }
  const { name, next } = e.resolve(s, sig, i);
  if (!(await e.tableExists(s, name))) {
    if (ifExists) return status('Statement executed successfully.');
    throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
  }
  let k = next;
  const action = sig[k]?.text.toUpperCase();
  if (action === 'ADD') {
    k++;
    if (isWord(sig[k], 'COLUMN')) k++;
    let ine = false;
    if (isWord(sig[k], 'IF') && isWord(sig[k + 1], 'NOT') && isWord(sig[k + 2], 'EXISTS')) {
      ine = true;
      k += 3;
    }
    for (const def of splitTop(sig.slice(k))) {
      const col = identValue(def[0]);
      const type = parseType(def, 1);
      await ddl(
        e,
        s,
        `ALTER TABLE ${name.duckdbName} ADD COLUMN ${ine ? 'IF NOT EXISTS ' : ''}${quoteIdent(col)} ${type.duckdb}${columnOptions(s, def.slice(type.next))}`,
      );
      e.catalog.setColumnType(name.database, name.schema, name.name, col, type.snowflake);
    }
  } else if (action === 'DROP') {
    k++;
    if (isWord(sig[k], 'COLUMN')) k++;
    for (const part of splitTop(sig.slice(k))) {
      const col = identValue(part[0]);
      await ddl(e, s, `ALTER TABLE ${name.duckdbName} DROP COLUMN ${quoteIdent(col)}`);
      e.catalog.setColumnType(name.database, name.schema, name.name, col, null);
    }
  } else if (action === 'RENAME' && isWord(sig[k + 1], 'COLUMN')) {
    const from = identValue(sig[k + 2]);
    const to = identValue(sig[k + 4]);
    await ddl(e, s, `ALTER TABLE ${name.duckdbName} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`);
    e.catalog.renameColumn(name.database, name.schema, name.name, from, to);
  } else if (action === 'RENAME' && isWord(sig[k + 1], 'TO')) {
    const target = e.resolve(s, sig, k + 2).name;
    if (target.database !== name.database || target.schema !== name.schema)
      throw SfErrors.unsupported('ALTER TABLE RENAME across schemas');
    await ddl(e, s, `ALTER TABLE ${name.duckdbName} RENAME TO ${quoteIdent(target.name)}`);
    e.catalog.renameTable(name.database, name.schema, name.name, target.database, target.schema, target.name);
    return status('Statement executed successfully.');
  } else if (action === 'SWAP' && isWord(sig[k + 1], 'WITH')) {
    const other = e.resolve(s, sig, k + 2).name;
    if (other.database !== name.database || other.schema !== name.schema)
      throw SfErrors.unsupported('ALTER TABLE SWAP across schemas');
    await e.requireTable(s, other);
    const tmp = `__swap_${++swapCounter}_${randomBytes(6).toString('hex')}`;
    await commit(e, s);
    await s.conn.run('BEGIN TRANSACTION');
    try {
      await s.conn.run(`ALTER TABLE ${name.duckdbName} RENAME TO ${quoteIdent(tmp)}`);
      await s.conn.run(`ALTER TABLE ${other.duckdbName} RENAME TO ${quoteIdent(name.name)}`);
      await s.conn.run(
        `ALTER TABLE ${quoteIdent(name.database)}.${quoteIdent(name.schema)}.${quoteIdent(tmp)} RENAME TO ${quoteIdent(other.name)}`,
      );
      await s.conn.run('COMMIT');
    } catch (e) {
      await s.conn.run('ROLLBACK');
      throw e;
    }
    e.catalog.renameTable(name.database, name.schema, name.name, name.database, name.schema, tmp);
    e.catalog.renameTable(other.database, other.schema, other.name, name.database, name.schema, name.name);
    e.catalog.renameTable(name.database, name.schema, tmp, other.database, other.schema, other.name);
    return status('Statement executed successfully.');
  } else if (action === 'ALTER' || action === 'MODIFY') {
    k++;
    if (isWord(sig[k], 'COLUMN')) k++;
    const col = identValue(sig[k]);
    const rest = sig.slice(k + 1);
    if (isWord(rest[0], 'SET') && isWord(rest[1], 'NOT'))
      await ddl(e, s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} SET NOT NULL`);
    else if (isWord(rest[0], 'DROP') && isWord(rest[1], 'NOT'))
      await ddl(e, s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} DROP NOT NULL`);
    else {
      const at = isWord(rest[0], 'SET') && isWord(rest[1], 'DATA') ? 3 : isWord(rest[0], 'TYPE') ? 1 : 0;
      const type = parseType(rest, at);
      await ddl(e, s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} TYPE ${type.duckdb}`);
      e.catalog.setColumnType(name.database, name.schema, name.name, col, type.snowflake);
    }
  } else if (action === 'SET' || action === 'UNSET' || action === 'CLUSTER') {
    return status('Statement executed successfully.');
  } else {
    throw SfErrors.unsupported(`ALTER TABLE ... ${action ?? ''}`);
  }
  e.catalog.altered(name.database, name.schema, name.name);
  return status('Statement executed successfully.');
};
