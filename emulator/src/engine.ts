/**
 * The SQL engine: one Snowflake statement → a {@link StatementOutcome}.
 *
 * Order of dispatch: the statement handlers given at construction (stages.ts: stages, PUT/GET, LIST,
 * REMOVE, COPY INTO; user-statements.ts: users) first; then the engine's own statement families,
 * chosen by the first keyword (statements/*.ts): session and transaction (USE, BEGIN/COMMIT/ROLLBACK,
 * ALTER SESSION), DDL (databases, schemas, tables, views), ALTER TABLE, DML (INSERT/UPDATE/DELETE/
 * TRUNCATE with Snowflake's count columns), MERGE, SHOW/DESC; and queries, which are translated
 * (sql/translate.ts) and streamed by the server. DuckDB errors are mapped to Snowflake codes
 * ({@link toSnowflakeError}).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type {
  EngineContext,
  EngineStatement,
  ResolvedName,
  RowTypeColumn,
  StatementContext,
  StatementHandler,
  StatementOutcome,
} from './contract.js';
import { StatementType } from './columns.js';
import { SfErrors, SnowflakeError, toSnowflakeError } from './errors.js';
import type { Catalog } from './catalog.js';
import { Session } from './session.js';
import { columnKinds, namedTableColumns, tzColumnNames } from './statement-columns.js';
import { forgetLoadHistory } from './stages.js';
import { inferSchemaRelation } from './infer-schema.js';
import { rowTypeOf } from './encode.js';
import { arrayBindRows, expandIdentifierCalls, handlerText, substituteBinds, type Bindings } from './sql/binds.js';
import { infoSchemaQuery, listSchemas, readsTableSizes } from './sql/metadata.js';
import { nameSelectList } from './sql/naming.js';
import {
  fromDuckdbName,
  identValue,
  isWord,
  quoteIdent,
  render,
  significant,
  splitStatements,
  tokenize,
  type Token,
  matchParen,
} from './sql/tokenizer.js';
import type { RelationRef } from './sql/sandbox.js';
import { translateTokens, type TranslateEnv } from './sql/translate.js';
import { create, drop } from './statements/ddl.js';
import { executeArrayBind } from './statements/array-bind.js';
import { deleteFrom, insert, truncate, update } from './statements/dml.js';
import { merge } from './statements/merge.js';
import { describeTable, show } from './statements/show.js';
import { alter, grant, transaction, use } from './statements/session.js';
import { begin } from './statements/transaction.js';

/** The engine's statement families by first keyword; queries and the refused kinds are handled apart. */
const FAMILIES: Record<string, EngineStatement> = {
  USE: use,
  BEGIN: transaction,
  START: transaction,
  COMMIT: transaction,
  ROLLBACK: transaction,
  ABORT: transaction,
  ALTER: alter,
  GRANT: grant,
  REVOKE: grant,
  CREATE: create,
  DROP: drop,
  TRUNCATE: truncate,
  INSERT: insert,
  UPDATE: update,
  DELETE: deleteFrom,
  MERGE: merge,
  SHOW: show,
  DESC: describeTable,
  DESCRIBE: describeTable,
};

/** First keywords of queries, which the engine translates and the server streams. */
const QUERY = new Set(['SELECT', 'WITH', '(', 'VALUES']);

/** Statements that start a transaction when AUTOCOMMIT is off and none is open (queries and DML). */
const IMPLICIT_TRANSACTION = new Set([...QUERY, 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE']);

/** The first keyword of a statement, upper-cased (or its first token when that is not a word). */
function firstWord(sig: Token[]): string | undefined {
  return sig[0]?.kind === 'word' ? sig[0].text.toUpperCase() : sig[0]?.text;
}

/** Families that change relations (the relation index is rebuilt when one fails). */
const DDL = new Set(['CREATE', 'DROP', 'ALTER']);

/** Snowflake statements the emulator does not have (002040). */
const UNSUPPORTED = new Set(['SET', 'UNSET', 'CALL', 'EXPLAIN']);

export class Engine implements EngineContext {
  constructor(
    readonly catalog: Catalog,
    readonly dataDir: string,
    private readonly stageHandler: StatementHandler | null,
  ) {}

  /** Opens a session; `database`/`schema` come from the login request (unknown names are ignored, as Snowflake does). */
  async openSession(id: string, database?: string | null, schema?: string | null): Promise<Session> {
    const s = new Session(id, await this.catalog.connect());
    if (database) {
      const db = foldName(database);
      if (this.catalog.hasDatabase(db)) {
        s.database = db;
        const sch = schema ? foldName(schema) : 'PUBLIC';
        if ((await listSchemas(s.conn, db)).includes(sch)) s.schema = sch;
      }
    }
    await s.syncDuckdbPath();
    return s;
  }

  /** Ends a session: rolls back its transaction, drops its TEMPORARY tables, closes its connection. */
  async closeSession(s: Session): Promise<void> {
    if (s.inTransaction) await s.conn.run('ROLLBACK').catch(() => undefined);
    for (const [db, schema, table] of this.catalog.sessionTables(s.id)) {
      const committed = await s.conn
        .run(`DROP TABLE IF EXISTS ${quoteIdent(db)}.${quoteIdent(schema)}.${quoteIdent(table)}`)
        .then(
          () => true,
          () => false,
        );
      this.catalog.tableDropped(db, schema, table, committed);
      await forgetLoadHistory(this.dataDir, db, schema, table).catch(() => undefined);
    }
    s.conn.closeSync();
  }

  /** The handler context for a session (contract.ts). */
  context(s: Session): StatementContext {
    return {
      session: s,
      dataDir: this.dataDir,
      translateQuery: async (sql) => this.translate(s, tokenize(sql)),
      describe: (duckdbSql) => this.describe(s.conn, duckdbSql),
      resolveName: (name) => {
        const toks = significant(tokenize(name));
        const r = this.resolve(s, toks, 0);
        if (r.next !== toks.length) throw SfErrors.syntax(`unexpected '${toks[r.next].text}'.`);
        return r.name;
      },
      touchTable: async (db, schema, table) => this.touch(s, db, schema, table),
    };
  }

  /** Snowflake rowtype of a DuckDB query (prepared, not run). */
  async describe(conn: DuckDBConnection, duckdbSql: string): Promise<RowTypeColumn[]> {
    const p = await conn.prepare(duckdbSql);
    try {
      return Array.from({ length: p.columnCount }, (_, k) =>
        rowTypeOf(fromDuckdbName(p.columnName(k)), p.columnType(k)),
      );
    } finally {
      p.destroySync();
    }
  }

  /**
   * Translates a Snowflake statement for the session, with the INFORMATION_SCHEMA views it names.
   * Every table or view it reads must exist in a Snowflake database of the catalog (002003
   * otherwise): DuckDB never sees a name it could not find, which it would try as a file path
   * (a replacement scan) or look up in its own `system`/`temp` catalogs.
   */
  async translate(s: Session, tokens: Token[]): Promise<string> {
    const info = await this.prepareInfoSchema(s, significant(tokens));
    const inferred = await this.prepareInferSchema(s, significant(tokens));
    const relations: RelationRef[] = [];
    const env: TranslateEnv = {
      database: s.database,
      schema: s.schema,
      infoSchema: (db, view) => info.get(`${db}.${view}`),
      tzColumns: s.tzColumns,
      columnKinds: columnKinds(s.namedColumns),
      user: s.user,
      lastQueryId: (n) => s.history.lastQueryId(n),
      resultScan: (queryId) => s.history.relation(queryId),
      inferSchema: (args) => inferred.get(argumentsKey(args)),
      relations,
    };
    const sql = translateTokens(nameSelectList(tokens), env);
    for (const { parts } of relations) {
      if (parts.length > 3) throw SfErrors.syntax(`unexpected '.'.`);
      await this.requireTable(s, this.resolveParts(s, parts));
    }
    return sql;
  }

  /**
   * Builds the INFORMATION_SCHEMA subqueries a statement refers to, by `<db>.<view>`; tables are counted only
   * for a statement that may read their sizes.
   */
  private async prepareInfoSchema(s: Session, sig: Token[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let sizes: boolean | undefined;
    for (let k = 0; k < sig.length; k++) {
      if (!(isWord(sig[k], 'INFORMATION_SCHEMA') && sig[k + 1]?.text === '.' && sig[k + 2])) continue;
      const view = identValue(sig[k + 2]);
      const db = sig[k - 1]?.text === '.' && sig[k - 2] ? identValue(sig[k - 2]) : s.database;
      if (!db) continue;
      this.requireDatabase(db);
      sizes ??= readsTableSizes(sig);
      const sub = await infoSchemaQuery(s.conn, this.catalog, db, view, sizes);
      if (!sub) throw SfErrors.objectDoesNotExist(`${db}.INFORMATION_SCHEMA.${view}`);
      out.set(`${db}.${view}`, sub);
    }
    return out;
  }

  /** Runs the INFER_SCHEMA calls a statement makes (they read staged files), by {@link argumentsKey} of their arguments. */
  private async prepareInferSchema(s: Session, sig: Token[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let k = 0; k < sig.length; k++) {
      if (!(isWord(sig[k], 'INFER_SCHEMA') && sig[k + 1]?.text === '(')) continue;
      const args = sig.slice(k + 2, matchParen(sig, k + 1));
      out.set(argumentsKey(args), await inferSchemaRelation(this.context(s), args));
    }
    return out;
  }

  touch(s: Session, db: string, schema: string, table: string): void {
    if (s.inTransaction) s.pendingTouches.set(`${db}.${schema}.${table}`, [db, schema, table]);
    else this.catalog.touch(db, schema, table);
  }

  /**
   * Executes one request's SQL (one statement; a trailing `;` is fine). Throws SnowflakeError.
   */
  async execute(s: Session, sqlText: string, bindings?: Bindings): Promise<StatementOutcome> {
    s.lastUsed = Date.now();
    try {
      s.namedColumns = await namedTableColumns(this.catalog, sqlText);
      s.tzColumns = tzColumnNames(s.namedColumns);
      const statement = this.oneStatement(sqlText);
      const rows = arrayBindRows(bindings);
      if (this.stageHandler && rows === 0) {
        const staged = await this.stageHandler(handlerText(sqlText, statement, bindings), this.context(s));
        if (staged) return staged;
      }
      if (rows > 0) return await executeArrayBind(this, s, statement, bindings!, rows, (t) => this.executeTokens(s, t));
      return await this.executeTokens(s, substituteBinds(statement, bindings));
    } catch (e) {
      throw toSnowflakeError(e);
    }
  }

  /**
   * A describe-only request: the statement's shape without running it. Bind markers without a value
   * read as NULL; a query answers its rowtype (the server prepares it), SHOW/DESC (which change
   * nothing) their result, any other statement an empty result of its statement type. Throws SnowflakeError.
   */
  async describeOnly(s: Session, sqlText: string, bindings?: Bindings): Promise<StatementOutcome> {
    try {
      s.namedColumns = await namedTableColumns(this.catalog, sqlText);
      s.tzColumns = tzColumnNames(s.namedColumns);
      const tokens = expandIdentifierCalls(substituteBinds(this.oneStatement(sqlText), bindings, 0, true));
      const w0 = firstWord(significant(tokens));
      if (w0 === 'SHOW' || w0 === 'DESC' || w0 === 'DESCRIBE') return await this.executeTokens(s, tokens);
      if (w0 !== undefined && QUERY.has(w0))
        return { kind: 'query', duckdbSql: await this.translate(s, tokens), statementTypeId: StatementType.SELECT };
      const type = w0 === undefined ? undefined : StatementType[w0 as keyof typeof StatementType];
      return { kind: 'rows', columns: [], rows: [], statementTypeId: type ?? StatementType.DDL };
    } catch (e) {
      throw toSnowflakeError(e);
    }
  }

  /** The texts of the statements of a multi-statement request, in order (`;` separators dropped). */
  statementTexts(sqlText: string): string[] {
    return splitStatements(tokenize(sqlText)).map((t) => render(t).trim());
  }

  /** The one statement of a request (a trailing `;` is fine); 000008 when there are more. */
  private oneStatement(sqlText: string): Token[] {
    const statements = splitStatements(tokenize(sqlText));
    if (statements.length === 0) throw SfErrors.syntax(`line 1 at position 0 unexpected '<EOF>'.`);
    if (statements.length > 1) {
      throw new SnowflakeError(
        '000008',
        '0A000',
        `Actual statement count ${statements.length} did not match the desired statement count 1.`,
      );
    }
    return statements[0];
  }

  private async executeTokens(s: Session, withCalls: Token[]): Promise<StatementOutcome> {
    const tokens = expandIdentifierCalls(withCalls);
    const sig = significant(tokens);
    const w0 = firstWord(sig);
    if (!s.autocommit && !s.inTransaction && w0 !== undefined && IMPLICIT_TRANSACTION.has(w0)) await begin(s);
    if (w0 !== undefined && QUERY.has(w0))
      return { kind: 'query', duckdbSql: await this.translate(s, tokens), statementTypeId: StatementType.SELECT };
    const family = w0 !== undefined && Object.hasOwn(FAMILIES, w0) ? FAMILIES[w0] : undefined;
    if (family && DDL.has(w0!))
      // A DDL statement that failed may have changed relations before it failed: re-read them all.
      return family(this, s, sig).catch((e: unknown) => {
        this.catalog.relations.changedAll();
        throw e;
      });
    if (family) return family(this, s, sig);
    if (w0 !== undefined && UNSUPPORTED.has(w0)) throw SfErrors.unsupported(w0);
    // DuckDB's own statements (ATTACH, INSTALL, LOAD, PRAGMA, COPY ... TO, EXPORT ...) included.
    throw SfErrors.syntax(`line 1 at position 0 unexpected '${sig[0]?.text ?? '<EOF>'}'.`);
  }

  resolve(s: Session, sig: Token[], i: number): { name: ResolvedName; next: number } {
    const parts: string[] = [];
    let k = i;
    for (;;) {
      const t = sig[k];
      if (!t || (t.kind !== 'word' && t.kind !== 'qident'))
        throw SfErrors.syntax(`unexpected '${t?.text ?? '<EOF>'}'.`);
      parts.push(identValue(t));
      k++;
      if (sig[k]?.text === '.' && parts.length < 3) k++;
      else break;
    }
    return { name: this.resolveParts(s, parts), next: k };
  }

  /** `[database.][schema.]name` (1 to 3 parts) against the session's current database and schema. */
  private resolveParts(s: Session, parts: string[]): ResolvedName {
    const name = parts[parts.length - 1];
    const schema = parts.length >= 2 ? parts[parts.length - 2] : s.schema;
    const database = parts.length === 3 ? parts[0] : s.database;
    if (!database)
      throw new SnowflakeError(
        '090105',
        '22000',
        "Cannot perform operation. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.",
      );
    if (!schema)
      throw new SnowflakeError(
        '090106',
        '22000',
        "Cannot perform operation. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.",
      );
    return { database, schema, name, duckdbName: `${quoteIdent(database)}.${quoteIdent(schema)}.${quoteIdent(name)}` };
  }

  /** True when the table or view exists (committed; the catalog's relation index, no scan). */
  async tableExists(_s: Session, n: ResolvedName): Promise<boolean> {
    return this.catalog.relations.exists(n.database, n.schema, n.name);
  }

  async requireTable(s: Session, n: ResolvedName): Promise<void> {
    if (!this.catalog.hasDatabase(n.database) || !(await this.tableExists(s, n)))
      throw SfErrors.objectDoesNotExist(`${n.database}.${n.schema}.${n.name}`);
  }

  requireDatabase(db: string): void {
    if (!this.catalog.hasDatabase(db)) throw SfErrors.objectDoesNotExist(db);
  }
}

/** A call's arguments as a lookup key (their significant tokens' texts). */
function argumentsKey(args: Token[]): string {
  return significant(args)
    .map((t) => t.text)
    .join(' ');
}

/** A login-request database/schema name: quoted names keep their case, others fold to upper case. */
function foldName(name: string): string {
  return name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name.toUpperCase();
}
