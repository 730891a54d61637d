/**
 * The execution upload's queue listener on a real PostgreSQL (migrated, so the queue's NOTIFY trigger is
 * the migration's): a completed execution wakes it when its transaction commits, a burst of completions
 * in one statement is notified once, and a listener whose connection was killed reconnects and wakes.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForQueuedUploads, QUEUED_CHANNEL, type QueueListener } from '../../src/jobs/execution-upload/notify.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
let listener: QueueListener | undefined;
/** Calls of `onQueued` so far, and waiters for the next one. */
let calls = 0;
let waiters: (() => void)[] = [];
const nextCall = () => new Promise<void>((resolve) => waiters.push(resolve));

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'floe_upload_notify' });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  listener = listenForQueuedUploads({
    databaseUrl: db.url,
    minGapMs: 0,
    retryMs: 100,
    onQueued: async () => {
      calls++;
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    },
  });
  await listener.ready;
});

afterAll(async () => {
  await listener?.close();
  await pool?.end();
  await db?.drop();
});

let seq = 0;
const complete = (client: pg.Pool | pg.PoolClient, n = 1) =>
  client.query(
    `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results)
     SELECT 'notify_' || $1::int || '_' || i, '11111111-1111-4111-8111-111111111111', 'w', 'completed', '[]'::jsonb
       FROM generate_series(1, $2::int) i`,
    [++seq, n],
  );

describe('execution upload queue listener', () => {
  it('wakes when a completion is queued, once its transaction commits', async () => {
    const before = calls;
    const woke = nextCall();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await complete(client);
      expect(calls).toBe(before); // nothing is delivered before COMMIT
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await woke;
    expect(calls).toBe(before + 1);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM snowflake_sync_queue WHERE status = 'pending'`);
    expect(rows[0].n).toBe(1);
  });

  it('is notified once for a burst of completions in one statement', async () => {
    // A second listener of the same channel sees every notification in order; a marker sent after the
    // burst closes the count.
    const raw = new pg.Client({ connectionString: db.url });
    await raw.connect();
    try {
      const payloads: string[] = [];
      const marked = new Promise<void>((resolve) =>
        raw.on('notification', (n) => {
          payloads.push(n.payload ?? '');
          if (n.payload === 'marker') resolve();
        }),
      );
      await raw.query(`LISTEN ${QUEUED_CHANNEL}`);
      const woke = nextCall();
      await complete(pool, 50);
      await pool.query(`SELECT pg_notify($1, 'marker')`, [QUEUED_CHANNEL]);
      await marked;
      expect(payloads).toEqual(['', 'marker']);
      await woke;
    } finally {
      await raw.end();
    }
  });

  it('reconnects after its connection is killed, and wakes then and for later completions', async () => {
    const reconnected = nextCall();
    const { rows } = await pool.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'floe-execution-upload-listen'`,
    );
    expect(rows).toEqual([{ killed: true }]);
    await reconnected; // work may have been queued while it was away
    const woke = nextCall();
    await complete(pool);
    await woke;
  });
});
