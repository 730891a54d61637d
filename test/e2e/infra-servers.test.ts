import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, migrate } from '../../src/db/index.js';
import { startPostgres } from '../../src/infra/postgres.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/jobs/common.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

describe('test servers from global setup', () => {
  it('are exposed through inject() and environment variables', () => {
    expect(inject('pgServerUrl')).toMatch(/^postgres(ql)?:\/\//);
    expect(inject('temporalAddress')).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.FLOE_TEST_PG_URL).toBe(inject('pgServerUrl'));
    expect(process.env.FLOE_TEST_TEMPORAL_ADDRESS).toBe(inject('temporalAddress'));
  });

  it('Temporal has every floe search attribute with its type', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const res = await connection.operatorService.listSearchAttributes({ namespace: inject('temporalNamespace') });
      const custom = res.customAttributes ?? {};
      const typeNames: Record<number, string> = {
        1: 'Text',
        2: 'Keyword',
        3: 'Int',
        4: 'Double',
        5: 'Bool',
        6: 'Datetime',
        7: 'KeywordList',
      };
      for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
        expect(custom[name], name).toBeDefined();
        expect(typeNames[Number(custom[name])], name).toBe(type);
      }
    } finally {
      await connection.close();
    }
  });
});

describe('migrations', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('create the table-sync tables', async () => {
    const pool = createPool(db.url);
    try {
      const { rows } = await pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['allowed_tables', 'pgmigrations', 'table_metadata', 'table_sync_status', 'tokens']),
      );
    } finally {
      await pool.end();
    }
  });

  it('are idempotent', async () => {
    expect(await migrate(db.url)).toEqual([]);
    expect(await migrate(db.url)).toEqual([]);
  });

  it('enforce keys, defaults and cascades', async () => {
    const pool = createPool(db.url);
    try {
      const { rows } = await pool.query<{ table_id: string; source: string; status: string }>(
        "INSERT INTO allowed_tables (database_name, schema_name, table_name, primary_key, target_schema, target_table) VALUES ('DB', 'S', 'T', ARRAY['ID'], 'DB__S', 'T') RETURNING table_id, source, status",
      );
      expect(rows[0]).toMatchObject({ source: 'snowflake', status: 'active' });
      const id = rows[0].table_id;
      await expect(
        pool.query(
          "INSERT INTO allowed_tables (database_name, schema_name, table_name, target_schema, target_table) VALUES ('DB', 'S', 'T', 'X', 'T')",
        ),
      ).rejects.toMatchObject({ code: '23505' });
      // One target per registration, compared case-insensitively (as DuckDB matches names).
      await expect(
        pool.query(
          "INSERT INTO allowed_tables (database_name, schema_name, table_name, target_schema, target_table) VALUES ('DB2', 'S', 'T', 'db__s', 't')",
        ),
      ).rejects.toMatchObject({ code: '23505', constraint: 'allowed_tables_target_key' });
      await pool.query("INSERT INTO table_metadata (table_id, columns) VALUES ($1, '[]')", [id]);
      await pool.query("INSERT INTO table_sync_status (table_id, last_sync_status) VALUES ($1, 'completed')", [id]);
      await pool.query('DELETE FROM allowed_tables WHERE table_id = $1', [id]);
      const left = await pool.query(
        'SELECT (SELECT count(*) FROM table_metadata) + (SELECT count(*) FROM table_sync_status) AS n',
      );
      expect(Number(left.rows[0].n)).toBe(0);
      await pool.query(
        "INSERT INTO tokens (token_id, subject, expires_at) VALUES (gen_random_uuid(), 'admin', now() + interval '30 minutes')",
      );
    } finally {
      await pool.end();
    }
  });

  it('are safe when several processes migrate at once', async () => {
    const empty = await freshDatabase({ migrated: false });
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => migrate(empty.url)));
      const applied = results.filter((r) => r.length > 0);
      expect(applied).toHaveLength(1);
      expect(applied[0]).toContain('0001_table-sync');
      expect(await migrate(empty.url)).toEqual([]);
    } finally {
      await empty.drop();
    }
  });

  it('can be reverted and re-applied', async () => {
    const scratch = await freshDatabase();
    try {
      const all = await migrate(scratch.url, { direction: 'down', count: Infinity });
      expect(all).toContain('0001_table-sync');
      expect(await migrate(scratch.url)).toContain('0001_table-sync');
    } finally {
      await scratch.drop();
    }
  });
});

describe('startPostgres', () => {
  it.runIf(process.getuid?.() === 0)(
    'keeps the cluster elsewhere when the postgres user cannot reach the data dir',
    async () => {
      const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-private-')); // mode 0700, owned by root
      const requested = path.join(privateDir, 'pg');
      const server = await startPostgres({ dataDir: requested, ephemeral: true });
      try {
        expect(server.dataDir).not.toBe(requested);
        expect(fs.readFileSync(path.join(requested, 'CLUSTER-IS-ELSEWHERE'), 'utf8').trim()).toBe(server.dataDir);
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe('floe');
        await client.end();
      } finally {
        await server.stop(); // ephemeral: removes server.dataDir
        fs.rmSync(privateDir, { recursive: true, force: true });
      }
    },
  );

  it('restarts on an existing cluster with the same password', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-pg-restart-'));
    try {
      // Not ephemeral: an ephemeral cluster is deleted when it stops.
      const first = await startPostgres({ dataDir: dir });
      await first.stop();
      const second = await startPostgres({ dataDir: dir });
      try {
        expect(new URL(second.url).password).toBe(new URL(first.url).password);
        const client = new pg.Client({ connectionString: second.url });
        await client.connect();
        await client.end();
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shared workflow bundle', () => {
  it('is built once per run from src/workflows', async () => {
    const { sharedWorkflowBundle } = await import('../helpers/temporal.js');
    const bundle = sharedWorkflowBundle();
    expect(fs.statSync(bundle.codePath).size).toBeGreaterThan(1000);
  });
});
