/**
 * Task queues per job kind: the names, `--jobs` parsing, and which queues a worker polls for a given
 * `--jobs` and DuckDB ownership (real workers on the run's Temporal dev server).
 */
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_KINDS, parseJobKinds, taskQueues } from '../../src/jobs/common.js';
import { createWorker } from '../../src/worker.js';
import { createLogger } from '../../src/logger.js';
import { testConfig } from '../helpers/env.js';
import { sharedWorkflowBundle, temporalTarget } from '../helpers/temporal.js';

describe('task queue names', () => {
  it('gives every job its own queue under the prefix, the table-sync queue being the prefix itself', () => {
    const q = taskQueues('floe-v1');
    expect(q).toEqual({
      tableSync: 'floe-v1',
      tableSyncTransfer: 'floe-v1-duckdb',
      watermarkSync: 'floe-v1-watermark-sync',
      cacheRefresh: 'floe-v1-cache-refresh',
      executionUpload: 'floe-v1-execution-upload',
    });
    expect(new Set(Object.values(q)).size).toBe(5);
  });

  it('parses --jobs, refusing unknown names with the valid ones listed', () => {
    expect(parseJobKinds('all')).toEqual([...JOB_KINDS]);
    expect(parseJobKinds('execution-upload, table-sync,table-sync')).toEqual(['table-sync', 'execution-upload']);
    expect(() => parseJobKinds('table-sync,cache')).toThrow(
      /unknown job "cache"; valid: all, table-sync, watermark-sync, cache-refresh, execution-upload/,
    );
    expect(() => parseJobKinds(' , ')).toThrow(/--jobs is empty/);
  });

  it('reads FLOE_DUCKDB_OWNER as a boolean, false unless set', () => {
    expect(testConfig({ FLOE_DUCKDB_OWNER: undefined }).duckdbOwner).toBe(false);
    expect(testConfig({ FLOE_DUCKDB_OWNER: 'true' }).duckdbOwner).toBe(true);
    expect(() => testConfig({ FLOE_DUCKDB_OWNER: 'yes' })).toThrow(/FLOE_DUCKDB_OWNER must be true or false/);
  });
});

describe('a worker polls the queues of its jobs', () => {
  let connection: NativeConnection;
  beforeAll(async () => {
    connection = await NativeConnection.connect({ address: temporalTarget().address });
  });
  afterAll(async () => {
    await connection?.close();
  });

  const cases: {
    jobs?: ('table-sync' | 'watermark-sync' | 'cache-refresh' | 'execution-upload')[];
    owner: boolean;
    queues: (keyof ReturnType<typeof taskQueues>)[];
  }[] = [
    { owner: true, queues: ['tableSync', 'watermarkSync', 'cacheRefresh', 'executionUpload', 'tableSyncTransfer'] },
    { jobs: ['table-sync'], owner: false, queues: ['tableSync'] },
    { jobs: ['table-sync'], owner: true, queues: ['tableSync', 'tableSyncTransfer'] },
    // The DuckDB writes belong to table sync: an owner without it polls no DuckDB queue.
    { jobs: ['cache-refresh', 'execution-upload'], owner: true, queues: ['cacheRefresh', 'executionUpload'] },
  ];
  for (const c of cases) {
    it(`--jobs ${c.jobs?.join(',') ?? 'all'}${c.owner ? ', DuckDB owner' : ''}`, async () => {
      const config = testConfig({ FLOE_TASK_QUEUE: `floe-tq-${process.pid}`, FLOE_DUCKDB_OWNER: String(c.owner) });
      const worker = await createWorker({
        config,
        connection,
        workflowBundle: sharedWorkflowBundle(),
        jobs: c.jobs,
        logger: createLogger({ level: 'silent' }),
      });
      const q = taskQueues(`floe-tq-${process.pid}`);
      try {
        expect(worker.taskQueues).toEqual(c.queues.map((k) => q[k]));
      } finally {
        // A created worker holds its queues until it has run: run it and stop it at once.
        await worker.runUntil(Promise.resolve());
      }
    });
  }
});
