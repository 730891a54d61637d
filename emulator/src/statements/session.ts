/**
 * Session statements: USE, BEGIN/START TRANSACTION, COMMIT, ROLLBACK/ABORT, ALTER SESSION (and ALTER
 * of warehouses, users and the account, accepted), GRANT/REVOKE (accepted: every user acts as
 * ACCOUNTADMIN); ALTER TABLE goes to alter-table.ts.
 */
import type { EngineStatement } from '../contract.js';
import { StatementType, status } from '../columns.js';
import { SfErrors } from '../errors.js';
import { listSchemas } from '../sql/metadata.js';
import { identValue, isWord, stringValue, type Token } from '../sql/tokenizer.js';
import { alterTable } from './alter-table.js';
import { begin, commit, rollback } from './transaction.js';

const DONE = 'Statement executed successfully.';

/** `USE [DATABASE|SCHEMA] name`; `USE WAREHOUSE|ROLE|SECONDARY ROLES` are accepted and change nothing. */
export const use: EngineStatement = async (e, s, sig) => {
  let i = 1;
  let kind = 'DATABASE';
  if (isWord(sig[1], 'DATABASE', 'SCHEMA', 'WAREHOUSE', 'ROLE', 'SECONDARY')) {
    kind = sig[1].text.toUpperCase();
    i = 2;
  }
  if (kind === 'WAREHOUSE' || kind === 'ROLE' || kind === 'SECONDARY') return status(DONE, StatementType.SESSION);
  const parts = sig
    .slice(i)
    .filter((t) => t.text !== '.')
    .map(identValue);
  if (kind === 'DATABASE' && parts.length === 1) {
    e.requireDatabase(parts[0]);
    s.database = parts[0];
    s.schema = (await listSchemas(s.conn, parts[0])).includes('PUBLIC') ? 'PUBLIC' : null;
  } else {
    const db = parts.length === 2 ? parts[0] : s.database;
    const schema = parts[parts.length - 1];
    if (!db) throw SfErrors.objectDoesNotExist(schema);
    e.requireDatabase(db);
    if (!(await listSchemas(s.conn, db)).includes(schema)) throw SfErrors.objectDoesNotExist(`${db}.${schema}`);
    s.database = db;
    s.schema = schema;
  }
  await s.syncDuckdbPath();
  return status(DONE, StatementType.SESSION);
};

/** BEGIN / START TRANSACTION, COMMIT, ROLLBACK / ABORT. */
export const transaction: EngineStatement = async (e, s, sig) => {
  const verb = sig[0].text.toUpperCase();
  if (verb === 'BEGIN' || verb === 'START') await begin(s);
  else if (verb === 'COMMIT') await commit(e, s);
  else await rollback(s);
  return status(DONE, StatementType.TRANSACTION);
};

/**
 * ALTER SESSION SET / UNSET: AUTOCOMMIT changes the session (turning it on commits an open
 * transaction); every other parameter is accepted and ignored (the session stays in UTC, README).
 * ALTER WAREHOUSE / USER / ACCOUNT are accepted; ALTER TABLE is alter-table.ts; 002040 for other objects.
 */
export const alter: EngineStatement = async (e, s, sig) => {
  const what = sig[1]?.kind === 'word' ? sig[1].text.toUpperCase() : '';
  if (what === 'SESSION') {
    const autocommit = autocommitSetting(sig);
    if (autocommit !== undefined) {
      if (autocommit && !s.autocommit) await commit(e, s);
      s.autocommit = autocommit;
    }
    return status(DONE, StatementType.SESSION);
  }
  if (what === 'WAREHOUSE' || what === 'USER' || what === 'ACCOUNT') return status(DONE, StatementType.SESSION);
  if (what === 'TABLE') return alterTable(e, s, sig);
  throw SfErrors.unsupported(`ALTER ${what}`);
};

/** GRANT / REVOKE: accepted, as every user acts as ACCOUNTADMIN. */
export const grant: EngineStatement = async () => status(DONE);

/** The AUTOCOMMIT value an ALTER SESSION statement sets (UNSET: the default, true), or undefined. */
function autocommitSetting(sig: Token[]): boolean | undefined {
  const at = sig.findIndex((t) => isWord(t, 'AUTOCOMMIT'));
  if (at < 0) return undefined;
  if (isWord(sig[2], 'UNSET')) return true;
  const value = sig[sig[at + 1]?.text === '=' ? at + 2 : at + 1];
  return parameterBoolean(value?.kind === 'string' ? stringValue(value) : (value?.text ?? ''));
}

/** A boolean parameter value as Snowflake reads it (TRUE/FALSE, 'true', 1/0). */
export function parameterBoolean(text: string): boolean {
  return /^(true|1|on|yes)$/i.test(text.trim());
}
