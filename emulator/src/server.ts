/**
 * The HTTP side of the emulator: the REST protocol snowflake-sdk 3.x speaks.
 *
 * | route | answer |
 * |---|---|
 * | `POST /session/v1/login-request` | token, masterToken, sessionId, parameters; or Snowflake's login error (users.ts checks the credential) |
 * | `POST /queries/v1/query-request` | result (inline rowset or lazy chunks), or `333334` for asyncExec |
 * | `GET /queries/{id}/result` | the result of a (possibly async) query; waits for it to finish |
 * | `GET /monitoring/queries/{id}` | `{queries:[{id,status}]}` (RUNNING / SUCCESS / FAILED_WITH_ERROR / ABORTED) |
 * | `POST /queries/{id}/abort-request`, `POST /queries/v1/abort-request` | interrupts the DuckDB query |
 * | `GET /chunks/{id}/{n}` | chunk body, produced on demand |
 * | `POST /session/heartbeat`, `POST /session?delete=true`, `POST /telemetry/send` | accepted |
 *
 * SQL errors are HTTP 200 `{success:false, code, message, data:{errorCode, sqlState, queryId}}`;
 * never a 5xx (the driver retries those), except the ones fault injection asks for.
 * A retried query-request (same requestId) attaches to the first execution instead of running twice.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { StatementOutcome } from './contract.js';
import { SnowflakeError } from './errors.js';
import { Engine, toSnowflakeError } from './engine.js';
import type { Session } from './session.js';
import type { UserStore } from './users.js';
import { runQuery, type ChunkProducer, type QueryResult } from './session-results.js';
import type { Bindings } from './sql/binds.js';

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

/**
 * Login parameters. `CLIENT_STAGE_ARRAY_BINDING_THRESHOLD` is set very high: the driver then never
 * switches array binds to the temporary-stage path (`SYSTEM$BIND`), which the emulator does not
 * implement; array binds always arrive inline as `bindings`.
 */
const SESSION_PARAMETERS = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 2_000_000_000 },
  { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
  { name: 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', value: 3600 },
  { name: 'CLIENT_RESULT_CHUNK_SIZE', value: 160 },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: '' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: '' },
];

/** Spool files of large results (session-results.ts), under the data directory; emptied at start. */
const RESULTS_DIR = '.results';

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

interface SessionEntry {
  session: Session;
  /** Serialises statements of one session (the driver may pipeline). */
  queue: Promise<unknown>;
}

export interface ServerOptions {
  engine: Engine;
  /** Who may sign in; an empty store refuses every login. */
  users: UserStore;
  faults?: FaultOptions;
  /** Called when a session ends (temporary stages are dropped there). */
  onSessionEnd?: (sessionId: string) => Promise<void>;
}

/** The emulator's HTTP server. */
export class EmulatorServer {
  private readonly server: http.Server;
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly queries = new Map<string, QueryRecord>();
  private readonly byRequestId = new Map<string, string>();
  private readonly statementMatches = new Map<string, number>();
  private baseUrl = '';
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ServerOptions) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // A bug in the emulator, not a SQL error: still answer in Snowflake's shape, HTTP 200.
        sendJson(res, {
          success: false,
          code: '000603',
          message: `Emulator internal error: ${(e as Error).message}`,
          data: { errorCode: '000603', sqlState: 'XX000' },
        });
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  /**
   * Listens on `host`:`port` (0 = ephemeral); returns the bound port. Result chunk URLs name `host`,
   * or this machine's host name when `host` is a wildcard address (0.0.0.0, ::).
   */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    fs.rmSync(path.join(this.opts.engine.dataDir, RESULTS_DIR), { recursive: true, force: true });
    const bound = (this.server.address() as AddressInfo).port;
    this.baseUrl = `http://${urlHost(host)}:${bound}`;
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    return bound;
  }

  /** Stops listening, closes every session and pending result. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const q of this.queries.values()) await q.producer?.close().catch(() => undefined);
    for (const [id, e] of this.sessions) {
      await this.opts.engine.closeSession(e.session).catch(() => undefined);
      this.sessions.delete(id);
    }
  }

  /** Drops finished query records and idle results older than an hour. */
  private sweep(): void {
    const cutoff = Date.now() - 3_600_000;
    for (const [id, q] of this.queries) {
      if (q.status !== 'RUNNING' && q.started < cutoff && (!q.producer || q.producer.lastAccess < cutoff)) {
        void q.producer?.close();
        this.queries.delete(id);
        if (q.requestId) this.byRequestId.delete(q.requestId);
      }
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const faults = this.opts.faults;
    if (faults?.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const faultable = p.startsWith('/queries/') || p.startsWith('/chunks/');
    if (faultable && faults?.dropRate && Math.random() < faults.dropRate) {
      req.socket.destroy();
      return;
    }
    if (faultable && faults?.http503Rate && Math.random() < faults.http503Rate) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('Service Unavailable (emulator fault injection)');
      return;
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;

    if (p === '/session/v1/login-request') return this.login(url, body, res);
    if (p === '/telemetry/send') return sendJson(res, { success: true, data: null });
    const chunk = /^\/chunks\/([^/]+)\/(\d+)$/.exec(p);
    if (chunk) return this.chunk(chunk[1], Number(chunk[2]), res);

    const entry = this.sessionOf(req);
    if (!entry) {
      return sendJson(res, {
        success: false,
        code: '390112',
        message: 'Your session has expired. Please login again.',
        data: { errorCode: '390112', sqlState: '08001' },
      });
    }
    entry.session.lastUsed = Date.now();
    if (p === '/session' && url.searchParams.get('delete') === 'true') return this.logout(entry, res);
    if (p === '/session/heartbeat') return sendJson(res, { success: true, code: null, message: null, data: null });
    if (p === '/session/token-request')
      return sendJson(res, {
        success: true,
        data: {
          sessionToken: tokenOf(req),
          validityInSecondsST: 3600,
          masterToken: tokenOf(req),
          validityInSecondsMT: 14400,
        },
      });
    if (p === '/queries/v1/query-request') return this.queryRequest(entry, url, body as QueryRequestBody, res);
    if (p === '/queries/v1/abort-request')
      return this.abort(this.byRequestId.get(String((body as { requestId?: string })?.requestId)), res);
    let m: RegExpExecArray | null;
    if ((m = /^\/queries\/([^/]+)\/abort-request$/.exec(p))) return this.abort(m[1], res);
    if ((m = /^\/queries\/([^/]+)\/result$/.exec(p))) return this.result(m[1], res);
    if ((m = /^\/monitoring\/queries\/([^/]+)$/.exec(p))) return this.monitoring(m[1], res);
    res.writeHead(404).end();
  }

  private sessionOf(req: http.IncomingMessage): SessionEntry | undefined {
    const token = tokenOf(req);
    return token ? this.sessions.get(token) : undefined;
  }

  private async login(url: URL, body: unknown, res: http.ServerResponse): Promise<void> {
    const data = (body as { data?: Record<string, unknown> })?.data ?? {};
    let user: string;
    try {
      user = await this.opts.users.authenticate(data);
    } catch (e) {
      const err = toSnowflakeError(e);
      return sendJson(res, {
        success: false,
        code: err.code,
        message: err.message,
        data: { errorCode: err.code, sqlState: err.sqlState },
      });
    }
    const database = url.searchParams.get('databaseName') ?? (data.databaseName as string | undefined) ?? null;
    const schema = url.searchParams.get('schemaName') ?? (data.schemaName as string | undefined) ?? null;
    const token = randomUUID();
    const session = await this.opts.engine.openSession(token, database, schema);
    session.user = user;
    this.sessions.set(token, { session, queue: Promise.resolve() });
    sendJson(res, {
      success: true,
      code: null,
      message: null,
      data: {
        token,
        masterToken: `master-${token}`,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: Math.floor(Math.random() * 1e15),
        displayUserName: user,
        serverVersion: '8.0.0',
        firstLogin: false,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
        parameters: SESSION_PARAMETERS,
        sessionInfo: {
          databaseName: session.database,
          schemaName: session.schema,
          warehouseName: 'COMPUTE_WH',
          roleName: 'ACCOUNTADMIN',
        },
      },
    });
  }

  private async logout(entry: SessionEntry, res: http.ServerResponse): Promise<void> {
    this.sessions.delete(entry.session.id);
    await entry.queue.catch(() => undefined);
    for (const [id, q] of this.queries) {
      if (q.sessionId === entry.session.id) {
        await q.producer?.close().catch(() => undefined);
        this.queries.delete(id);
      }
    }
    await this.opts.engine.closeSession(entry.session);
    await this.opts.onSessionEnd?.(entry.session.id);
    sendJson(res, { success: true, code: null, message: null, data: null });
  }

  private async queryRequest(
    entry: SessionEntry,
    url: URL,
    body: QueryRequestBody,
    res: http.ServerResponse,
  ): Promise<void> {
    const requestId = url.searchParams.get('requestId');
    const existing = requestId ? this.queries.get(this.byRequestId.get(requestId) ?? '') : undefined;
    const rec = existing ?? this.start(entry, requestId, body);
    if (body.asyncExec && !existing) {
      return sendJson(res, {
        success: true,
        code: '333334',
        message: 'Asynchronous execution in progress.',
        data: { queryId: rec.id, getResultUrl: `/queries/${rec.id}/result` },
      });
    }
    await rec.done;
    this.answer(rec, res);
  }

  /** Starts a statement on the session's queue and records it. */
  private start(entry: SessionEntry, requestId: string | null, body: QueryRequestBody): QueryRecord {
    const s = entry.session;
    const rec: QueryRecord = {
      id: randomUUID(),
      requestId,
      sessionId: s.id,
      sql: body.sqlText ?? '',
      status: 'RUNNING',
      started: Date.now(),
      done: Promise.resolve(),
      aborted: false,
    };
    this.queries.set(rec.id, rec);
    if (requestId) this.byRequestId.set(requestId, rec.id);
    const run = async () => {
      try {
        if (rec.aborted) throw toSnowflakeError(new Error('INTERRUPT'));
        this.injectStatementFault(rec.sql);
        rec.interrupt = () => s.conn.interrupt();
        const outcome = await this.opts.engine.execute(s, rec.sql, body.bindings);
        rec.data = await this.resultData(rec, s, outcome, body.describeOnly === true);
        rec.status = 'SUCCESS';
      } catch (e) {
        rec.error = toSnowflakeError(e);
        rec.status = rec.aborted ? 'ABORTED' : 'FAILED_WITH_ERROR';
      } finally {
        rec.interrupt = undefined;
      }
    };
    rec.done = entry.queue.then(run, run);
    entry.queue = rec.done;
    return rec;
  }

  private injectStatementFault(sql: string): void {
    const f = this.opts.faults?.failStatement;
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
    const common = {
      queryId: rec.id,
      version: 1,
      parameters: SESSION_PARAMETERS,
      finalDatabaseName: s.database,
      finalSchemaName: s.schema,
      finalWarehouseName: 'COMPUTE_WH',
      finalRoleName: 'ACCOUNTADMIN',
      queryResultFormat: 'json',
      statementTypeId: outcome.kind === 'transfer' ? 0x7000 : (outcome.statementTypeId ?? 0x1000),
    };
    if (outcome.kind === 'transfer') {
      return {
        ...common,
        command: outcome.command,
        src_locations: outcome.srcLocations,
        ...(outcome.localLocation ? { localLocation: outcome.localLocation } : {}),
        stageInfo: {
          locationType: 'LOCAL_FS',
          location: outcome.stageLocation,
          path: '',
          region: null,
          storageAccount: null,
          isClientSideEncrypted: false,
          creds: {},
        },
        parallel: outcome.parallel,
        overwrite: outcome.overwrite,
        autoCompress: outcome.autoCompress,
        sourceCompression: outcome.sourceCompression,
        encryptionMaterial: null,
        presignedUrls: [],
        rowtype: [],
        rowset: [],
        total: 0,
        returned: 0,
      };
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
      const rowtype = await this.opts.engine.describe(s.conn, outcome.duckdbSql);
      return { ...common, rowtype, rowset: [], total: 0, returned: 0, chunks: [] };
    }
    // Outside a transaction the query runs on a dedicated connection, so the session is free for its
    // next statement while the driver downloads chunks; inside one, on the session's connection.
    const spoolFile = path.join(this.opts.engine.dataDir, RESULTS_DIR, `${rec.id}.parquet`);
    const connect = () => this.opts.engine.catalog.connect();
    let result: QueryResult;
    if (s.inTransaction) {
      result = await runQuery({
        sql: outcome.duckdbSql,
        conn: s.conn,
        ownsConn: false,
        connect,
        spoolFile,
        names: outcome.columnNames,
      });
    } else {
      const conn = await connect();
      rec.interrupt = () => conn.interrupt();
      try {
        if (s.database)
          await conn.run(
            `USE "${s.database.replace(/"/g, '""')}"${s.schema ? `."${s.schema.replace(/"/g, '""')}"` : ''}`,
          );
      } catch (e) {
        conn.closeSync();
        throw e;
      }
      result = await runQuery({
        sql: outcome.duckdbSql,
        conn,
        ownsConn: true,
        connect,
        spoolFile,
        names: outcome.columnNames,
      });
    }
    rec.producer = result.producer;
    return {
      ...common,
      rowtype: result.columns,
      rowset: result.rowset,
      total: result.total,
      returned: result.total,
      chunks: result.chunks.map((c, k) => ({
        url: `${this.baseUrl}/chunks/${rec.id}/${k}`,
        rowCount: c.rowCount,
        uncompressedSize: c.uncompressedSize,
      })),
      chunkHeaders: {},
    };
  }

  private answer(rec: QueryRecord, res: http.ServerResponse): void {
    if (rec.status === 'SUCCESS') return sendJson(res, { success: true, code: null, message: null, data: rec.data });
    const e = rec.error ?? new SnowflakeError('000603', 'XX000', 'Unknown failure');
    sendJson(res, {
      success: false,
      code: e.code,
      message: e.message,
      data: { errorCode: e.code, sqlState: e.sqlState, queryId: rec.id, internalError: false, age: 0 },
    });
  }

  private abort(queryId: string | undefined, res: http.ServerResponse): void {
    const rec = queryId ? this.queries.get(queryId) : undefined;
    if (rec && rec.status === 'RUNNING') {
      rec.aborted = true;
      rec.interrupt?.();
    }
    sendJson(res, { success: true, code: null, message: null, data: null });
  }

  private async result(queryId: string, res: http.ServerResponse): Promise<void> {
    const rec = this.queries.get(queryId);
    if (!rec) {
      return sendJson(res, {
        success: false,
        code: '000709',
        message: `Statement ${queryId} not found`,
        data: { errorCode: '000709', sqlState: '02000', queryId },
      });
    }
    await rec.done;
    this.answer(rec, res);
  }

  private monitoring(queryId: string, res: http.ServerResponse): void {
    const rec = this.queries.get(queryId);
    if (!rec) return sendJson(res, { success: true, code: null, message: null, data: { queries: [] } });
    sendJson(res, {
      success: true,
      code: null,
      message: rec.error?.message ?? null,
      data: {
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
      },
    });
  }

  private async chunk(queryId: string, index: number, res: http.ServerResponse): Promise<void> {
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
}

interface QueryRequestBody {
  sqlText?: string;
  bindings?: Bindings;
  asyncExec?: boolean;
  describeOnly?: boolean;
}

function tokenOf(req: http.IncomingMessage): string | undefined {
  const m = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  let buf = Buffer.concat(parts);
  if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) buf = zlib.gunzipSync(buf);
  if (buf.length === 0) return undefined;
  return JSON.parse(buf.toString('utf8'));
}

function sendJson(res: http.ServerResponse, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/** `host` as the host part of a URL: wildcard addresses become this machine's name, IPv6 gets brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return os.hostname();
  return host.includes(':') ? `[${host}]` : host;
}
