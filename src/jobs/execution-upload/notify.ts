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
  /** Stop listening and close the connection. Never throws. */
  close(): Promise<void>;
}

/**
 * LISTEN on {@link QUEUED_CHANNEL} and call `onQueued` for notifications (see {@link QueueListenerOptions}).
 * After a lost connection it reconnects every `retryMs` and, once listening again, calls `onQueued` once
 * (work may have been queued meanwhile).
 * @throws the first connection's error (unreachable database, refused sign-in).
 */
export async function listenForQueuedUploads(opts: QueueListenerOptions): Promise<QueueListener> {
  const log = opts.logger?.child({ component: 'execution-upload-listener' });
  const minGapMs = opts.minGapMs ?? 1_000;
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let calling: Promise<void> | null = null;
  let again = false;

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

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'floe-execution-upload-listen' });
    const lost = (err?: Error): void => {
      if (client !== c || closed) return;
      client = null;
      log?.warn({ err: err?.message ?? 'connection ended' }, 'queue listener lost its connection; reconnecting');
      c.end().catch(() => undefined);
      scheduleReconnect();
    };
    c.on('notification', wake);
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${QUEUED_CHANNEL}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    client = c;
  };

  const scheduleReconnect = (): void => {
    retry = setTimeout(() => {
      retry = null;
      if (closed) return;
      connect().then(wake, (err: unknown) => {
        log?.warn({ err: (err as Error).message }, 'queue listener cannot reconnect yet');
        scheduleReconnect();
      });
    }, opts.retryMs ?? 5_000);
    retry.unref();
  };

  await connect();
  return {
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
