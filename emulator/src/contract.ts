/**
 * Contracts between the emulator's protocol server, its SQL engine and its statement handlers.
 *
 * The emulator is a DuckDB-backed HTTP server that speaks the REST protocol snowflake-sdk 3.x uses.
 * The server (`server.ts`) owns HTTP, sessions, chunking and async results; the engine
 * (`engine.ts`) turns one Snowflake statement into a {@link StatementOutcome}; statement handlers
 * (stages, users) are consulted by the engine before its own statement families (`statements/*.ts`:
 * session and transaction, DDL, ALTER TABLE, DML, MERGE, SHOW/DESC), which it dispatches on the
 * first keyword as {@link EngineStatement}s.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Catalog } from './catalog.js';
import type { Session } from './session.js';
import type { Token } from './sql/tokenizer.js';

/** Snowflake's lower-case rowtype `type` names as the driver parses them. */
export type SnowflakeWireType =
  | 'fixed'
  | 'real'
  | 'text'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp_ntz'
  | 'timestamp_ltz'
  | 'timestamp_tz'
  | 'binary'
  | 'variant'
  | 'object'
  | 'array';

/** One column of a result's `rowtype`, shaped as Snowflake returns it. */
export interface RowTypeColumn {
  name: string;
  type: SnowflakeWireType;
  /** NUMBER precision (digits); null for non-numeric columns. */
  precision: number | null;
  /** NUMBER scale, or fractional-second digits for TIME/TIMESTAMP_*. */
  scale: number | null;
  /** Characters for text, bytes for binary; null otherwise. */
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
  database?: string;
  schema?: string;
  table?: string;
}

/** A session as the engine sees it: its own DuckDB connection and its current database/schema. */
export interface SessionState {
  id: string;
  /** Current database (upper-cased unless it was quoted), or null before USE. */
  database: string | null;
  schema: string | null;
  /** Upper-cased name of the user who signed in (users.ts). */
  user?: string | null;
  /** The session's own connection: one transaction per session (BEGIN/COMMIT/ROLLBACK). */
  conn: DuckDBConnection;
}

/** What executing one statement produced. */
export type StatementOutcome =
  /** A small result computed by a handler (SHOW, LIST, COPY result rows, DML counts). */
  | { kind: 'rows'; columns: RowTypeColumn[]; rows: (string | null)[][]; statementTypeId?: number }
  /** A DuckDB query whose result the server streams and encodes lazily (SELECT, big results). */
  | { kind: 'query'; duckdbSql: string; params?: unknown[]; statementTypeId?: number; columnNames?: string[] }
  /** PUT/GET: the driver moves the files itself (LOCAL_FS stage). */
  | {
      kind: 'transfer';
      command: 'UPLOAD' | 'DOWNLOAD';
      srcLocations: string[];
      /** Absolute stage directory, ending with '/'. */
      stageLocation: string;
      /** GET: local target directory (created before the driver's check). */
      localLocation?: string;
      parallel: number;
      overwrite: boolean;
      autoCompress: boolean;
      sourceCompression: string;
    };

/** What handlers may ask of the engine. */
export interface StatementContext {
  session: SessionState;
  /** Root of the emulator's persistent data (databases as DuckDB files, stages as directories). */
  dataDir: string;
  /**
   * Translate a Snowflake query (SELECT ...) to DuckDB SQL, after checking that it uses Snowflake
   * functions only and reads existing tables/views only (sql/sandbox.ts). Throws SnowflakeError on
   * refused or untranslatable input.
   */
  translateQuery(snowflakeSql: string): Promise<string>;
  /** Snowflake rowtype of a DuckDB query without running it in full. */
  describe(duckdbSql: string): Promise<RowTypeColumn[]>;
  /**
   * Resolve a possibly partial, possibly quoted object name (`t`, `s.t`, `db.s.t`, `"Mixed"`) against
   * the session: unquoted parts fold to upper case. Returns the DuckDB-qualified name to use in SQL.
   */
  resolveName(name: string): ResolvedName;
  /** Record that a table's data or definition changed (moves LAST_ALTERED, row/byte counts). */
  touchTable(database: string, schema: string, name: string): Promise<void>;
}

/**
 * A statement handler returns null when the statement is not its kind.
 * Throw {@link SnowflakeError} (errors.ts) for Snowflake-style failures.
 */
export type StatementHandler = (sqlText: string, ctx: StatementContext) => Promise<StatementOutcome | null>;

/** A fully resolved object name: Snowflake's three parts and the quoted DuckDB name to use in SQL. */
export interface ResolvedName {
  database: string;
  schema: string;
  name: string;
  duckdbName: string;
}

/** What the engine's own statement families (statements/*.ts) may ask of it. */
export interface EngineContext {
  readonly catalog: Catalog;
  /** Root of the emulator's persistent data. */
  readonly dataDir: string;
  /**
   * Resolves `name`, `schema.name` or `db.schema.name` starting at `sig[i]` against the session;
   * `next` is the index after the name. Throws 090105/090106 when a partial name has no current
   * database/schema to complete it, 001003 when `sig[i]` is not a name.
   */
  resolve(s: Session, sig: Token[], i: number): { name: ResolvedName; next: number };
  tableExists(s: Session, n: ResolvedName): Promise<boolean>;
  /** Throws 002003 unless `n` is an existing table or view. */
  requireTable(s: Session, n: ResolvedName): Promise<void>;
  /** Throws 002003 unless the database exists. */
  requireDatabase(db: string): void;
  /**
   * Translates a Snowflake statement or query (tokens, binds substituted) to DuckDB SQL, after
   * building the INFORMATION_SCHEMA views it names and checking that every relation it reads exists.
   */
  translate(s: Session, tokens: Token[]): Promise<string>;
  /** Records a change to a table: now in autocommit, at COMMIT inside a transaction. */
  touch(s: Session, db: string, schema: string, table: string): void;
}

/** One statement family: the statement's significant tokens (binds substituted) → its outcome. */
export type EngineStatement = (e: EngineContext, s: Session, sig: Token[]) => Promise<StatementOutcome>;
