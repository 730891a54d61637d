/**
 * The statements the server has run: each a {@link QueryRecord} found by query id (result, monitoring,
 * abort, chunks) and by the driver's requestId (a retried query-request attaches to the first
 * execution instead of running twice). Statements of one session run one after another on its queue.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { StatementOutcome } from './contract.js';
import { StatementType, textColumn } from './columns.js';
import type { Engine } from './engine.js';
import { SnowflakeError, toSnowflakeError } from './errors.js';
import { sendData, sendError, sendJson } from './http.js';
import { sessionParameters } from './parameters.js';
import type { Session } from './session.js';
import type { ChunkProducer } from './chunks.js';
import { runQuery } from './session-results.js';
import { refineRowType } from './statement-columns.js';
import type { Bindings } from './sql/binds.js';
import { quoteIdent } from './sql/tokenizer.js';
import { transferResponseData } from './stages.js';
import { s3EndPoint, s3EndpointFormFor } from './s3-endpoint.js';

/** Fault injection, for tests of retry behaviour. Random faults hit query, result and chunk requests. */
export interface FaultOptions {
  /** Share (0..1) of requests answered HTTP 503 before any work is done. */
  http503Rate?: number;
  /** Share (0..1) of requests whose connection is destroyed before any work is done. */
  dropRate?: number;
  /** Latency added to every request, milliseconds. */
  latencyMs?: number;
  /** Fail the `nth` (1-based) statement whose SQL matches `pattern` with a Snowflake error (default 000603 / XX000, "internal error"). */
  failStatement?: { pattern: RegExp | string; nth: number; code?: string; sqlState?: string; message?: string };
}

/** The query-request body fields the emulator reads. */
export interface QueryRequestBody {
  sqlText?: string;
  bindings?: Bindings;
  asyncExec?: boolean;
  describeOnly?: boolean;
  /** Statement parameters; `MULTI_STATEMENT_COUNT` allows several statements in one request. */
  parameters?: Record<string, unknown>;
}

/** The request's MULTI_STATEMENT_COUNT: 1 (the default) allows one statement, 0 any number, n exactly n. */
function multiStatementCount(body: QueryRequestBody): number {
  const n = Number(body.parameters?.MULTI_STATEMENT_COUNT ?? 1);
  return Number.isInteger(n) && n >= 0 ? n : 1;
}

/** A session and the queue that serialises its statements (the driver may pipeline). */
export interface SessionEntry {
  session: Session;
  queue: Promise<unknown>;
}

type QueryStatus = 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';

interface QueryRecord {
  id: string;
  requestId: string | null;
  sessionId: string;
  sql: string;
  status: QueryStatus;
  started: number;
  done: Promise<void>;
  /** Response `data` once successful. */
  data?: Record<string, unknown>;
  error?: SnowflakeError;
  producer?: ChunkProducer | null;
  /** Interrupts whatever DuckDB connection runs the query now. */
  interrupt?: () => void;
  aborted: boolean;
}

/** Spool files of large results (session-results.ts), under the data directory; emptied at start. */
const RESULTS_DIR = '.results';

export class Queries {
  private readonly queries = new Map<string, QueryRecord>();
  private readonly byRequestId = new Map<string, string>();
  private readonly statementMatches = new Map<string, number>();
  /** `http://host:port` of the server, for chunk URLs; set once it listens. */
  baseUrl = '';

  constructor(
    private readonly engine: Engine,
    private readonly faults: FaultOptions | undefined,
  ) {
    fs.rmSync(path.join(engine.dataDir, RESULTS_DIR), { recursive: true, force: true });
  }

  /** Runs a query-request (or attaches to the first run of the same requestId) and answers it. */
  async request(entry: SessionEntry, requestId: string | null, body: QueryRequestBody, res: http.ServerResponse) {
    const existing = requestId ? this.queries.get(this.byRequestId.get(requestId) ?? '') : undefined;
    const rec = existing ?? this.start(entry, requestId, body);
    if (body.asyncExec && !existing) {
      return sendDataWith(res, '333334', 'Asynchronous execution in progress.', {
        queryId: rec.id,
        getResultUrl: `/queries/${rec.id}/result`,
      });
    }
    await rec.done;
    this.answer(rec, res);
  }

  /** Starts a request on the session's queue and records it. */
  private start(entry: SessionEntry, requestId: string | null, body: QueryRequestBody): QueryRecord {
    const s = entry.session;
    const rec = this.record(s.id, requestId, body.sqlText ?? '');
    const count = multiStatementCount(body);
    // MULTI_STATEMENT_COUNT = 0 with one statement answers as a single statement does (the Python connector,
    // which dlt drives with num_statements=0, refuses a multi-statement answer to PUT/GET).
    const single = count === 1 || (count === 0 && this.engine.statementTexts(rec.sql).length === 1);
    const run = () => (single ? this.run(rec, s, body) : this.runMulti(rec, s, body, count));
    rec.done = entry.queue.then(run, run);
    entry.queue = rec.done;
    return rec;
  }

  private record(sessionId: string, requestId: string | null, sql: string): QueryRecord {
    const rec: QueryRecord = {
      id: randomUUID(),
      requestId,
      sessionId,
      sql,
      status: 'RUNNING',
      started: Date.now(),
      done: Promise.resolve(),
      aborted: false,
    };
    this.queries.set(rec.id, rec);
    if (requestId) this.byRequestId.set(requestId, rec.id);
    return rec;
  }

  /** Runs one statement and records its result or error. */
  private async run(rec: QueryRecord, s: Session, body: QueryRequestBody): Promise<void> {
    try {
      if (rec.aborted) throw toSnowflakeError(new Error('INTERRUPT'));
      this.injectStatementFault(rec.sql);
      rec.interrupt = () => s.conn.interrupt();
      const outcome = body.describeOnly
        ? await this.engine.describeOnly(s, rec.sql, body.bindings)
        : await this.engine.execute(s, rec.sql, body.bindings);
      rec.data = await this.resultData(rec, s, outcome, body.describeOnly === true);
      rec.status = 'SUCCESS';
    } catch (e) {
      rec.error = toSnowflakeError(e);
      rec.status = rec.aborted ? 'ABORTED' : 'FAILED_WITH_ERROR';
    } finally {
      // A describe-only request (a driver preparing a statement) is not one of the session's queries.
      if (!body.describeOnly) s.history.record(rec.id, rec.data);
      rec.interrupt = undefined;
    }
  }

  /**
   * A multi-statement request (`MULTI_STATEMENT_COUNT` 0 = any number, or n): each statement runs in
   * turn as a child query with its own id; the request answers one status row and `resultIds`
   * (comma-separated, in order), whose results the driver fetches from `/queries/{id}/result`. The
   * first failing statement fails the request with its error; the ones before it stay done.
   */
  private async runMulti(rec: QueryRecord, s: Session, body: QueryRequestBody, count: number): Promise<void> {
    const texts = this.engine.statementTexts(rec.sql);
    if (count > 0 && texts.length !== count) {
      rec.error = new SnowflakeError(
        '000008',
        '0A000',
        `Actual statement count ${texts.length} did not match the desired statement count ${count}.`,
      );
      rec.status = 'FAILED_WITH_ERROR';
      return;
    }
    const children = texts.map((sql) => this.record(s.id, null, sql));
    for (const child of children) {
      child.done = this.run(child, s, { sqlText: child.sql });
      await child.done;
      if (child.status !== 'SUCCESS') {
        rec.error = child.error;
        rec.status = child.status;
        return;
      }
    }
    rec.data = {
      ...this.common(rec, s, StatementType.SELECT),
      rowtype: [textColumn('multiple statement execution')],
      rowset: [['Multiple statements executed successfully.']],
      total: 1,
      returned: 1,
      chunks: [],
      resultIds: children.map((c) => c.id).join(','),
      resultTypes: children.map((c) => String(c.data?.statementTypeId ?? StatementType.SELECT)).join(','),
    };
    rec.status = 'SUCCESS';
  }

  private injectStatementFault(sql: string): void {
    const f = this.faults?.failStatement;
    if (!f) return;
    const re = typeof f.pattern === 'string' ? new RegExp(f.pattern, 'i') : f.pattern;
    if (!re.test(sql)) return;
    const key = re.source;
    const n = (this.statementMatches.get(key) ?? 0) + 1;
    this.statementMatches.set(key, n);
    if (n === f.nth)
      throw new SnowflakeError(
        f.code ?? '000603',
        f.sqlState ?? 'XX000',
        f.message ??
          'SQL execution internal error: Processing aborted due to error 300002:0 (emulator fault injection).',
      );
  }

  /** Turns an outcome into the query-response `data` (running the query for `query` outcomes). */
  private async resultData(
    rec: QueryRecord,
    s: Session,
    outcome: StatementOutcome,
    describeOnly: boolean,
  ): Promise<Record<string, unknown>> {
    const common = this.common(
      rec,
      s,
      outcome.kind === 'transfer' ? 0x7000 : (outcome.statementTypeId ?? StatementType.SELECT),
    );
    if (outcome.kind === 'transfer') {
      const form = s3EndpointFormFor(s.client, outcome.command);
      const s3 = form
        ? { endpoint: s3EndPoint(this.baseUrl, form), sessionToken: s.id, dataDir: this.engine.dataDir }
        : undefined;
      return { ...common, ...transferResponseData(outcome, s3), total: 0, returned: 0 };
    }
    if (outcome.kind === 'rows') {
      return {
        ...common,
        rowtype: outcome.columns,
        rowset: describeOnly ? [] : outcome.rows,
        total: outcome.rows.length,
        returned: describeOnly ? 0 : outcome.rows.length,
        chunks: [],
      };
    }
    if (describeOnly) {
      const rowtype = refineRowType(await this.engine.describe(s.conn, outcome.duckdbSql), s.namedColumns);
      return { ...common, rowtype, rowset: [], total: 0, returned: 0, chunks: [] };
    }
    // Outside a transaction the query runs on a connection borrowed from the catalog's idle ones, so the
    // session is free for its next statement while the driver downloads chunks; inside one, on the session's.
    const catalog = this.engine.catalog;
    const own = !s.inTransaction;
    const conn = own ? await catalog.borrow() : s.conn;
    if (own) {
      rec.interrupt = () => conn.interrupt();
      try {
        if (s.database) await conn.run(`USE ${quoteIdent(s.database)}${s.schema ? `.${quoteIdent(s.schema)}` : ''}`);
      } catch (e) {
        conn.closeSync();
        throw e;
      }
    }
    const result = await runQuery({
      sql: outcome.duckdbSql,
      conn,
      ownsConn: own,
      recycle: (c) => catalog.giveBack(c),
      connect: () => catalog.connect(),
      spoolFile: path.join(this.engine.dataDir, RESULTS_DIR, `${rec.id}.parquet`),
      names: outcome.columnNames,
    });
    rec.producer = result.producer;
    return {
      ...common,
      rowtype: refineRowType(result.columns, s.namedColumns),
      rowset: result.rowset,
      total: result.total,
      returned: result.total,
      chunks: result.chunks.map((c, k) => ({ url: `${this.baseUrl}/chunks/${rec.id}/${k}`, ...c })),
      chunkHeaders: {},
    };
  }

  /** The fields every query response `data` carries. */
  private common(rec: QueryRecord, s: Session, statementTypeId: number): Record<string, unknown> {
    return {
      queryId: rec.id,
      version: 1,
      parameters: sessionParameters(s),
      finalDatabaseName: s.database,
      finalSchemaName: s.schema,
      finalWarehouseName: 'COMPUTE_WH',
      finalRoleName: 'ACCOUNTADMIN',
      queryResultFormat: 'json',
      statementTypeId,
    };
  }

  private answer(rec: QueryRecord, res: http.ServerResponse): void {
    if (rec.status === 'SUCCESS') return sendData(res, rec.data);
    const e = rec.error ?? new SnowflakeError('000603', 'XX000', 'Unknown failure');
    sendError(res, e, { queryId: rec.id, internalError: false, age: 0 });
  }

  /** `POST /queries/{id}/abort-request` (or by requestId): interrupts a running query. */
  abort(queryId: string | undefined, res: http.ServerResponse): void {
    const rec = queryId ? this.queries.get(queryId) : undefined;
    if (rec && rec.status === 'RUNNING') {
      rec.aborted = true;
      // The query may be between connections (translated, not yet started on the one that runs it):
      // interrupt again until it has stopped.
      const interrupt = () => {
        if (rec.status !== 'RUNNING') return;
        rec.interrupt?.();
        setTimeout(interrupt, 100).unref();
      };
      interrupt();
    }
    sendData(res, null);
  }

  /** The query id a driver's requestId started. */
  byRequest(requestId: string): string | undefined {
    return this.byRequestId.get(requestId);
  }

  /** `GET /queries/{id}/result`: waits for the query, then answers as the query-request would have. */
  async result(queryId: string, res: http.ServerResponse): Promise<void> {
    const rec = this.queries.get(queryId);
    if (!rec)
      return sendError(res, new SnowflakeError('000709', '02000', `Statement ${queryId} not found`), { queryId });
    await rec.done;
    this.answer(rec, res);
  }

  /** `GET /monitoring/queries/{id}`: the query's status, without waiting. */
  monitoring(queryId: string, res: http.ServerResponse): void {
    const rec = this.queries.get(queryId);
    if (!rec) return sendData(res, { queries: [] });
    sendDataWith(res, null, rec.error?.message ?? null, {
      queries: [
        {
          id: rec.id,
          status: rec.status,
          sqlText: rec.sql,
          startTime: rec.started,
          errorCode: rec.error?.code ?? null,
          errorMessage: rec.error?.message ?? null,
        },
      ],
      sqlState: rec.error?.sqlState ?? null,
    });
  }

  /** `GET /chunks/{id}/{n}`: a result chunk, produced on demand; 404 unknown, 410 no longer available. */
  async chunk(queryId: string, index: number, res: http.ServerResponse): Promise<void> {
    const producer = this.queries.get(queryId)?.producer;
    if (!producer || index >= producer.chunkCount) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such chunk');
      return;
    }
    try {
      const body = await producer.body(index);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    } catch (e) {
      res.writeHead(410, { 'Content-Type': 'text/plain' }).end((e as Error).message);
    }
  }

  /** Drops finished query records and idle results older than `maxAgeMs`. */
  sweep(maxAgeMs: number): void {
    const cutoff = Date.now() - maxAgeMs;
    for (const [id, q] of this.queries) {
      if (q.status !== 'RUNNING' && q.started < cutoff && (!q.producer || q.producer.lastAccess < cutoff)) {
        void q.producer?.close();
        this.forget(id, q);
      }
    }
  }

  /** Drops the records (and open results) of one session, or of every session. */
  async drop(sessionId?: string): Promise<void> {
    for (const [id, q] of this.queries) {
      if (sessionId !== undefined && q.sessionId !== sessionId) continue;
      await q.producer?.close().catch(() => undefined);
      this.forget(id, q);
    }
  }

  private forget(id: string, q: QueryRecord): void {
    this.queries.delete(id);
    if (q.requestId) this.byRequestId.delete(q.requestId);
  }
}

/** A successful answer with a `code`/`message` (async execution in progress, monitoring). */
function sendDataWith(res: http.ServerResponse, code: string | null, message: string | null, data: unknown): void {
  sendJson(res, { success: true, code, message, data });
}
