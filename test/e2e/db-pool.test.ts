/**
 * The control-plane pool survives a connection terminated by the server (`pg_terminate_backend`, a
 * PostgreSQL restart) while a client is checked out between queries, as the cache refresh's advisory
 * lock holds one: the failure is an `error` event on the client, which must not crash the process.
 * And its `end()` waits for the connections to close, so stopping the server right after it
 * terminates none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '../../src/db/index.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
let admin: pg.Pool;

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'floe_pool', migrated: false });
  pool = createPool(db.url, { applicationName: 'floe-pool-test' });
  admin = createPool(db.url, { applicationName: 'floe-pool-admin' });
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

describe('createPool', () => {
  it('a checked-out client whose connection is terminated between queries fails its next query, not the process', async () => {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const failed = new Promise<Error>((resolve) => client.once('error', resolve));
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    // Without the pool's listener this event has no other listener than ours, and would crash the worker.
    expect((await failed).message).toMatch(/terminating connection/);
    expect(client.listenerCount('error')).toBeGreaterThan(0);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release();
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('end() resolves once every connection has closed: a server stopped right after finds none of them', async () => {
    const name = 'floe-pool-closing';
    const closing = createPool(db.url, { applicationName: name, max: 4 });
    let disconnected = 0;
    closing.on('connect', (client) => client.once('end', () => disconnected++));
    await Promise.all(Array.from({ length: 4 }, () => closing.query('SELECT pg_sleep(0.05)')));
    const held = await closing.connect();
    const ended = closing.end();
    held.release(); // a checked-out client closes when it is released
    await ended;
    expect(disconnected).toBe(4);
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    expect(rows[0]!.n).toBe(0);
  });
});
