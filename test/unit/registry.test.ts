/**
 * The job registry is the one list of jobs: every job kind has exactly one module, every migration
 * file belongs to exactly one job or to the core, and activity names never clash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_KINDS, jobQueue, taskQueues } from '../../src/jobs/common.js';
import { CORE_MIGRATIONS, JOBS } from '../../src/jobs/registry.js';
import { projectRoot } from '../../src/infra/paths.js';
import type pg from 'pg';
import { createActivities } from '../../src/activities/index.js';
import { createLogger } from '../../src/logger.js';
import { secretKeys } from '../../src/secrets/crypto.js';
import { testConfig } from '../helpers/env.js';

describe('job registry', () => {
  it('has one module per job kind, in JOB_KINDS order, each with its own task queue', () => {
    expect(JOBS.map((j) => j.kind)).toEqual([...JOB_KINDS]);
    const queues = JOB_KINDS.map((k) => jobQueue(taskQueues('floe-v1'), k));
    expect(new Set(queues).size).toBe(JOB_KINDS.length);
  });

  it('assigns every migration file to exactly one job or to the core', () => {
    const files = fs
      .readdirSync(path.join(projectRoot, 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const owners = new Map<string, string[]>();
    for (const job of JOBS) for (const m of job.migrations) owners.set(m, [...(owners.get(m) ?? []), job.kind]);
    for (const m of CORE_MIGRATIONS) owners.set(m, [...(owners.get(m) ?? []), 'core']);
    expect([...owners.keys()].sort()).toEqual(files);
    for (const [file, who] of owners) expect(who, file).toHaveLength(1);
  });

  it("registers every job's activities, without clashes", () => {
    // Factories only build closures: nothing connects until an activity runs.
    const pool = {} as pg.Pool;
    const ctx = {
      config: testConfig(),
      pool,
      pgSyncSourcePool: pool,
      secretKeys: secretKeys('11'.repeat(32)),
      credentials: async () => undefined,
      tmpRoot: '/nonexistent',
      logger: createLogger({ level: 'silent' }),
    };
    const names = Object.keys(createActivities(ctx));
    let total = 0;
    for (const job of JOBS) {
      const own = Object.keys(job.activities(ctx) ?? {});
      expect(own.length, job.kind).toBeGreaterThan(0);
      for (const name of own) expect(names).toContain(name);
      total += own.length;
    }
    expect(names).toHaveLength(total);
  });
});
