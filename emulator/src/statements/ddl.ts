/**
 * DDL: CREATE and DROP of databases, schemas, tables (column list, AS SELECT, LIKE, CLONE; TEMPORARY
 * tables are dropped when their session ends) and views; CREATE/DROP of warehouses, roles and users
 * are accepted (user statements with options go to user-statements.ts first). Every DDL commits an
 * open transaction first, as in Snowflake. A table's COPY load history (stages.ts) belongs to the
 * table object: dropping or replacing it, its schema or its database forgets the history.
 */
import type { EngineContext, EngineStatement, StatementOutcome } from '../contract.js';
import { status } from '../columns.js';
import { SfErrors } from '../errors.js';
import type { Session } from '../session.js';
import { forgetLoadHistory } from '../stages.js';
import { listSchemas } from '../sql/metadata.js';
import {
  fromDuckdbName,
  identValue,
  isWord,
  quoteIdent,
  toDuckdbName,
  type Token,
  matchParen,
  splitTop,
} from '../sql/tokenizer.js';
import { translateTokens } from '../sql/translate.js';
import { parseType } from '../sql/types.js';
import { commit, ddl } from './transaction.js';

/** Tables (not views) of a database or schema, as [db, schema, table]: their load history goes when they do. */
async function tableNames(s: Session, db: string, schema?: string): Promise<[string, string, string][]> {
  const r = await s.conn.runAndReadAll(
    `SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 AND ($2 IS NULL OR schema_name = $2)`,
    [toDuckdbName(db), schema === undefined ? null : toDuckdbName(schema)],
  );
  return r
    .getRowsJS()
    .map((row) => [String(row[0]), String(row[1]), String(row[2])].map(fromDuckdbName) as [string, string, string]);
}

/** Drops the load history (stages.ts) of tables that no longer exist. */
async function forgetTables(e: EngineContext, tables: [string, string, string][]): Promise<void> {
  for (const [db, schema, table] of tables) await forgetLoadHistory(e.dataDir, db, schema, table);
}

/** `[db.]schema` at `sig[i]`; the database defaults to the session's (null when it has none). */
function schemaRef(s: Session, sig: Token[], i: number): { db: string | null; schema: string } {
  const parts = sig
    .slice(i)
    .filter((t) => t.text !== '.')
    .slice(0, 2)
    .map(identValue);
  return { db: parts.length === 2 ? parts[0] : s.database, schema: parts[parts.length - 1] };
}

/** Drops a schema with everything in it, and the load history of its tables. */
async function dropSchema(e: EngineContext, s: Session, db: string, schema: string): Promise<void> {
  const tables = await tableNames(s, db, schema);
  await ddl(e, s, `DROP SCHEMA ${quoteIdent(db)}.${quoteIdent(schema)} CASCADE`);
  e.catalog.schemaDropped(db, schema);
  await forgetTables(e, tables);
}

export const create: EngineStatement = async (e, s, sig) => {
  let i = 1;
  let orReplace = false;
  let temporary = false;
  if (isWord(sig[i], 'OR') && isWord(sig[i + 1], 'REPLACE')) {
    orReplace = true;
    i += 2;
  }
  while (isWord(sig[i], 'TEMPORARY', 'TEMP', 'TRANSIENT', 'LOCAL', 'GLOBAL', 'VOLATILE')) {
    if (isWord(sig[i], 'TEMPORARY', 'TEMP', 'LOCAL', 'GLOBAL', 'VOLATILE')) temporary = true;
    i++;
  }
  const what = sig[i]?.text.toUpperCase();
  i++;
  let ifNotExists = false;
  if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'NOT') && isWord(sig[i + 2], 'EXISTS')) {
    ifNotExists = true;
    i += 3;
  }
  switch (what) {
    case 'DATABASE': {
      const name = identValue(sig[i]);
      await commit(e, s);
      const replaced = orReplace && !ifNotExists && e.catalog.hasDatabase(name) ? await tableNames(s, name) : [];
      const created = await e.catalog.createDatabase(name, { ifNotExists, orReplace });
      await forgetTables(e, replaced);
      if (created) {
        s.database = name;
        s.schema = 'PUBLIC';
        await s.syncDuckdbPath();
        return status(`Database ${name} successfully created.`);
      }
      return status(`${name} already exists, statement succeeded.`);
    }
    case 'SCHEMA': {
      const { db, schema } = schemaRef(s, sig, i);
      if (!db) throw SfErrors.objectDoesNotExist(schema);
      e.requireDatabase(db);
      const exists = (await listSchemas(s.conn, db)).includes(schema);
      if (exists && ifNotExists) return status(`${schema} already exists, statement succeeded.`);
      if (exists && !orReplace) throw SfErrors.alreadyExists(schema);
      if (exists) await dropSchema(e, s, db, schema);
      await ddl(e, s, `CREATE SCHEMA ${quoteIdent(db)}.${quoteIdent(schema)}`);
      s.database = db;
      s.schema = schema;
      await s.syncDuckdbPath();
      return status(`Schema ${schema} successfully created.`);
    }
    case 'TABLE':
      return createTable(e, s, sig, i, { orReplace, temporary, ifNotExists });
    case 'VIEW':
    case 'SECURE':
    case 'MATERIALIZED': {
      if (what !== 'VIEW') i++;
      const { name, next } = e.resolve(s, sig, i);
      let k = next;
      while (k < sig.length && !isWord(sig[k], 'AS')) k++;
      const body = await e.translate(s, sig.slice(k + 1));
      await ddl(
        e,
        s,
        `CREATE ${orReplace ? 'OR REPLACE ' : ''}VIEW ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name.duckdbName} AS ${body}`,
      );
      e.catalog.tableCreated(name.database, name.schema, name.name, {});
      return status(`View ${name.name} successfully created.`);
    }
    case 'WAREHOUSE':
    case 'ROLE':
    case 'USER':
      return status('Statement executed successfully.');
    default:
      throw SfErrors.unsupported(`CREATE ${what ?? ''}`);
  }
};

async function createTable(
  e: EngineContext,
  s: Session,
  sig: Token[],
  i: number,
  o: { orReplace: boolean; temporary: boolean; ifNotExists: boolean },
): Promise<StatementOutcome> {
  const { name, next } = e.resolve(s, sig, i);
  e.requireDatabase(name.database);
  if (!(await listSchemas(s.conn, name.database)).includes(name.schema))
    throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}`);
  const exists = await e.tableExists(s, name);
  if (exists && o.ifNotExists) return status(`${name.name} already exists, statement succeeded.`);
  if (exists && !o.orReplace) throw SfErrors.alreadyExists(name.name);
  let k = next;
  const declared: Record<string, string> = {};
  let body: string;
  if (sig[k]?.text === '(') {
    const close = matchParen(sig, k);
    const defs: string[] = [];
    for (const def of splitTop(sig.slice(k + 1, close))) {
      if (def.length === 0) continue;
      if (isWord(def[0], 'PRIMARY', 'UNIQUE', 'FOREIGN', 'CONSTRAINT')) continue; // Snowflake does not enforce them.
      const col = identValue(def[0]);
      const type = parseType(def, 1);
      declared[col] = type.snowflake;
      defs.push(`${quoteIdent(col)} ${type.duckdb}${columnOptions(s, def.slice(type.next))}`);
    }
    body = `(${defs.join(', ')})`;
    k = close + 1;
    if (isWord(sig[k], 'AS')) throw SfErrors.unsupported('CREATE TABLE with both column definitions and AS SELECT');
  } else if (isWord(sig[k], 'AS')) {
    const q = sig.slice(k + 1);
    body = `AS ${await e.translate(s, q)}`;
  } else if (isWord(sig[k], 'LIKE', 'CLONE')) {
    const src = e.resolve(s, sig, k + 1).name;
    await e.requireTable(s, src);
    Object.assign(declared, e.catalog.tableMeta(src.database, src.schema, src.name)?.columns ?? {});
    body = `AS SELECT * FROM ${src.duckdbName}${isWord(sig[k], 'LIKE') ? ' LIMIT 0' : ''}`;
  } else {
    throw SfErrors.syntax(`unexpected '${sig[k]?.text ?? '<EOF>'}'.`);
  }
  await ddl(e, s, `CREATE ${o.orReplace ? 'OR REPLACE ' : ''}TABLE ${name.duckdbName} ${body}`);
  e.catalog.tableCreated(name.database, name.schema, name.name, declared, o.temporary ? s.id : undefined);
  // A new table object: its predecessor's load history (COPY INTO skips loaded files) is not its own.
  if (exists) await forgetLoadHistory(e.dataDir, name.database, name.schema, name.name);
  return status(`Table ${name.name} successfully created.`);
}

/** Column options after the type: NOT NULL, NULL, DEFAULT expr, COLLATE/COMMENT (dropped), PK/UNIQUE (not enforced). */
export function columnOptions(s: Session, rest: Token[]): string {
  const out: string[] = [];
  for (let k = 0; k < rest.length; k++) {
    const t = rest[k];
    if (isWord(t, 'NOT') && isWord(rest[k + 1], 'NULL')) {
      out.push('NOT NULL');
      k++;
    } else if (isWord(t, 'NULL')) continue;
    else if (isWord(t, 'PRIMARY', 'UNIQUE')) {
      if (isWord(rest[k + 1], 'KEY')) k++;
    } else if (isWord(t, 'COMMENT', 'COLLATE')) k++;
    else if (isWord(t, 'DEFAULT')) {
      let end = k + 1;
      while (end < rest.length && !isWord(rest[end], 'NOT', 'NULL', 'PRIMARY', 'UNIQUE', 'COMMENT', 'COLLATE')) end++;
      out.push(`DEFAULT ${translateTokens(rest.slice(k + 1, end), { database: s.database, schema: s.schema })}`);
      k = end - 1;
    } else if (isWord(t, 'AUTOINCREMENT', 'IDENTITY')) throw SfErrors.unsupported('AUTOINCREMENT/IDENTITY columns');
    else throw SfErrors.syntax(`unexpected '${t.text}'.`);
  }
  return out.length ? ` ${out.join(' ')}` : '';
}

export const drop: EngineStatement = async (e, s, sig) => {
  const what = sig[1]?.text.toUpperCase();
  let i = 2;
  let ifExists = false;
  if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'EXISTS')) {
    ifExists = true;
    i += 2;
  }
  switch (what) {
    case 'DATABASE': {
      const name = identValue(sig[i]);
      await commit(e, s);
      const tables = e.catalog.hasDatabase(name) ? await tableNames(s, name) : [];
      if (!(await e.catalog.dropDatabase(name, ifExists)))
        return status(`Drop statement executed successfully (${name} already dropped).`);
      await forgetTables(e, tables);
      if (s.database === name) {
        s.database = null;
        s.schema = null;
        await s.syncDuckdbPath();
      }
      return status(`${name} successfully dropped.`);
    }
    case 'SCHEMA': {
      const { db, schema } = schemaRef(s, sig, i);
      if (!db || !e.catalog.hasDatabase(db) || !(await listSchemas(s.conn, db)).includes(schema)) {
        if (ifExists) return status(`Drop statement executed successfully (${schema} already dropped).`);
        throw SfErrors.objectDoesNotExist(schema);
      }
      await dropSchema(e, s, db, schema);
      if (s.database === db && s.schema === schema) {
        s.schema = null;
        await s.syncDuckdbPath();
      }
      return status(`${schema} successfully dropped.`);
    }
    case 'TABLE':
    case 'VIEW': {
      const { name } = e.resolve(s, sig, i);
      if (!e.catalog.hasDatabase(name.database) || !(await e.tableExists(s, name))) {
        if (ifExists) return status(`Drop statement executed successfully (${name.name} already dropped).`);
        throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
      }
      await ddl(e, s, `DROP ${what} ${name.duckdbName}`);
      e.catalog.tableDropped(name.database, name.schema, name.name, true);
      if (what === 'TABLE') await forgetLoadHistory(e.dataDir, name.database, name.schema, name.name);
      return status(`${name.name} successfully dropped.`);
    }
    case 'WAREHOUSE':
    case 'ROLE':
    case 'USER':
      return status('Statement executed successfully.');
    default:
      throw SfErrors.unsupported(`DROP ${what ?? ''}`);
  }
};
