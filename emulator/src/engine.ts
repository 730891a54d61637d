/**
 * The SQL engine: one Snowflake statement → a {@link StatementOutcome}.
 *
 * Order of dispatch: the stage handler (stages.ts: stages, PUT/GET, LIST, REMOVE, COPY INTO) first;
 * then session statements (USE, BEGIN/COMMIT/ROLLBACK, ALTER SESSION), DDL (databases, schemas,
 * tables, views), DML (INSERT/UPDATE/DELETE/MERGE/TRUNCATE with Snowflake's count columns),
 * metadata (SHOW, DESC), and queries, which are translated (sql/translate.ts) and streamed by the
 * server. DuckDB errors are mapped to Snowflake codes ({@link toSnowflakeError}).
 */
import { randomBytes } from 'node:crypto';
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import type { RowTypeColumn, StatementContext, StatementHandler, StatementOutcome } from './contract.js';
import { SfErrors, SnowflakeError } from './errors.js';
import type { Catalog } from './catalog.js';
import { Session } from './session.js';
import { forgetLoadHistory } from './stages.js';
import { rowTypeOf } from './encode.js';
import { arrayBindRows, substituteBinds, type Bindings } from './sql/binds.js';
import { infoSchemaQuery, listColumns, listSchemas, listTables } from './sql/metadata.js';
import { nameSelectList } from './sql/naming.js';
import {
  identValue,
  isWord,
  quoteIdent,
  significant,
  splitStatements,
  stringValue,
  tokenize,
  type Token,
} from './sql/tokenizer.js';
import type { RelationRef } from './sql/sandbox.js';
import { matchParen, splitTop, translateTokens, type TranslateEnv } from './sql/translate.js';
import { MAX_VARCHAR, parseType, typeFacts } from './sql/types.js';
import { TSTZ_TYPEOF } from './sql/macros.js';

/** Snowflake statement type ids (the driver derives DML row counts from them). */
export const StatementType = {
  SELECT: 0x1000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  SESSION: 0x4000,
  TRANSACTION: 0x5000,
  DDL: 0x6000,
} as const;

const fixedCol = (name: string): RowTypeColumn => ({
  name,
  type: 'fixed',
  precision: 19,
  scale: 0,
  length: null,
  byteLength: null,
  nullable: false,
});
const textCol = (name: string, nullable = true): RowTypeColumn => ({
  name,
  type: 'text',
  precision: null,
  scale: null,
  length: MAX_VARCHAR,
  byteLength: MAX_VARCHAR,
  nullable,
});
const ltzCol = (name: string): RowTypeColumn => ({
  name,
  type: 'timestamp_ltz',
  precision: 0,
  scale: 3,
  length: null,
  byteLength: null,
  nullable: true,
});

/** A one-row `status` result, as Snowflake answers DDL and commands. */
export function status(message: string, statementTypeId: number = StatementType.DDL): StatementOutcome {
  return { kind: 'rows', columns: [textCol('status', false)], rows: [[message]], statementTypeId };
}

/** Epoch-seconds cell of an ISO instant (TIMESTAMP_LTZ encoding). */
function ltzCell(iso: string): string {
  return (Date.parse(iso) / 1000).toFixed(9);
}

/** Maps a DuckDB exception to the Snowflake error a real account would return. */
export function toSnowflakeError(e: unknown): SnowflakeError {
  if (e instanceof SnowflakeError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0];
  let m: RegExpExecArray | null;
  if (/INTERRUPT/i.test(msg)) return SfErrors.cancelled();
  if ((m = /(?:Table|View|Schema|Catalog|Database) (?:with name )?"?([^"\s!]+)"? does not exist/i.exec(first)))
    return SfErrors.objectDoesNotExist(m[1]);
  if ((m = /Referenced column "?([^"]+)"? not found/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if ((m = /Referenced table "?([^"]+)"? not found/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if ((m = /column "?([^"]+)"? (?:does not exist|not found)/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if (/^Parser Error/.test(first)) {
    const near = /at or near "([^"]*)"/.exec(first);
    return SfErrors.syntax(`line 1 at position 0 unexpected '${near?.[1] ?? '<EOF>'}'.`);
  }
  if (
    (m = /Scalar Function with name (\w+) does not exist/i.exec(first)) ||
    (m = /Function with name (\w+) does not exist/i.exec(first))
  )
    return new SnowflakeError('002140', '42601', `SQL compilation error:\nUnknown function ${m[1].toUpperCase()}`);
  if (/NOT NULL constraint failed/i.test(first))
    return new SnowflakeError('100072', '22000', `NULL result in a non-nullable column`);
  if (/Out of Range|out of range|Overflow/i.test(first))
    return SfErrors.numericOutOfRange(first.replace(/^[^:]*:\s*/, ''));
  if (/^Conversion Error|^Invalid Input Error/.test(first))
    return SfErrors.conversion(first.replace(/^[^:]*Error:\s*/, ''));
  if (/Conflict/i.test(first))
    return new SnowflakeError(
      '000625',
      '57014',
      `Statement aborted because of a conflicting concurrent write: ${first}`,
    );
  if (/already exists/i.test(first)) {
    const n = /"([^"]+)"/.exec(first);
    return SfErrors.alreadyExists(n?.[1] ?? 'object');
  }
  if (/^Binder Error|^Catalog Error/.test(first))
    return new SnowflakeError('002049', '42601', `SQL compilation error: ${first.replace(/^[^:]*Error:\s*/, '')}`);
  return new SnowflakeError('100090', '42000', first);
}

/** A fully resolved object name. */
export interface ResolvedName {
  database: string;
  schema: string;
  name: string;
  duckdbName: string;
}

export class Engine {
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
      await s.conn
        .run(`DROP TABLE IF EXISTS ${quoteIdent(db)}.${quoteIdent(schema)}.${quoteIdent(table)}`)
        .catch(() => undefined);
      this.catalog.tableDropped(db, schema, table);
      await forgetLoadHistory(this.dataDir, db, schema, table).catch(() => undefined);
    }
    s.conn.closeSync();
  }

  /** The handler context for a session (contract.ts). */
  context(s: Session): StatementContext {
    return {
      session: s,
      dataDir: this.dataDir,
      translateQuery: async (sql) => this.translate(tokenize(sql), s),
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
      return Array.from({ length: p.columnCount }, (_, k) => rowTypeOf(p.columnName(k), p.columnType(k)));
    } finally {
      p.destroySync();
    }
  }

  /**
   * Translates a Snowflake query for the session (INFORMATION_SCHEMA must have been prepared).
   * Every table or view it reads must exist in a Snowflake database of the catalog (002003
   * otherwise): DuckDB never sees a name it could not find, which it would try as a file path
   * (a replacement scan) or look up in its own `system`/`temp` catalogs.
   */
  async translate(tokens: Token[], s: Session, info?: Map<string, string>): Promise<string> {
    const relations: RelationRef[] = [];
    const env: TranslateEnv = {
      database: s.database,
      schema: s.schema,
      infoSchema: (db, view) => info?.get(`${db}.${view}`),
      tzColumns: s.tzColumns,
      user: s.user,
      relations,
    };
    const sql = translateTokens(nameSelectList(tokens), env);
    for (const { parts } of relations) {
      if (parts.length > 3) throw SfErrors.syntax(`unexpected '.'.`);
      const name = this.resolveParts(s, parts);
      if (!this.catalog.hasDatabase(name.database) || !(await this.tableExists(s, name))) {
        throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
      }
    }
    return sql;
  }

  /**
   * Names of the TIMESTAMP_TZ columns of every table whose name appears in `sqlText` (any database;
   * one catalog query). The translator compares such columns by instant (translate.ts).
   */
  private async tzColumnNames(s: Session, sqlText: string): Promise<Set<string>> {
    const names = new Set<string>();
    for (const t of tokenize(sqlText)) if (t.kind === 'word' || t.kind === 'qident') names.add(identValue(t));
    if (names.size === 0) return new Set();
    const r = await s.conn.runAndReadAll(
      `SELECT DISTINCT column_name FROM duckdb_columns() WHERE data_type = $1 AND list_contains($2::VARCHAR[], table_name)`,
      [TSTZ_TYPEOF, listValue([...names])],
    );
    return new Set(r.getRowsJS().map((row) => String(row[0])));
  }

  /** Records a change to a table: now in autocommit, at COMMIT inside a transaction. */
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
      s.tzColumns = await this.tzColumnNames(s, sqlText);
      if (this.stageHandler) {
        const staged = await this.stageHandler(sqlText, this.context(s));
        if (staged) return staged;
      }
      const statements = splitStatements(tokenize(sqlText));
      if (statements.length === 0) throw SfErrors.syntax(`line 1 at position 0 unexpected '<EOF>'.`);
      if (statements.length > 1) {
        throw new SnowflakeError(
          '000008',
          '0A000',
          `Actual statement count ${statements.length} did not match the desired statement count 1.`,
        );
      }
      const rows = arrayBindRows(bindings);
      if (rows > 0) return await this.executeArrayBind(s, statements[0], bindings!, rows);
      return await this.executeTokens(s, substituteBinds(statements[0], bindings));
    } catch (e) {
      throw toSnowflakeError(e);
    }
  }

  /** Array binds: INSERT ... VALUES (one tuple) becomes one multi-row INSERT; anything else runs per row in one transaction. */
  private async executeArrayBind(
    s: Session,
    tokens: Token[],
    bindings: Bindings,
    rows: number,
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
      const expanded: Token[] = [...head];
      for (let r = 0; r < rows; r++) {
        if (r > 0) expanded.push({ kind: 'op', text: ',' });
        expanded.push(...substituteBinds(tuple, bindings, r));
      }
      return this.executeTokens(s, expanded);
    }
    const own = !s.inTransaction;
    if (own) await this.begin(s);
    try {
      let last: StatementOutcome | null = null;
      let total = 0;
      for (let r = 0; r < rows; r++) {
        last = await this.executeTokens(s, substituteBinds(tokens, bindings, r));
        if (
          last.kind === 'rows' &&
          last.statementTypeId &&
          last.statementTypeId >= 0x3000 &&
          last.statementTypeId < 0x4000
        )
          total += Number(last.rows[0]?.[0] ?? 0);
      }
      if (own) await this.commit(s);
      if (
        last?.kind === 'rows' &&
        last.statementTypeId &&
        last.statementTypeId >= 0x3000 &&
        last.statementTypeId < 0x4000
      ) {
        return { ...last, rows: [[String(total), ...last.rows[0].slice(1)]] };
      }
      return last!;
    } catch (e) {
      if (own) await this.rollback(s);
      throw e;
    }
  }

  private async executeTokens(s: Session, tokens: Token[]): Promise<StatementOutcome> {
    const sig = significant(tokens);
    const w0 = sig[0]?.kind === 'word' ? sig[0].text.toUpperCase() : sig[0]?.text;
    const w1 = sig[1]?.kind === 'word' ? sig[1].text.toUpperCase() : '';
    switch (w0) {
      case 'SELECT':
      case 'WITH':
      case '(':
      case 'VALUES':
        return this.query(s, tokens);
      case 'USE':
        return this.use(s, sig);
      case 'BEGIN':
      case 'START':
        await this.begin(s);
        return status('Statement executed successfully.', StatementType.TRANSACTION);
      case 'COMMIT':
        await this.commit(s);
        return status('Statement executed successfully.', StatementType.TRANSACTION);
      case 'ROLLBACK':
      case 'ABORT':
        await this.rollback(s);
        return status('Statement executed successfully.', StatementType.TRANSACTION);
      case 'ALTER':
        if (w1 === 'SESSION' || w1 === 'WAREHOUSE' || w1 === 'USER' || w1 === 'ACCOUNT')
          return status('Statement executed successfully.', StatementType.SESSION);
        if (w1 === 'TABLE') return this.alterTable(s, sig);
        throw SfErrors.unsupported(`ALTER ${w1}`);
      case 'GRANT':
      case 'REVOKE':
        return status('Statement executed successfully.');
      case 'CREATE':
        return this.create(s, sig);
      case 'DROP':
        return this.drop(s, sig);
      case 'TRUNCATE':
        return this.truncate(s, sig);
      case 'INSERT':
        return this.insert(s, sig);
      case 'UPDATE':
        return this.dml(s, sig, 1, StatementType.UPDATE, [
          'number of rows updated',
          'number of multi-joined rows updated',
        ]);
      case 'DELETE':
        return this.dml(s, sig, isWord(sig[1], 'FROM') ? 2 : 1, StatementType.DELETE, ['number of rows deleted']);
      case 'MERGE':
        return this.merge(s, sig);
      case 'SHOW':
        return this.show(s, sig);
      case 'DESC':
      case 'DESCRIBE':
        return this.describeTable(s, sig);
      case 'SET':
      case 'UNSET':
      case 'CALL':
      case 'EXPLAIN': // Snowflake statements the emulator does not have
        throw SfErrors.unsupported(w0);
      default: // DuckDB's own statements (ATTACH, INSTALL, LOAD, PRAGMA, COPY ... TO, EXPORT ...) included
        throw SfErrors.syntax(`line 1 at position 0 unexpected '${sig[0]?.text ?? '<EOF>'}'.`);
    }
  }

  // ---------------------------------------------------------------- names

  /**
   * Resolves `name`, `schema.name` or `db.schema.name` at `sig[i]` against the session.
   * Throws 002003 when the session has no current database/schema for a partial name.
   */
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

  private async tableExists(s: Session, n: ResolvedName): Promise<boolean> {
    const r = await s.conn.runAndReadAll(
      `SELECT 1 FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3
       UNION ALL SELECT 1 FROM duckdb_views() WHERE database_name = $1 AND schema_name = $2 AND view_name = $3`,
      [n.database, n.schema, n.name],
    );
    return r.currentRowCount > 0;
  }

  private requireDatabase(db: string): void {
    if (!this.catalog.hasDatabase(db)) throw SfErrors.objectDoesNotExist(db);
  }

  // ---------------------------------------------------------------- session statements

  private async use(s: Session, sig: Token[]): Promise<StatementOutcome> {
    let i = 1;
    let kind = 'DATABASE';
    if (isWord(sig[1], 'DATABASE', 'SCHEMA', 'WAREHOUSE', 'ROLE', 'SECONDARY')) {
      kind = sig[1].text.toUpperCase();
      i = 2;
    }
    if (kind === 'WAREHOUSE' || kind === 'ROLE' || kind === 'SECONDARY')
      return status('Statement executed successfully.', StatementType.SESSION);
    const parts = sig
      .slice(i)
      .filter((t) => t.text !== '.')
      .map(identValue);
    if (kind === 'DATABASE' && parts.length === 1) {
      this.requireDatabase(parts[0]);
      s.database = parts[0];
      s.schema = (await listSchemas(s.conn, parts[0])).includes('PUBLIC') ? 'PUBLIC' : null;
    } else {
      const db = parts.length === 2 ? parts[0] : s.database;
      const schema = parts[parts.length - 1];
      if (!db) throw SfErrors.objectDoesNotExist(schema);
      this.requireDatabase(db);
      if (!(await listSchemas(s.conn, db)).includes(schema)) throw SfErrors.objectDoesNotExist(`${db}.${schema}`);
      s.database = db;
      s.schema = schema;
    }
    await s.syncDuckdbPath();
    return status('Statement executed successfully.', StatementType.SESSION);
  }

  private async begin(s: Session): Promise<void> {
    if (s.inTransaction) return; // Snowflake ignores a BEGIN inside an open transaction.
    await s.conn.run('BEGIN TRANSACTION');
    s.inTransaction = true;
  }

  private async commit(s: Session): Promise<void> {
    if (!s.inTransaction) return;
    try {
      await s.conn.run('COMMIT');
      for (const [db, schema, table] of s.pendingTouches.values()) this.catalog.touch(db, schema, table);
    } finally {
      s.inTransaction = false;
      s.pendingTouches.clear();
    }
  }

  private async rollback(s: Session): Promise<void> {
    if (!s.inTransaction) return;
    s.inTransaction = false;
    s.pendingTouches.clear();
    await s.conn.run('ROLLBACK');
  }

  /** DDL commits an open transaction first, as in Snowflake. */
  private async ddl(s: Session, duckdbSql: string): Promise<void> {
    await this.commit(s);
    await s.conn.run(duckdbSql);
  }

  // ---------------------------------------------------------------- queries

  private async query(s: Session, tokens: Token[]): Promise<StatementOutcome> {
    const info = await this.prepareInfoSchema(s, significant(tokens));
    return { kind: 'query', duckdbSql: await this.translate(tokens, s, info), statementTypeId: StatementType.SELECT };
  }

  /** Builds the INFORMATION_SCHEMA subqueries a statement refers to. */
  private async prepareInfoSchema(s: Session, sig: Token[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let k = 0; k < sig.length; k++) {
      if (!(isWord(sig[k], 'INFORMATION_SCHEMA') && sig[k + 1]?.text === '.' && sig[k + 2])) continue;
      const view = identValue(sig[k + 2]);
      const db = sig[k - 1]?.text === '.' && sig[k - 2] ? identValue(sig[k - 2]) : s.database;
      if (!db) continue;
      this.requireDatabase(db);
      const sub = await infoSchemaQuery(s.conn, this.catalog, db, view);
      if (!sub) throw SfErrors.objectDoesNotExist(`${db}.INFORMATION_SCHEMA.${view}`);
      out.set(`${db}.${view}`, sub);
    }
    return out;
  }

  // ---------------------------------------------------------------- DDL

  /** Tables (not views) of a database or schema, as [db, schema, table]: their load history goes when they do. */
  private async tableNames(s: Session, db: string, schema?: string): Promise<[string, string, string][]> {
    const r = await s.conn.runAndReadAll(
      `SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 AND ($2 IS NULL OR schema_name = $2)`,
      [db, schema ?? null],
    );
    return r.getRowsJS().map((row) => [String(row[0]), String(row[1]), String(row[2])]);
  }

  /** Drops the load history (stages.ts) of tables that no longer exist. */
  private async forgetTables(tables: [string, string, string][]): Promise<void> {
    for (const [db, schema, table] of tables) await forgetLoadHistory(this.dataDir, db, schema, table);
  }

  private async create(s: Session, sig: Token[]): Promise<StatementOutcome> {
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
        await this.commit(s);
        const replaced =
          orReplace && !ifNotExists && this.catalog.hasDatabase(name) ? await this.tableNames(s, name) : [];
        const created = await this.catalog.createDatabase(name, { ifNotExists, orReplace });
        await this.forgetTables(replaced);
        if (created) {
          s.database = name;
          s.schema = 'PUBLIC';
          await s.syncDuckdbPath();
          return status(`Database ${name} successfully created.`);
        }
        return status(`${name} already exists, statement succeeded.`);
      }
      case 'SCHEMA': {
        const parts = sig
          .slice(i)
          .filter((t) => t.text !== '.')
          .slice(0, 2)
          .map(identValue);
        const db = parts.length === 2 ? parts[0] : s.database;
        const schema = parts[parts.length - 1];
        if (!db) throw SfErrors.objectDoesNotExist(schema);
        this.requireDatabase(db);
        const exists = (await listSchemas(s.conn, db)).includes(schema);
        if (exists && ifNotExists) return status(`${schema} already exists, statement succeeded.`);
        if (exists && !orReplace) throw SfErrors.alreadyExists(schema);
        if (exists) {
          const tables = await this.tableNames(s, db, schema);
          await this.ddl(s, `DROP SCHEMA ${quoteIdent(db)}.${quoteIdent(schema)} CASCADE`);
          this.catalog.schemaDropped(db, schema);
          await this.forgetTables(tables);
        }
        await this.ddl(s, `CREATE SCHEMA ${quoteIdent(db)}.${quoteIdent(schema)}`);
        s.database = db;
        s.schema = schema;
        await s.syncDuckdbPath();
        return status(`Schema ${schema} successfully created.`);
      }
      case 'TABLE':
        return this.createTable(s, sig, i, { orReplace, temporary, ifNotExists });
      case 'VIEW':
      case 'SECURE':
      case 'MATERIALIZED': {
        if (what !== 'VIEW') i++;
        const { name, next } = this.resolve(s, sig, i);
        let k = next;
        while (k < sig.length && !isWord(sig[k], 'AS')) k++;
        const body = await this.translate(sig.slice(k + 1), s, await this.prepareInfoSchema(s, sig.slice(k + 1)));
        await this.ddl(
          s,
          `CREATE ${orReplace ? 'OR REPLACE ' : ''}VIEW ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name.duckdbName} AS ${body}`,
        );
        this.catalog.tableCreated(name.database, name.schema, name.name, {});
        return status(`View ${name.name} successfully created.`);
      }
      case 'WAREHOUSE':
      case 'ROLE':
      case 'USER':
        return status('Statement executed successfully.');
      default:
        throw SfErrors.unsupported(`CREATE ${what ?? ''}`);
    }
  }

  private async createTable(
    s: Session,
    sig: Token[],
    i: number,
    o: { orReplace: boolean; temporary: boolean; ifNotExists: boolean },
  ): Promise<StatementOutcome> {
    const { name, next } = this.resolve(s, sig, i);
    this.requireDatabase(name.database);
    if (!(await listSchemas(s.conn, name.database)).includes(name.schema))
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}`);
    const exists = await this.tableExists(s, name);
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
        defs.push(`${quoteIdent(col)} ${type.duckdb}${this.columnOptions(s, def.slice(type.next))}`);
      }
      body = `(${defs.join(', ')})`;
      k = close + 1;
      if (isWord(sig[k], 'AS')) throw SfErrors.unsupported('CREATE TABLE with both column definitions and AS SELECT');
    } else if (isWord(sig[k], 'AS')) {
      const q = sig.slice(k + 1);
      body = `AS ${await this.translate(q, s, await this.prepareInfoSchema(s, q))}`;
    } else if (isWord(sig[k], 'LIKE', 'CLONE')) {
      const src = this.resolve(s, sig, k + 1).name;
      if (!(await this.tableExists(s, src)))
        throw SfErrors.objectDoesNotExist(`${src.database}.${src.schema}.${src.name}`);
      Object.assign(declared, this.catalog.tableMeta(src.database, src.schema, src.name)?.columns ?? {});
      body = `AS SELECT * FROM ${src.duckdbName}${isWord(sig[k], 'LIKE') ? ' LIMIT 0' : ''}`;
    } else {
      throw SfErrors.syntax(`unexpected '${sig[k]?.text ?? '<EOF>'}'.`);
    }
    await this.ddl(s, `CREATE ${o.orReplace ? 'OR REPLACE ' : ''}TABLE ${name.duckdbName} ${body}`);
    this.catalog.tableCreated(name.database, name.schema, name.name, declared, o.temporary ? s.id : undefined);
    // A new table object: its predecessor's load history (COPY INTO skips loaded files) is not its own.
    if (exists) await forgetLoadHistory(this.dataDir, name.database, name.schema, name.name);
    return status(`Table ${name.name} successfully created.`);
  }

  /** Column options after the type: NOT NULL, NULL, DEFAULT expr, COLLATE/COMMENT (dropped), PK/UNIQUE (not enforced). */
  private columnOptions(s: Session, rest: Token[]): string {
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

  private async drop(s: Session, sig: Token[]): Promise<StatementOutcome> {
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
        await this.commit(s);
        const tables = this.catalog.hasDatabase(name) ? await this.tableNames(s, name) : [];
        if (!(await this.catalog.dropDatabase(name, ifExists)))
          return status(`Drop statement executed successfully (${name} already dropped).`);
        await this.forgetTables(tables);
        if (s.database === name) {
          s.database = null;
          s.schema = null;
          await s.syncDuckdbPath();
        }
        return status(`${name} successfully dropped.`);
      }
      case 'SCHEMA': {
        const parts = sig
          .slice(i)
          .filter((t) => t.text !== '.')
          .slice(0, 2)
          .map(identValue);
        const db = parts.length === 2 ? parts[0] : s.database;
        const schema = parts[parts.length - 1];
        if (!db || !this.catalog.hasDatabase(db) || !(await listSchemas(s.conn, db)).includes(schema)) {
          if (ifExists) return status(`Drop statement executed successfully (${schema} already dropped).`);
          throw SfErrors.objectDoesNotExist(schema);
        }
        const tables = await this.tableNames(s, db, schema);
        await this.ddl(s, `DROP SCHEMA ${quoteIdent(db)}.${quoteIdent(schema)} CASCADE`);
        this.catalog.schemaDropped(db, schema);
        await this.forgetTables(tables);
        if (s.database === db && s.schema === schema) {
          s.schema = null;
          await s.syncDuckdbPath();
        }
        return status(`${schema} successfully dropped.`);
      }
      case 'TABLE':
      case 'VIEW': {
        const { name } = this.resolve(s, sig, i);
        if (!this.catalog.hasDatabase(name.database) || !(await this.tableExists(s, name))) {
          if (ifExists) return status(`Drop statement executed successfully (${name.name} already dropped).`);
          throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
        }
        await this.ddl(s, `DROP ${what} ${name.duckdbName}`);
        this.catalog.tableDropped(name.database, name.schema, name.name);
        if (what === 'TABLE') await forgetLoadHistory(this.dataDir, name.database, name.schema, name.name);
        return status(`${name.name} successfully dropped.`);
      }
      case 'WAREHOUSE':
      case 'ROLE':
      case 'USER':
        return status('Statement executed successfully.');
      default:
        throw SfErrors.unsupported(`DROP ${what ?? ''}`);
    }
  }

  private async alterTable(s: Session, sig: Token[]): Promise<StatementOutcome> {
    let i = 2;
    let ifExists = false;
    if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'EXISTS')) {
      ifExists = true;
      i += 2;
    }
    const { name, next } = this.resolve(s, sig, i);
    if (!(await this.tableExists(s, name))) {
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
        await this.ddl(
          s,
          `ALTER TABLE ${name.duckdbName} ADD COLUMN ${ine ? 'IF NOT EXISTS ' : ''}${quoteIdent(col)} ${type.duckdb}${this.columnOptions(s, def.slice(type.next))}`,
        );
        this.catalog.setColumnType(name.database, name.schema, name.name, col, type.snowflake);
      }
    } else if (action === 'DROP') {
      k++;
      if (isWord(sig[k], 'COLUMN')) k++;
      for (const part of splitTop(sig.slice(k))) {
        const col = identValue(part[0]);
        await this.ddl(s, `ALTER TABLE ${name.duckdbName} DROP COLUMN ${quoteIdent(col)}`);
        this.catalog.setColumnType(name.database, name.schema, name.name, col, null);
      }
    } else if (action === 'RENAME' && isWord(sig[k + 1], 'COLUMN')) {
      const from = identValue(sig[k + 2]);
      const to = identValue(sig[k + 4]);
      await this.ddl(s, `ALTER TABLE ${name.duckdbName} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`);
      this.catalog.renameColumn(name.database, name.schema, name.name, from, to);
    } else if (action === 'RENAME' && isWord(sig[k + 1], 'TO')) {
      const target = this.resolve(s, sig, k + 2).name;
      if (target.database !== name.database || target.schema !== name.schema)
        throw SfErrors.unsupported('ALTER TABLE RENAME across schemas');
      await this.ddl(s, `ALTER TABLE ${name.duckdbName} RENAME TO ${quoteIdent(target.name)}`);
      this.catalog.renameTable(name.database, name.schema, name.name, target.database, target.schema, target.name);
      return status('Statement executed successfully.');
    } else if (action === 'SWAP' && isWord(sig[k + 1], 'WITH')) {
      const other = this.resolve(s, sig, k + 2).name;
      if (other.database !== name.database || other.schema !== name.schema)
        throw SfErrors.unsupported('ALTER TABLE SWAP across schemas');
      if (!(await this.tableExists(s, other)))
        throw SfErrors.objectDoesNotExist(`${other.database}.${other.schema}.${other.name}`);
      const tmp = `__swap_${++swapCounter}_${randomBytes(6).toString('hex')}`;
      await this.commit(s);
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
      this.catalog.renameTable(name.database, name.schema, name.name, name.database, name.schema, tmp);
      this.catalog.renameTable(other.database, other.schema, other.name, name.database, name.schema, name.name);
      this.catalog.renameTable(name.database, name.schema, tmp, other.database, other.schema, other.name);
      return status('Statement executed successfully.');
    } else if (action === 'ALTER' || action === 'MODIFY') {
      k++;
      if (isWord(sig[k], 'COLUMN')) k++;
      const col = identValue(sig[k]);
      const rest = sig.slice(k + 1);
      if (isWord(rest[0], 'SET') && isWord(rest[1], 'NOT'))
        await this.ddl(s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} SET NOT NULL`);
      else if (isWord(rest[0], 'DROP') && isWord(rest[1], 'NOT'))
        await this.ddl(s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} DROP NOT NULL`);
      else {
        const at = isWord(rest[0], 'SET') && isWord(rest[1], 'DATA') ? 3 : isWord(rest[0], 'TYPE') ? 1 : 0;
        const type = parseType(rest, at);
        await this.ddl(s, `ALTER TABLE ${name.duckdbName} ALTER COLUMN ${quoteIdent(col)} TYPE ${type.duckdb}`);
        this.catalog.setColumnType(name.database, name.schema, name.name, col, type.snowflake);
      }
    } else if (action === 'SET' || action === 'UNSET' || action === 'CLUSTER') {
      return status('Statement executed successfully.');
    } else {
      throw SfErrors.unsupported(`ALTER TABLE ... ${action ?? ''}`);
    }
    this.catalog.touch(name.database, name.schema, name.name);
    return status('Statement executed successfully.');
  }

  // ---------------------------------------------------------------- DML

  private async truncate(s: Session, sig: Token[]): Promise<StatementOutcome> {
    let i = isWord(sig[1], 'TABLE') ? 2 : 1;
    let ifExists = false;
    if (isWord(sig[i], 'IF') && isWord(sig[i + 1], 'EXISTS')) {
      ifExists = true;
      i += 2;
    }
    const { name } = this.resolve(s, sig, i);
    if (!(await this.tableExists(s, name))) {
      if (ifExists) return status('Statement executed successfully.');
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
    }
    await s.conn.run(`DELETE FROM ${name.duckdbName}`);
    this.touch(s, name.database, name.schema, name.name);
    return status('Statement executed successfully.');
  }

  /**
   * A table's columns, and for its timestamp columns the macro that converts any value to the
   * column's type (macros.ts): DuckDB has no implicit cast from text with a ` +05:45` offset, nor
   * between the TIMESTAMP_TZ struct and TIMESTAMP/TIMESTAMPTZ, which Snowflake assigns freely.
   */
  private async timestampColumns(
    s: Session,
    n: ResolvedName,
  ): Promise<{ all: string[]; convert: Map<string, string> }> {
    const cols = await listColumns(s.conn, this.catalog, n.database, n.schema, n.name);
    const convert = new Map<string, string>();
    for (const c of cols) {
      const t = c.duckType.toUpperCase();
      if (t.startsWith('STRUCT(UTC TIMESTAMP WITH TIME ZONE')) convert.set(c.name, '__SF_TSTZ');
      else if (t === 'TIMESTAMP WITH TIME ZONE') convert.set(c.name, '__SF_INSTANT');
      else if (t === 'TIMESTAMP') convert.set(c.name, '__SF_NTZ');
    }
    return { all: cols.map((c) => c.name), convert };
  }

  /**
   * A SET list (`col = expr, ..`): drops a qualifier on the left (`t.col = ..`, which Snowflake accepts
   * and DuckDB refuses) and wraps the value of each assignment whose column has a converter (see
   * {@link timestampColumns}) in a call to it.
   */
  private wrapAssignments(tokens: Token[], convert: Map<string, string>): Token[] {
    const out: Token[] = [];
    for (const part of splitTop(tokens)) {
      if (out.length) out.push({ kind: 'op', text: ',' });
      const eq = part.findIndex((t) => t.kind === 'op' && t.text === '=');
      if (eq <= 0) {
        out.push(...part);
        continue;
      }
      const column = part[eq - 1];
      const fn = convert.get(identValue(column));
      out.push(column, part[eq], ...(fn ? wrapCall(fn, part.slice(eq + 1)) : part.slice(eq + 1)));
    }
    return out;
  }

  private async insert(s: Session, sig: Token[]): Promise<StatementOutcome> {
    let i = 1;
    const overwrite = isWord(sig[i], 'OVERWRITE');
    if (overwrite) i++;
    if (!isWord(sig[i], 'INTO')) throw SfErrors.syntax(`unexpected '${sig[i]?.text ?? '<EOF>'}'.`);
    const { name, next } = this.resolve(s, sig, i + 1);
    if (!(await this.tableExists(s, name)))
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
    let k = next;
    const { all, convert } = await this.timestampColumns(s, name);
    let targetCols = all;
    if (sig[k]?.text === '(' && !isWord(sig[k + 1], 'SELECT', 'WITH')) {
      const close = matchParen(sig, k);
      targetCols = splitTop(sig.slice(k + 1, close)).map((p) => identValue(p[0]));
      k = close + 1;
    }
    let source = sig.slice(k);
    const isValues = isWord(source[0], 'VALUES');
    if (isValues && targetCols.some((c) => convert.has(c))) {
      // Per value (rows may mix TZ literals and text, which DuckDB's VALUES cannot unify).
      source = [
        source[0],
        ...splitTop(source.slice(1)).flatMap((tuple, r) => {
          if (tuple[0]?.text !== '(' || matchParen(tuple, 0) !== tuple.length - 1)
            return [...(r ? [COMMA] : []), ...tuple];
          const vals = splitTop(tuple.slice(1, -1)).flatMap((v, n) => {
            const fn = convert.get(targetCols[n] ?? '');
            return [...(n ? [COMMA] : []), ...(fn ? wrapCall(fn, v) : v)];
          });
          return [...(r ? [COMMA] : []), tuple[0], ...vals, tuple[tuple.length - 1]];
        }),
      ];
    }
    let sourceSql = await this.translate(source, s, await this.prepareInfoSchema(s, source));
    if (!isValues && targetCols.some((c) => convert.has(c))) {
      // Timestamp targets: convert explicitly (text with offsets, TZ struct ↔ TIMESTAMP/TIMESTAMPTZ).
      const alias = targetCols.map((_, n) => `c${n}`);
      const select = targetCols
        .map((c, n) => (convert.has(c) ? `${convert.get(c)}(${alias[n]})` : alias[n]))
        .join(', ');
      sourceSql = `SELECT ${select} FROM (${sourceSql}) AS __src(${alias.join(', ')})`;
    }
    const colList = `(${targetCols.map(quoteIdent).join(', ')})`;
    const own = overwrite && !s.inTransaction;
    if (own) await this.begin(s);
    try {
      if (overwrite) await s.conn.run(`DELETE FROM ${name.duckdbName}`);
      const r = await s.conn.run(`INSERT INTO ${name.duckdbName} ${colList} ${sourceSql}`);
      if (own) await this.commit(s);
      this.touch(s, name.database, name.schema, name.name);
      return {
        kind: 'rows',
        columns: [fixedCol('number of rows inserted')],
        rows: [[String(r.rowsChanged)]],
        statementTypeId: StatementType.INSERT,
      };
    } catch (e) {
      if (own) await this.rollback(s);
      throw e;
    }
  }

  /** UPDATE / DELETE: translated as a whole; the target table is at `sig[at]`. */
  private async dml(s: Session, sig: Token[], at: number, type: number, columns: string[]): Promise<StatementOutcome> {
    const { name } = this.resolve(s, sig, at);
    if (!(await this.tableExists(s, name)))
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
    if (type === StatementType.UPDATE) {
      const set = topLevelIndex(sig, (t) => isWord(t, 'SET'));
      if (set > 0) {
        const end = topLevelIndex(sig, (t, k) => k > set && isWord(t, 'FROM', 'WHERE'));
        const stop = end < 0 ? sig.length : end;
        const { convert } = await this.timestampColumns(s, name);
        sig = [
          ...sig.slice(0, set + 1),
          ...this.wrapAssignments(sig.slice(set + 1, stop), convert),
          ...sig.slice(stop),
        ];
      }
    }
    const sql = await this.translate(sig, s, await this.prepareInfoSchema(s, sig));
    const r = await s.conn.run(sql);
    this.touch(s, name.database, name.schema, name.name);
    return {
      kind: 'rows',
      columns: columns.map(fixedCol),
      rows: [[String(r.rowsChanged), ...columns.slice(1).map(() => '0')]],
      statementTypeId: type,
    };
  }

  /**
   * MERGE: DuckDB's own MERGE INTO. Snowflake's count columns come without `RETURNING merge_action`
   * (which makes DuckDB fetch every column of every updated/deleted row: +40–70% on a 100k-row merge):
   * the MERGE's own row count is inserted + updated + deleted, and the target's COUNT(*) before and after
   * (same transaction) is inserted − deleted, which splits any two kinds of action. Only a MERGE with all
   * three kinds (e.g. a soft-delete clause) runs one counting query first: the source LEFT JOIN the target
   * on the ON condition, each pair classified by the WHEN clauses in order.
   */
  private async merge(s: Session, sig: Token[]): Promise<StatementOutcome> {
    if (!isWord(sig[1], 'INTO')) throw SfErrors.syntax(`unexpected '${sig[1]?.text ?? '<EOF>'}'.`);
    const { name, next } = this.resolve(s, sig, 2);
    if (!(await this.tableExists(s, name)))
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
    const m = parseMerge(sig, next);
    const kinds = new Set(m.clauses.map((c) => c.verb));
    const info = await this.prepareInfoSchema(s, sig);
    const sql = await this.translate(
      this.wrapMergeValues(sig, m, (await this.timestampColumns(s, name)).convert),
      s,
      info,
    );
    const countSql =
      kinds.size === 3 ? await this.translate(mergeCountQuery(sig, m, sig.slice(2, next)), s, info) : null;
    const rowCount = async () =>
      Number((await s.conn.runAndReadAll(`SELECT COUNT(*) FROM ${name.duckdbName}`)).getRowsJS()[0][0]);
    const counts: Record<MergeVerb, number> = { INSERT: 0, UPDATE: 0, DELETE: 0 };
    const own = !s.inTransaction;
    if (own) await this.begin(s);
    try {
      let before = 0;
      if (countSql) {
        for (const [action, n] of (await s.conn.runAndReadAll(countSql)).getRowsJS())
          if (action !== null) counts[String(action) as MergeVerb] = Number(n);
      } else if (kinds.size === 2) before = await rowCount();
      const total = Number((await s.conn.run(sql)).rowsChanged);
      if (kinds.size === 1) counts[[...kinds][0]] = total;
      else if (kinds.size === 2) {
        const delta = (await rowCount()) - before; // inserted - deleted
        if (!kinds.has('DELETE')) [counts.INSERT, counts.UPDATE] = [delta, total - delta];
        else if (!kinds.has('INSERT')) [counts.DELETE, counts.UPDATE] = [-delta, total + delta];
        else [counts.INSERT, counts.DELETE] = [(total + delta) / 2, (total - delta) / 2];
      }
      this.touch(s, name.database, name.schema, name.name);
      if (own) await this.commit(s);
    } catch (e) {
      if (own) await this.rollback(s);
      throw e;
    }
    const present: [MergeVerb, string][] = [
      ['INSERT', 'number of rows inserted'],
      ['UPDATE', 'number of rows updated'],
      ['DELETE', 'number of rows deleted'],
    ];
    const shown = present.filter(([verb]) => kinds.has(verb));
    return {
      kind: 'rows',
      columns: shown.map(([, col]) => fixedCol(col)),
      rows: [shown.map(([verb]) => String(counts[verb]))],
      statementTypeId: StatementType.MERGE,
    };
  }

  /**
   * MERGE: `THEN UPDATE SET` lists lose target qualifiers on the left and convert values assigned to
   * timestamp columns; so do `THEN INSERT (cols) VALUES (..)` values ({@link wrapAssignments}).
   */
  private wrapMergeValues(sig: Token[], m: ParsedMerge, convert: Map<string, string>): Token[] {
    const out: Token[] = sig.slice(0, m.clauses[0]?.start ?? sig.length);
    for (const c of m.clauses) {
      const clause = sig.slice(c.start, c.end);
      const then = c.then - c.start;
      if (c.verb === 'UPDATE' && isWord(clause[then + 2], 'SET')) {
        out.push(...clause.slice(0, then + 3), ...this.wrapAssignments(clause.slice(then + 3), convert));
      } else if (c.verb === 'INSERT' && clause[then + 2]?.text === '(' && convert.size > 0) {
        const colsClose = matchParen(clause, then + 2);
        const cols = splitTop(clause.slice(then + 3, colsClose)).map((p) => identValue(p[p.length - 1]));
        const valuesAt = colsClose + 1;
        if (!isWord(clause[valuesAt], 'VALUES') || clause[valuesAt + 1]?.text !== '(') {
          out.push(...clause);
          continue;
        }
        const valsClose = matchParen(clause, valuesAt + 1);
        const vals = splitTop(clause.slice(valuesAt + 2, valsClose)).map((v, n) => {
          const fn = convert.get(cols[n] ?? '');
          return fn ? wrapCall(fn, v) : v;
        });
        out.push(...clause.slice(0, valuesAt + 2));
        vals.forEach((v, n) => out.push(...(n ? [COMMA] : []), ...v));
        out.push(...clause.slice(valsClose));
      } else out.push(...clause);
    }
    return out;
  }

  // ---------------------------------------------------------------- SHOW / DESC

  private async show(s: Session, sig: Token[]): Promise<StatementOutcome> {
    let i = 1;
    if (isWord(sig[i], 'TERSE')) i++;
    const what = sig[i]?.text.toUpperCase();
    i++;
    let like: RegExp | null = null;
    if (isWord(sig[i], 'LIKE') && sig[i + 1]?.kind === 'string') {
      const pattern = stringValue(sig[i + 1]);
      like = new RegExp(
        `^${pattern
          .replace(/[.*+^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        'is',
      );
      i += 2;
    }
    let inDb: string | null = s.database;
    let inSchema: string | null = what === 'SCHEMAS' ? null : s.schema;
    let scoped = false;
    if (isWord(sig[i], 'IN')) {
      i++;
      scoped = true;
      if (isWord(sig[i], 'ACCOUNT')) {
        inDb = null;
        inSchema = null;
      } else {
        const kind = isWord(sig[i], 'DATABASE', 'SCHEMA') ? sig[i++].text.toUpperCase() : null;
        const parts = sig
          .slice(i)
          .filter((t) => t.text !== '.' && (t.kind === 'word' || t.kind === 'qident'))
          .slice(0, 2)
          .map(identValue);
        if (kind === 'DATABASE' || (kind === null && parts.length === 1 && what !== 'TABLES')) {
          inDb = parts[0];
          inSchema = null;
        } else {
          inDb = parts.length === 2 ? parts[0] : s.database;
          inSchema = parts[parts.length - 1];
        }
      }
    }
    const matches = (n: string) => !like || like.test(n);
    const created = (iso: string) => ltzCell(iso);
    switch (what) {
      case 'DATABASES': {
        const cols = [
          ltzCol('created_on'),
          textCol('name'),
          textCol('is_default'),
          textCol('is_current'),
          textCol('origin'),
          textCol('owner'),
          textCol('comment'),
          textCol('options'),
          textCol('retention_time'),
          textCol('kind'),
        ];
        const rows = this.catalog
          .databaseNames()
          .filter(matches)
          .map((d) => [
            created(this.catalog.databaseCreated(d)),
            d,
            'N',
            d === s.database ? 'Y' : 'N',
            '',
            'ACCOUNTADMIN',
            '',
            '',
            '1',
            'STANDARD',
          ]);
        return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
      }
      case 'SCHEMAS': {
        const cols = [
          ltzCol('created_on'),
          textCol('name'),
          textCol('is_default'),
          textCol('is_current'),
          textCol('database_name'),
          textCol('owner'),
          textCol('comment'),
          textCol('options'),
          textCol('retention_time'),
        ];
        const dbs = inDb
          ? [inDb]
          : scoped
            ? this.catalog.databaseNames()
            : s.database
              ? [s.database]
              : this.catalog.databaseNames();
        const rows: (string | null)[][] = [];
        for (const db of dbs) {
          this.requireDatabase(db);
          for (const sc of await listSchemas(s.conn, db)) {
            if (matches(sc))
              rows.push([
                created(this.catalog.databaseCreated(db)),
                sc,
                'N',
                db === s.database && sc === s.schema ? 'Y' : 'N',
                db,
                sc === 'INFORMATION_SCHEMA' ? '' : 'ACCOUNTADMIN',
                '',
                '',
                '1',
              ]);
          }
        }
        return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
      }
      case 'TABLES':
      case 'OBJECTS':
      case 'VIEWS': {
        const cols = [
          ltzCol('created_on'),
          textCol('name'),
          textCol('database_name'),
          textCol('schema_name'),
          textCol('kind'),
          textCol('comment'),
          textCol('cluster_by'),
          fixedCol('rows'),
          fixedCol('bytes'),
          textCol('owner'),
          textCol('retention_time'),
          textCol('automatic_clustering'),
          textCol('change_tracking'),
          textCol('is_external'),
        ];
        const dbs = inDb ? [inDb] : this.catalog.databaseNames();
        const rows: (string | null)[][] = [];
        for (const db of dbs) {
          this.requireDatabase(db);
          if (inSchema && !(await listSchemas(s.conn, db)).includes(inSchema))
            throw SfErrors.objectDoesNotExist(`${db}.${inSchema}`);
          for (const t of await listTables(s.conn, this.catalog, db, inSchema ?? undefined)) {
            if (!matches(t.name)) continue;
            if (what === 'TABLES' && t.kind === 'VIEW') continue;
            if (what === 'VIEWS' && t.kind !== 'VIEW') continue;
            rows.push([
              created(t.created),
              t.name,
              t.database,
              t.schema,
              t.kind === 'VIEW' ? 'VIEW' : t.kind === 'TEMPORARY' ? 'TEMPORARY' : 'TABLE',
              '',
              '',
              String(t.rows),
              String(t.bytes),
              'ACCOUNTADMIN',
              '1',
              'OFF',
              'OFF',
              'N',
            ]);
          }
        }
        return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
      }
      case 'COLUMNS': {
        const cols = [
          textCol('table_name'),
          textCol('schema_name'),
          textCol('column_name'),
          textCol('data_type'),
          textCol('null?'),
          textCol('default'),
          textCol('kind'),
          textCol('expression'),
          textCol('comment'),
          textCol('database_name'),
          textCol('autoincrement'),
        ];
        if (!inDb) throw SfErrors.objectDoesNotExist('COLUMNS');
        const rows = (await listColumns(s.conn, this.catalog, inDb, inSchema ?? undefined))
          .filter((c) => matches(c.name))
          .map((c) => [
            c.table,
            c.schema,
            c.name,
            JSON.stringify({ type: typeFacts(c.sfType).dataType }),
            c.nullable ? 'true' : 'false',
            c.default ?? '',
            'COLUMN',
            '',
            '',
            c.database,
            '',
          ]);
        return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
      }
      default:
        throw SfErrors.unsupported(`SHOW ${what ?? ''}`);
    }
  }

  private async describeTable(s: Session, sig: Token[]): Promise<StatementOutcome> {
    const i = isWord(sig[1], 'TABLE', 'VIEW') ? 2 : 1;
    const { name } = this.resolve(s, sig, i);
    if (!this.catalog.hasDatabase(name.database) || !(await this.tableExists(s, name)))
      throw SfErrors.objectDoesNotExist(`${name.database}.${name.schema}.${name.name}`);
    const cols = await listColumns(s.conn, this.catalog, name.database, name.schema, name.name);
    const columns = [
      'name',
      'type',
      'kind',
      'null?',
      'default',
      'primary key',
      'unique key',
      'check',
      'expression',
      'comment',
      'policy name',
      'privacy domain',
    ].map((n) => textCol(n));
    const rows = cols.map((c) => [
      c.name,
      c.sfType,
      'COLUMN',
      c.nullable ? 'Y' : 'N',
      c.default,
      'N',
      'N',
      null,
      null,
      null,
      null,
      null,
    ]);
    return { kind: 'rows', columns, rows, statementTypeId: StatementType.SESSION };
  }
}

const COMMA: Token = { kind: 'op', text: ',' };

/** ALTER TABLE .. SWAP WITH: a per-process counter + random suffix names the intermediate table (never reused, even within a millisecond). */
let swapCounter = 0;

type MergeVerb = 'INSERT' | 'UPDATE' | 'DELETE';

/** The parts of `MERGE INTO <target> [[AS] alias] USING <source> ON <cond> WHEN ...` (indices into `sig`). */
interface ParsedMerge {
  /** The target's alias token, or null (conditions then name the target by its name). */
  alias: Token | null;
  using: number;
  on: number;
  clauses: { start: number; end: number; then: number; matched: boolean; verb: MergeVerb }[];
}

/**
 * Indices of tokens in `sig[from..to)` that match `pred` outside parentheses and outside CASE..END
 * (a CASE in a condition or SET value has its own WHEN/THEN).
 */
function clauseLevel(sig: Token[], from: number, to: number, pred: (t: Token) => boolean): number[] {
  const found: number[] = [];
  let depth = 0;
  let cases = 0;
  for (let k = from; k < to; k++) {
    const t = sig[k];
    if (t.kind === 'op' && t.text === '(') depth++;
    else if (t.kind === 'op' && t.text === ')') depth--;
    else if (isWord(t, 'CASE')) cases++;
    else if (isWord(t, 'END') && cases > 0) cases--;
    else if (depth === 0 && cases === 0 && pred(t)) found.push(k);
  }
  return found;
}

/** Splits a MERGE at its USING, ON and WHEN clauses; `next` is the index after the target name. */
function parseMerge(sig: Token[], next: number): ParsedMerge {
  let alias: Token | null = null;
  if (isWord(sig[next], 'AS')) alias = sig[next + 1] ?? null;
  else if ((sig[next]?.kind === 'word' && !isWord(sig[next], 'USING')) || sig[next]?.kind === 'qident')
    alias = sig[next];
  const using = clauseLevel(sig, next, sig.length, (t) => isWord(t, 'USING'))[0] ?? -1;
  const on = using < 0 ? -1 : (clauseLevel(sig, using + 1, sig.length, (t) => isWord(t, 'ON'))[0] ?? -1);
  if (using < 0 || on < 0) throw SfErrors.syntax(`unexpected '${sig[sig.length - 1]?.text ?? '<EOF>'}'.`);
  const whens = clauseLevel(sig, on + 1, sig.length, (t) => isWord(t, 'WHEN'));
  if (whens.length === 0) throw SfErrors.syntax(`line 1 at position 0 unexpected '<EOF>'.`);
  const clauses = whens.map((start, w) => {
    const end = whens[w + 1] ?? sig.length;
    const then = clauseLevel(sig, start, end, (t) => isWord(t, 'THEN'))[0] ?? -1;
    const verb = sig[then + 1]?.text.toUpperCase();
    if (then < 0 || (verb !== 'INSERT' && verb !== 'UPDATE' && verb !== 'DELETE'))
      throw SfErrors.syntax(`unexpected '${sig[then + 1]?.text ?? '<EOF>'}'.`);
    return { start, end, then, matched: !isWord(sig[start + 1], 'NOT'), verb: verb as MergeVerb };
  });
  return { alias, using, on, clauses };
}

/**
 * `SELECT <action>, COUNT(*) FROM <source> LEFT JOIN (SELECT *, TRUE AS __FLOE_MATCHED FROM <target>) AS <alias>
 * ON <cond> GROUP BY 1`, the action being what the first applicable WHEN clause does to that pair
 * (NULL when none applies): the counts the MERGE will report.
 */
function mergeCountQuery(sig: Token[], m: ParsedMerge, target: Token[]): Token[] {
  const w = (text: string): Token => ({ kind: 'word', text });
  const op = (text: string): Token => ({ kind: 'op', text });
  const alias = m.alias ?? target[target.length - 1];
  const flag = [alias, op('.'), w('__FLOE_MATCHED')];
  const out: Token[] = [w('SELECT'), w('CASE')];
  for (const c of m.clauses) {
    // WHEN [NOT] MATCHED [AND cond] THEN
    const andAt = clauseLevel(sig, c.start, c.then, (t) => isWord(t, 'AND'))[0];
    out.push(w('WHEN'), ...flag, w('IS'), ...(c.matched ? [w('NOT')] : []), w('NULL'));
    if (andAt !== undefined) out.push(w('AND'), op('('), ...sig.slice(andAt + 1, c.then), op(')'));
    out.push(w('THEN'), { kind: 'string', text: `'${c.verb}'` });
  }
  out.push(
    w('END'),
    w('AS'),
    w('__FLOE_ACTION'),
    COMMA,
    w('COUNT'),
    op('('),
    op('*'),
    op(')'),
    w('FROM'),
    ...sig.slice(m.using + 1, m.on),
  );
  out.push(
    w('LEFT'),
    w('JOIN'),
    op('('),
    w('SELECT'),
    op('*'),
    COMMA,
    w('TRUE'),
    w('AS'),
    w('__FLOE_MATCHED'),
    w('FROM'),
    ...target,
    op(')'),
    w('AS'),
    alias,
  );
  out.push(w('ON'), op('('), ...sig.slice(m.on + 1, m.clauses[0].start), op(')'), w('GROUP'), w('BY'), {
    kind: 'number',
    text: '1',
  });
  return out;
}

/** `fn ( expr )` as tokens (the translator passes unknown function names through). */
function wrapCall(fn: string, expr: Token[]): Token[] {
  return [{ kind: 'word', text: fn }, { kind: 'op', text: '(' }, ...expr, { kind: 'op', text: ')' }];
}

/** Index of the first top-level (depth 0) token matching `pred`, or -1. */
function topLevelIndex(sig: Token[], pred: (t: Token, k: number) => boolean): number {
  let d = 0;
  for (let k = 0; k < sig.length; k++) {
    const t = sig[k];
    if (t.kind === 'op' && t.text === '(') d++;
    else if (t.kind === 'op' && t.text === ')') d--;
    else if (d === 0 && pred(t, k)) return k;
  }
  return -1;
}

/** A login-request database/schema name: quoted names keep their case, others fold to upper case. */
function foldName(name: string): string {
  return name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name.toUpperCase();
}
