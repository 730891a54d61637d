/**
 * Execution upload under faults: per trial a new user with a Snowflake configuration
 * (`PUT /api/v1/execution-upload/config`) and a burst of completed executions written into
 * `workflow_executions` as the application does (a PostgreSQL trigger queues them); the drain Schedule
 * the worker ensured uploads them. Items that fail for good are retried through the API
 * (`POST /api/v1/execution-upload/retry/{sync_id}`). Verified per execution: one Snowflake table holding
 * exactly its rows, and no item left `processing` or holding a lease.
 */
import { randomUUID } from 'node:crypto';
import { CHAOS_DATABASE } from '../stack.js';
import type { ChaosStack } from '../stack.js';
import { cleanVerification, compareRows } from '../verify.js';
import type { JobState, Scenario, StartedJob, TrialSource } from './scenario.js';

const SCHEMA = 'UP';
const EXECUTIONS = 10;

interface UploadSource extends TrialSource {
  userId: string;
  /** Execution ids start with this prefix (lower case). */
  prefix: string;
}

interface QueueItem {
  sync_id: string;
  execution_id: string;
  status: string;
  attempts: number;
  snowflake_table: string | null;
  lease_expires_at: Date | null;
}

async function items(stack: ChaosStack, s: UploadSource): Promise<QueueItem[]> {
  const { rows } = await stack.pool.query<QueueItem>(
    `SELECT id AS sync_id, execution_id, status, attempts, snowflake_table, lease_expires_at
       FROM snowflake_sync_queue WHERE execution_id LIKE $1 ORDER BY execution_id`,
    [`${s.prefix}%`],
  );
  return rows;
}

function rowsOf(executionId: string, n: number): { id: number; name: string; amount: number }[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `${executionId}-${i + 1}`, amount: (i % 1000) / 4 }));
}

function drain(stack: ChaosStack, s: UploadSource): StartedJob {
  return {
    id: `executions ${s.prefix}*`,
    async poll(): Promise<JobState> {
      const all = await items(stack, s);
      if (all.length === EXECUTIONS && all.every((i) => i.status === 'completed')) return 'completed';
      if (all.length === EXECUTIONS && all.every((i) => i.status === 'completed' || i.status === 'failed'))
        return 'failed';
      return 'running';
    },
    describe: async () => JSON.stringify(await items(stack, s)),
  };
}

export const executionUpload: Scenario<UploadSource> = {
  kind: 'execution-upload',
  rows: 20_000,
  faults: ['worker-kill', 'temporal-restart', 'emulator-faults', 'pg-terminate'],

  async prepare(stack, name, rows) {
    await stack.snowflake.query(`CREATE SCHEMA IF NOT EXISTS ${CHAOS_DATABASE}.${SCHEMA}`);
    const userId = randomUUID();
    await stack.api.call('PUT', '/api/v1/execution-upload/config', {
      user_id: userId,
      account: 'floe',
      user: stack.snowflakeUser.name,
      authenticator: 'SNOWFLAKE',
      password: stack.snowflakeUser.password,
      database: CHAOS_DATABASE,
      schema: SCHEMA,
      access_url: stack.emulatorUrl,
    });
    return { name, rows: Math.ceil(rows / EXECUTIONS) * EXECUTIONS, userId, prefix: `chaos_${name.toLowerCase()}_` };
  },

  async start(stack, s) {
    for (let e = 0; e < EXECUTIONS; e++) {
      const id = `${s.prefix}${e}`;
      await stack.pool.query(
        `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results, completed_at)
         VALUES ($1, $2, 'chaos', 'completed', $3::jsonb, now())`,
        [id, s.userId, JSON.stringify(rowsOf(id, s.rows / EXECUTIONS))],
      );
    }
    return drain(stack, s);
  },

  async rerun(stack, s) {
    for (const item of await items(stack, s))
      if (item.status === 'failed') await stack.api.call('POST', `/api/v1/execution-upload/retry/${item.sync_id}`);
    return drain(stack, s);
  },

  failingStatement: (s) => new RegExp(`INSERT INTO .*${s.prefix.toUpperCase()}`, 'is'),

  async verify(stack, s) {
    const v = cleanVerification();
    const perExecution = s.rows / EXECUTIONS;
    const queued = await items(stack, s);
    if (queued.length !== EXECUTIONS) v.stateWrong.push(`${queued.length} queue items for ${EXECUTIONS} executions`);
    for (const item of queued) {
      v.failedRuns += Math.max(0, item.attempts - 1);
      if (item.status === 'processing' || item.lease_expires_at)
        v.leftovers.push(
          `queue item ${item.execution_id} ${item.status} with a lease until ${item.lease_expires_at?.toISOString()}`,
        );
      if (item.status !== 'completed' || !item.snowflake_table) {
        v.rowsLost += perExecution;
        continue;
      }
      const table = item.snowflake_table.includes('.')
        ? item.snowflake_table
        : `${CHAOS_DATABASE}.${SCHEMA}.${item.snowflake_table}`;
      const got = compareRows(
        rowsOf(item.execution_id, perExecution),
        await stack.snowflake.query(`SELECT * FROM ${table}`),
        'id',
      );
      v.rowsLost += got.rowsLost;
      v.rowsDuplicated += got.rowsDuplicated;
      v.cellsWrong += got.cellsWrong;
      v.notes.push(...got.notes.map((n) => `${item.execution_id}: ${n}`));
    }
    return v;
  },

  async finish() {},
};
