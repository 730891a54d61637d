/**
 * The control-plane pool survives a connection terminated by the server (`pg_terminate_backend`, a
 * PostgreSQL restart) while a client is checked out between queries, as the cache refresh's advisory
 * lock holds one: the failure is an `error` event on the client, which must not crash the process.
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
});
