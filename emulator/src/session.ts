/**
 * A Snowflake session inside the emulator: its own DuckDB connection (so its own transaction),
 * its current database/schema, and the tables its open transaction has changed (their
 * LAST_ALTERED moves at COMMIT, not before: Snowflake shows committed changes only).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SessionState } from './contract.js';
import type { NamedColumn } from './statement-columns.js';
import { QueryHistory } from './result-scan.js';
import { quoteIdent } from './sql/tokenizer.js';
import type { ClientApp } from './s3-endpoint.js';

export class Session implements SessionState {
  database: string | null = null;
  schema: string | null = null;
  /** Upper-cased name of the user who signed in; set by the server after login. */
  user: string | null = null;
  /** True between BEGIN and COMMIT/ROLLBACK (or an implicit start and COMMIT/ROLLBACK). */
  inTransaction = false;
  /**
   * The AUTOCOMMIT session parameter (login `SESSION_PARAMETERS` or ALTER SESSION). When false, the
   * first query or DML outside a transaction starts one, which lasts until COMMIT, ROLLBACK or DDL.
   */
  autocommit = true;
  /** Tables touched by the open transaction, as [db, schema, table]. */
  readonly pendingTouches = new Map<string, [string, string, string]>();
  /** Columns of the tables the current statement names (Engine.execute sets them; statement-columns.ts). */
  namedColumns: NamedColumn[] = [];
  /** TIMESTAMP_TZ column names among them (the translator reads them). */
  tzColumns: ReadonlySet<string> = new Set();
  /** The session's finished queries and their results (LAST_QUERY_ID, RESULT_SCAN). */
  readonly history = new QueryHistory();
  /** The client the session logged in with, which decides where its PUT/GET move files (s3EndpointFormFor). */
  client: ClientApp = { id: '', version: '' };
  /** Last time the session was used (ms since epoch), for idle expiry. */
  lastUsed = Date.now();

  constructor(
    readonly id: string,
    readonly conn: DuckDBConnection,
  ) {}

  /** Points the DuckDB connection at the current database/schema so unqualified names resolve. */
  async syncDuckdbPath(): Promise<void> {
    if (this.database && this.schema)
      await this.conn.run(`USE ${quoteIdent(this.database)}.${quoteIdent(this.schema)}`);
    else if (this.database) await this.conn.run(`USE ${quoteIdent(this.database)}`);
    else await this.conn.run(`USE memory`);
  }
}
