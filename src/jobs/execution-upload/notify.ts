/**
 * Wake-up of the execution upload drain: every INSERT into `snowflake_sync_queue` notifies
 * {@link QUEUED_CHANNEL} (migrations/0008_execution_upload_notify.sql); a worker serving execution upload
 * LISTENs on it with one dedicated PostgreSQL connection and triggers the drain Schedule, so a completed
 * execution starts uploading within about a second instead of at the Schedule's next tick (30 s).
 *
 * PostgreSQL delivers notifications when the inserting transaction commits, and folds identical ones of
 * one transaction into one (PostgreSQL documentation, NOTIFY). The Schedule keeps ticking, so a lost
 * notification (listener reconnecting, worker restarting) only delays work to the next tick.
 */
import pg from 'pg';
import type { Logger } from 'pino';

/** The channel the queue's INSERT trigger notifies. */
export const QUEUED_CHANNEL = 'floe_execution_upload_queued';

/** Options of {@link listenForQueuedUploads}. */
export interface QueueListenerOptions {
  /** The control-plane database (DATABASE_URL); never logged. */
  databaseUrl: string;
  /**
   * What a notification does (trigger the drain). Calls never overlap: notifications during a call
   * make one more call after it, at least `minGapMs` (default 1 000) after the previous one started.
   * A rejection is logged and otherwise ignored.
   */
  onQueued: () => Promise<unknown>;
  minGapMs?: number;
  /** Milliseconds before reconnecting after the connection failed (default 5 000). */
  retryMs?: number;
  logger?: Logger;
}

/** A running listener. */
export interface QueueListener {
  /** Resolves once the listener first LISTENs (it keeps trying in the background until then). */
  readonly ready: Promise<void>;
  /** Stop listening and close the connection, also one still connecting. Never throws. */
  close(): Promise<void>;
}

/**
 * LISTEN on {@link QUEUED_CHANNEL} and call `onQueued` for notifications (see {@link QueueListenerOptions}).
 * Returns at once and connects in the background: a failed or lost connection is logged and retried
 * every `retryMs`, and once listening again after a loss it calls `onQueued` once (work may have been
 * queued meanwhile). Never throws.
 */
export function listenForQueuedUploads(opts: QueueListenerOptions): QueueListener {
  const log = opts.logger?.child({ component: 'execution-upload-listener' });
  const minGapMs = opts.minGapMs ?? 1_000;
  const retryMs = opts.retryMs ?? 5_000;
  let closed = false;
  /** The connection in use or being opened. */
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let calling: Promise<void> | null = null;
  let again = false;
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));

  const wake = (): void => {
    if (closed) return;
    if (calling) {
      again = true;
      return;
    }
    calling = (async () => {
      do {
        again = false;
        const started = Date.now();
        await opts
          .onQueued()
          .catch((err: unknown) => log?.warn({ err: (err as Error).message }, 'drain trigger failed'));
        const wait = minGapMs - (Date.now() - started);
        if (again && wait > 0) await new Promise((r) => setTimeout(r, wait));
      } while (again && !closed);
      calling = null;
    })();
  };

  const connect = (reconnecting: boolean): void => {
    retry = null;
    if (closed) return;
    const c = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'floe-execution-upload-listen' });
    client = c;
    let failed = false;
    const fail = (err?: Error): void => {
      if (failed || client !== c || closed) return;
      failed = true;
      client = null;
      log?.warn({ err: err?.message ?? 'connection ended' }, 'queue listener not connected; retrying');
      c.end().catch(() => undefined);
      retry = setTimeout(() => connect(true), retryMs);
      retry.unref();
    };
    c.on('notification', wake);
    c.on('error', fail);
    c.on('end', () => fail());
    c.connect()
      .then(() => c.query(`LISTEN ${QUEUED_CHANNEL}`))
      .then(() => {
        if (client !== c) return;
        listening();
        if (reconnecting) wake();
      }, fail);
  };

  connect(false);
  return {
    ready,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
      await calling;
    },
  };
}
