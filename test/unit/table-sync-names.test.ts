/**
 * Pure pieces of the table sync client (src/jobs/table-sync/names.ts, job-view.ts, target.ts): job and schedule ids, the status
 * mapping and the visibility queries are pinned here, no server needed.
 */
import { describe, expect, it } from 'vitest';
import { jobStatusOf } from '../../src/jobs/table-sync/job-view.js';
import { listJobsQuery, tableSyncJobId, tableSyncScheduleId } from '../../src/jobs/table-sync/names.js';

describe('job ids', () => {
  it('name the table and the UTC start time, with a random suffix', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const id = tableSyncJobId({ database: 'DB', schema: 'S', table: 'T' }, at);
    expect(id).toMatch(/^tableSync-DB\.S\.T-20240102030405-[0-9a-f]{4}$/);
    expect(tableSyncJobId({ database: 'DB', schema: 'S', table: 'T' }, at)).not.toBe(id);
  });

  it('replace characters that are awkward in URLs and shells', () => {
    expect(tableSyncScheduleId({ database: 'DB', schema: 'my schema', table: 'we"ird/name' })).toBe(
      'tableSync-DB.my_schema.we_ird_name',
    );
  });
});

describe('status mapping', () => {
  it.each([
    ['RUNNING', 'pending', 'pending'],
    ['RUNNING', 'running', 'running'],
    ['RUNNING', undefined, 'running'],
    ['COMPLETED', 'completed', 'completed'],
    ['FAILED', 'failed', 'failed'],
    ['TIMED_OUT', 'running', 'failed'],
    ['CANCELLED', 'cancelled', 'cancelled'],
    ['TERMINATED', 'running', 'cancelled'],
  ] as const)('%s + FloeStatus %s → %s', (temporal, floe, expected) => {
    expect(jobStatusOf(temporal, floe)).toBe(expected);
  });
});

describe('visibility queries', () => {
  it('filter on FloeJobKind, FloeTable and the execution status', () => {
    expect(listJobsQuery({})).toBe("FloeJobKind = 'table_sync'");
    expect(listJobsQuery({ table: 'DB.S.T', status: 'running' })).toBe(
      "FloeJobKind = 'table_sync' AND FloeTable = 'DB.S.T' AND ExecutionStatus = 'Running' AND FloeStatus != 'pending'",
    );
    expect(listJobsQuery({ status: 'failed' })).toBe(
      "FloeJobKind = 'table_sync' AND (ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut')",
    );
    expect(listJobsQuery({ status: 'cancelled' })).toBe(
      "FloeJobKind = 'table_sync' AND (ExecutionStatus = 'Canceled' OR ExecutionStatus = 'Terminated')",
    );
  });

  it('escape quotes in table names', () => {
    expect(listJobsQuery({ table: "DB.S.it's" })).toBe("FloeJobKind = 'table_sync' AND FloeTable = 'DB.S.it\\'s'");
  });
});

describe('sampleTarget (DuckDB target → JSON/CSV/Parquet)', () => {
  it('keeps exact values in JSON: integers/decimals as strings, ISO timestamps, hex blobs', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { withDuckDb } = await import('../../src/connectors/duckdb.js');
    const { sampleTarget, targetState } = await import('../../src/jobs/table-sync/target.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-api-sample-'));
    const file = path.join(dir, 't.duckdb');
    try {
      await withDuckDb(file, async (conn) => {
        await conn.run(`CREATE SCHEMA "S"; CREATE TABLE "S"."Mixed Case" (
          id DECIMAL(38,0), amount DECIMAL(12,2), big BIGINT, f DOUBLE, ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, t TIME, b BLOB, j JSON, s VARCHAR)`);
        await conn.run(`INSERT INTO "S"."Mixed Case" VALUES
          (99999999999999999999999999999999999999, 0.10, 9223372036854775807, 1.5, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02', '2024-01-02', '01:02:03', '\\x00\\xFFab'::BLOB, '{"a": 12345678901234567890}', 'x'),
          (1, -1.00, -1, -0.25, '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '1970-01-01', '00:00:00', ''::BLOB, 'null', NULL)`);
      });
      const target = { schema: 'S', table: 'Mixed Case' };
      expect(await targetState(file, target)).toEqual({ exists: true, row_count: '2', columns: 11 });
      expect(await targetState(file, { schema: 'S', table: 'nope' })).toMatchObject({ exists: false });
      const r = await sampleTarget(file, target, { type: 'first', size: 10, format: 'JSON', orderBy: ['id'] });
      if (r.format !== 'JSON') throw new Error('expected JSON');
      expect(r.rows[1]).toEqual({
        id: '99999999999999999999999999999999999999',
        amount: '0.10',
        big: '9223372036854775807',
        f: 1.5,
        ts: '2024-01-02T03:04:05.123456',
        tz: '2024-01-02T01:04:05Z',
        d: '2024-01-02',
        t: '01:02:03',
        b: '00FF6162',
        j: '{"a": 12345678901234567890}',
        s: 'x',
      });
      expect(r.rows[0]).toMatchObject({ id: '1', amount: '-1.00', tz: '1970-01-01T00:00:00Z', s: null });
      const csv = await sampleTarget(file, target, { type: 'random', size: 1, format: 'CSV' });
      if (csv.format === 'JSON') throw new Error('expected CSV');
      expect(csv.body.toString().split('\n')[0]).toBe('id,amount,big,f,ts,tz,d,t,b,j,s');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
