/**
 * How the API builds a running table sync's `progress` from the workflow's `progress` query and the
 * transfer activity's last heartbeat details (`jobProgress`, src/jobs/table-sync/job-view.ts).
 */
import { describe, expect, it } from 'vitest';
import { jobProgress } from '../../src/jobs/table-sync/job-view.js';

describe('jobProgress', () => {
  it('during the transfer, takes phase, rows, total, bytes and rate from its heartbeat', () => {
    const heartbeat = {
      phase: 'load',
      rowsLoaded: 1_500_000,
      rowsTotal: 6_001_215,
      bytes: 226_000_000,
      rowsPerSecond: 210_000,
      unloaded: { rows: 6_001_215, bytes: 226_000_000 },
    };
    expect(jobProgress({ phase: 'transfer', rowsLoaded: 0, rowsTotal: 6_000_000 }, heartbeat)).toEqual({
      phase: 'load',
      rowsLoaded: 1_500_000,
      rowsTotal: 6_001_215,
      bytes: 226_000_000,
      rowsPerSecond: 210_000,
    });
  });

  it('before the first heartbeat, the workflow step and its estimate from the statistics; nulls until known', () => {
    expect(jobProgress({ phase: 'transfer', rowsLoaded: 0, rowsTotal: 42 }, undefined)).toEqual({
      phase: 'transfer',
      rowsLoaded: 0,
      rowsTotal: 42,
      bytes: 0,
      rowsPerSecond: null,
    });
    expect(jobProgress({ phase: 'schema', rowsLoaded: 0 }, undefined)).toMatchObject({ rowsTotal: null });
  });

  it('outside the transfer, and for details it does not know, keeps to the workflow', () => {
    const stale = { phase: 'stream', rowsLoaded: 10 };
    expect(jobProgress({ phase: 'cleanup', rowsLoaded: 0 }, stale)).toMatchObject({ phase: 'cleanup', rowsLoaded: 0 });
    const odd = { phase: 'warp', rowsLoaded: 'many', rowsTotal: -1, bytes: Number.NaN };
    expect(jobProgress({ phase: 'transfer', rowsLoaded: 0 }, odd)).toEqual({
      phase: 'transfer',
      rowsLoaded: 0,
      rowsTotal: null,
      bytes: 0,
      rowsPerSecond: null,
    });
  });
});
