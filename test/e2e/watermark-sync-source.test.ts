/**
 * The watermark sync's paged read (`sourceChunks`: a pg-cursor portal read in chunks) against a real
 * PostgreSQL whose backend is terminated at random moments of the read: every read ends, by its rows or
 * by a typed error naming the table, and the pool stays usable. pg-cursor alone leaves a read unanswered
 * when the connection dies between the portal's last rows and the server's ReadyForQuery (a watermark
 * batch hung that way in a chaos trial); the read now also ends when the client reports its connection
 * gone. The window is one round trip, so the loop below met it about once in 150 reads before the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '../../src/db/index.js';
import { sourceChunks } from '../../src/activities/watermark-sync/source.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
let admin: pg.Pool;

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'floe_wm_source', migrated: false });
  pool = createPool(db.url, { applicationName: 'floe-wm-source', max: 4 });
  admin = createPool(db.url, { applicationName: 'floe-wm-source-admin', max: 2 });
  await admin.query(`CREATE TABLE public.t AS SELECT i, md5(i::text) AS v FROM generate_series(1, 3000) i`);
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

describe('sourceChunks', () => {
  it('reads a page in order, chunk by chunk, values as text', async () => {
    const seen: string[] = [];
    const r = await sourceChunks<{ i: string; v: string }>(
      pool,
      'public.t',
      'SELECT i, v FROM public.t WHERE i > $1 ORDER BY i LIMIT 250',
      ['10'],
      100,
      (rows) => {
        seen.push(...rows.map((x) => x.i));
      },
    );
    expect(r.rows).toBe(250);
    expect(r.last).toMatchObject({ i: '260' });
    expect(seen).toEqual(Array.from({ length: 250 }, (_, k) => String(k + 11)));
  });

  it('ends every read whose backend is terminated at a random moment: rows or a typed error, never a hang', async () => {
    const outcomes = { ok: 0, failed: 0 };
    for (let i = 0; i < 200; i++) {
      const killer = setTimeout(
        () =>
          void admin
            .query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE application_name = 'floe-wm-source' AND query LIKE 'SELECT i, v FROM public.t ORDER BY i%'`,
            )
            .catch(() => undefined),
        Math.random() * 20,
      );
      const read = sourceChunks(
        pool,
        'public.t',
        'SELECT i, v FROM public.t ORDER BY i',
        [],
        100,
        () => new Promise<void>((r) => setImmediate(r)),
      ).then(
        (r) => ({ rows: r.rows }),
        (e: unknown) => ({ error: e as Error & { type?: string } }),
      );
      const timeout = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000).unref());
      const got = await Promise.race([read, timeout]);
      clearTimeout(killer);
      expect(got, `read ${i} did not end`).not.toBe('hung');
      if (got === 'hung') return;
      if ('rows' in got) {
        expect(got.rows).toBe(3000);
        outcomes.ok++;
      } else {
        expect(got.error.message).toMatch(/^public\.t: PostgreSQL: /);
        outcomes.failed++;
      }
    }
    // Both outcomes happened: the terminations did land during reads.
    expect(outcomes.failed).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
