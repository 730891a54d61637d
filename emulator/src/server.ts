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
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Engine } from './engine.js';
import { SnowflakeError, toSnowflakeError } from './errors.js';
import { readBody, sendData, sendError, sendJson, tokenOf, urlHost } from './http.js';
import { sessionParameters } from './parameters.js';
import { parameterBoolean } from './statements/session.js';
import { Queries, type FaultOptions, type QueryRequestBody, type SessionEntry } from './queries.js';
import { handleS3Request } from './s3-endpoint.js';
import type { UserStore } from './users.js';

export interface ServerOptions {
  engine: Engine;
  /** Who may sign in; an empty store refuses every login. */
  users: UserStore;
  faults?: FaultOptions;
  /** Called when a session ends (temporary stages are dropped there). */
  onSessionEnd?: (sessionId: string) => Promise<void>;
}

/** Finished queries and idle results are dropped after an hour. */
const RESULT_RETENTION_MS = 3_600_000;

/** The emulator's HTTP server. */
export class EmulatorServer {
  private readonly server: http.Server;
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly queries: Queries;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ServerOptions) {
    this.queries = new Queries(opts.engine, opts.faults);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // A bug in the emulator, not a SQL error: still answer in Snowflake's shape, HTTP 200.
        sendError(res, new SnowflakeError('000603', 'XX000', `Emulator internal error: ${(e as Error).message}`));
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
    const bound = (this.server.address() as AddressInfo).port;
    this.queries.baseUrl = `http://${urlHost(host)}:${bound}`;
    this.sweeper = setInterval(() => this.queries.sweep(RESULT_RETENTION_MS), 60_000);
    this.sweeper.unref();
    return bound;
  }

  /** Stops listening, closes every session and pending result. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.queries.drop();
    for (const [id, e] of this.sessions) {
      await this.opts.engine.closeSession(e.session).catch(() => undefined);
      this.sessions.delete(id);
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
    if (await handleS3Request(req, res, this.opts.engine.dataDir, (t) => this.sessions.has(t))) return;
    const body = req.method === 'POST' ? await readBody(req) : undefined;

    if (p === '/session/v1/login-request') return this.login(url, body, res);
    if (p === '/telemetry/send') return sendJson(res, { success: true, data: null });
    const chunk = /^\/chunks\/([^/]+)\/(\d+)$/.exec(p);
    if (chunk) return this.queries.chunk(chunk[1], Number(chunk[2]), res);

    const token = tokenOf(req);
    const entry = token ? this.sessions.get(token) : undefined;
    if (!entry)
      return sendError(res, new SnowflakeError('390112', '08001', 'Your session has expired. Please login again.'));
    entry.session.lastUsed = Date.now();
    if (p === '/session' && url.searchParams.get('delete') === 'true') return this.logout(entry, res);
    if (p === '/session/heartbeat') return sendData(res, null);
    if (p === '/session/token-request')
      return sendJson(res, {
        success: true,
        data: { sessionToken: token, validityInSecondsST: 3600, masterToken: token, validityInSecondsMT: 14400 },
      });
    if (p === '/queries/v1/query-request')
      return this.queries.request(entry, url.searchParams.get('requestId'), body as QueryRequestBody, res);
    if (p === '/queries/v1/abort-request')
      return this.queries.abort(this.queries.byRequest(String((body as { requestId?: string })?.requestId)), res);
    let m: RegExpExecArray | null;
    if ((m = /^\/queries\/([^/]+)\/abort-request$/.exec(p))) return this.queries.abort(m[1], res);
    if ((m = /^\/queries\/([^/]+)\/result$/.exec(p))) return this.queries.result(m[1], res);
    if ((m = /^\/monitoring\/queries\/([^/]+)\/?$/.exec(p))) return this.queries.monitoring(m[1], res);
    res.writeHead(404).end();
  }

  private async login(url: URL, body: unknown, res: http.ServerResponse): Promise<void> {
    const data = (body as { data?: Record<string, unknown> })?.data ?? {};
    let user: string;
    try {
      user = await this.opts.users.authenticate(data);
    } catch (e) {
      return sendError(res, toSnowflakeError(e));
    }
    const database = url.searchParams.get('databaseName') ?? (data.databaseName as string | undefined) ?? null;
    const schema = url.searchParams.get('schemaName') ?? (data.schemaName as string | undefined) ?? null;
    const token = randomUUID();
    const session = await this.opts.engine.openSession(token, database, schema);
    session.user = user;
    session.client = { id: String(data.CLIENT_APP_ID ?? ''), version: String(data.CLIENT_APP_VERSION ?? '') };
    const autocommit = (data.SESSION_PARAMETERS as Record<string, unknown> | undefined)?.AUTOCOMMIT;
    if (autocommit !== undefined) session.autocommit = parameterBoolean(String(autocommit));
    this.sessions.set(token, { session, queue: Promise.resolve() });
    sendData(res, {
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
      parameters: sessionParameters(session),
      sessionInfo: {
        databaseName: session.database,
        schemaName: session.schema,
        warehouseName: 'COMPUTE_WH',
        roleName: 'ACCOUNTADMIN',
      },
    });
  }

  private async logout(entry: SessionEntry, res: http.ServerResponse): Promise<void> {
    this.sessions.delete(entry.session.id);
    await entry.queue.catch(() => undefined);
    await this.queries.drop(entry.session.id);
    await this.opts.engine.closeSession(entry.session);
    await this.opts.onSessionEnd?.(entry.session.id);
    sendData(res, null);
  }
}
