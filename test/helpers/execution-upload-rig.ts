/**
 * Rig of the execution upload suites: one migrated database, two emulators (two users' "Snowflake
 * accounts"), a Temporal client, the run's shared workflow bundle (test/helpers/temporal.ts), workers
 * with the upload activities (own task queue), a capturing logger, and helpers to add executions and
 * configurations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { historyText, sharedWorkflowBundle } from './temporal.js';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import {
  createExecutionUploadActivities,
  type ExecutionUploadHooks,
} from '../../src/activities/execution-upload/index.js';
import { runExecutionUploadDrain } from '../../src/client/executionUpload.js';
import {
  connectSnowflake,
  withSnowflake,
  type SnowflakeSession,
  type SnowflakeSettings,
} from '../../src/connectors/snowflake.js';
import { wrapActivities } from '../../src/errors.js';
import {
  executionUploadWorkflowId,
  type ExecutionUploadDrainInput,
  type ExecutionUploadDrainResult,
} from '../../src/jobs/execution-upload/contract.js';
import { createLogger } from '../../src/logger.js';
import { generateEncryptionKey, secretKeys, type SecretKeys } from '../../src/secrets/crypto.js';
import { saveSnowflakeConfiguration } from '../../src/jobs/execution-upload/configs.js';
import { makeRigBase, type RigResources } from './rig.js';

/** A user with a Snowflake configuration on one of the emulators. */
export interface TestUser {
  userId: string;
  password: string;
  settings: SnowflakeSettings;
  sf: SnowflakeSession;
}

export interface UploadRig extends RigResources {
  emus: RunningEmulator[];
  keyHex: string;
  key: SecretKeys;
  hooks: ExecutionUploadHooks;
  /** Every log line the activities wrote. */
  logLines: string[];
  /** Every workflow id this rig started (drains); children are found from the queue. */
  drainIds: string[];
  /**
   * A worker on `queue` (default the rig's). `activities: false`: it takes no activity tasks from the
   * queue, and runs only the workflows' local activities (the queue bookkeeping) itself.
   */
  startWorker(opts?: { queue?: string; workflows?: boolean; activities?: boolean }): Promise<{ stop(): Promise<void> }>;
  /** A user whose configuration points at emulator `emu` and database `database` (created). */
  addUser(emu: number, database: string): Promise<TestUser>;
  /** Insert an execution (default completed now) with `results` (a value, or JSON text used as is). */
  addExecution(
    userId: string,
    results: unknown,
    opts?: { status?: string; executionId?: string; completedAt?: string },
  ): Promise<string>;
  drain(input?: ExecutionUploadDrainInput, queue?: string): Promise<ExecutionUploadDrainResult>;
  /** The queue row of an execution (`snowflake_sync_queue.*`), or undefined. */
  item(executionId: string): Promise<Record<string, unknown>>;
  /**
   * Every drain's and every queued item's workflow history as text, raw and with payloads decoded (the
   * history's JSON form holds payload bytes base64-encoded), for scanning for secrets.
   */
  historiesText(): Promise<string>;
  close(): Promise<void>;
}

let seq = 0;

// Worker state changes at INFO would flood the test output (one Runtime per test process).
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by this process
}

/** Build a rig; `close()` stops everything it started. */
export async function makeUploadRig(name: string, opts: { emulators?: number } = {}): Promise<UploadRig> {
  const { runWorker, close, ...base } = await makeRigBase('up', name, 8);
  const { root, pool, client, taskQueue } = base;
  // Each emulator's bootstrap user creates the users whose configurations the tests store (addUser).
  const admin = { name: 'rig_admin', password: `pw-${randomBytes(12).toString('hex')}` };
  const emus = await Promise.all(
    Array.from({ length: opts.emulators ?? 2 }, (_, i) =>
      startEmulator({ port: 0, dataDir: path.join(root, `emu${i}`), user: admin }),
    ),
  );
  const keyHex = generateEncryptionKey();
  const key = secretKeys(keyHex)!;
  const bundle = sharedWorkflowBundle();
  const hooks: ExecutionUploadHooks = {};
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logLines.push(s) } });
  const activities = wrapActivities(
    createExecutionUploadActivities({
      pool,
      secretKeys: key,
      tmpDir: path.join(root, 'tmp'),
      logger,
      hooks: {
        beforeLoad: (i) => hooks.beforeLoad?.(i),
        afterChunk: (i) => hooks.afterChunk?.(i),
        afterLoad: (i) => hooks.afterLoad?.(i),
      },
    }),
  );
  const sessions: SnowflakeSession[] = [];
  const drainIds: string[] = [];
  const rig: UploadRig = {
    ...base,
    emus,
    keyHex,
    key,
    hooks,
    logLines,
    drainIds,
    startWorker(opts = {}) {
      return runWorker({
        taskQueue: opts.queue ?? taskQueue,
        activities,
        ...(opts.activities === false && { enableNonLocalActivities: false }),
        ...(opts.workflows === false ? {} : { workflowBundle: bundle }),
        maxConcurrentActivityTaskExecutions: 10,
      });
    },
    async addUser(emu, database) {
      const userId = randomUUID();
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const settings: SnowflakeSettings = {
        account: `acct_${database.toLowerCase()}`,
        username: `user_${database.toLowerCase()}`,
        password,
        accessUrl: emus[emu].url,
        database,
        schema: 'RESULTS',
      };
      await withSnowflake(
        { account: settings.account, username: admin.name, password: admin.password, accessUrl: emus[emu].url },
        (boot) => boot.query(`CREATE USER ${settings.username} PASSWORD = '${password}'`),
      );
      const sf = await connectSnowflake(settings);
      sessions.push(sf);
      await sf.query(`CREATE DATABASE IF NOT EXISTS ${database}`);
      await sf.query(`CREATE SCHEMA IF NOT EXISTS ${database}.RESULTS`);
      await saveSnowflakeConfiguration(pool, key, {
        userId,
        account: `${settings.account}.snowflakecomputing.com`,
        warehouse: 'COMPUTE_WH',
        database,
        schema: 'RESULTS',
        username: settings.username,
        secret: { password },
        accessUrl: emus[emu].url,
      });
      return { userId, password, settings, sf };
    },
    async addExecution(userId, results, opts = {}) {
      const id = opts.executionId ?? `exec_${name}_${++seq}_${randomBytes(3).toString('hex')}`;
      await pool.query(
        `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results, completed_at)
         VALUES ($1, $2, 'test-workflow', $3, $4::jsonb, CASE WHEN $3 = 'completed' THEN COALESCE($5::timestamptz, now()) END)`,
        [
          id,
          userId,
          opts.status ?? 'completed',
          results === undefined || results === null
            ? null
            : typeof results === 'string'
              ? results
              : JSON.stringify(results),
          opts.completedAt ?? null,
        ],
      );
      return id;
    },
    async drain(input = {}, queue) {
      const workflowId = `up-drain-${process.pid}-${name}-${++seq}`;
      drainIds.push(workflowId);
      return runExecutionUploadDrain(client, {
        taskQueue: queue ?? taskQueue,
        workflowId,
        input: { upload: { heartbeatTimeoutSeconds: 10, retryInitialSeconds: 0.2, retryMaxSeconds: 1 }, ...input },
      });
    },
    async item(executionId) {
      const { rows } = await pool.query('SELECT * FROM snowflake_sync_queue WHERE execution_id = $1', [executionId]);
      return rows[0];
    },
    async historiesText() {
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM snowflake_sync_queue');
      let text = '';
      // Drains the Schedule started too: each holds the attempts of the items it uploaded itself.
      const scheduled: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = 'executionUploadDrain'` }))
        scheduled.push(w.workflowId);
      const ids = new Set([...drainIds, ...scheduled, ...rows.map((r) => executionUploadWorkflowId(r.id))]);
      for (const wid of ids) {
        // An item a drain uploaded itself has no workflow of its own (its attempts are in the drain's history).
        const h = await client.workflow
          .getHandle(wid)
          .fetchHistory()
          .catch((e: unknown) => {
            if (e instanceof Error && /not found/i.test(e.message)) return null;
            throw e;
          });
        if (h) text += JSON.stringify(h) + historyText(h);
      }
      return text;
    },
    close: () =>
      close(async () => {
        for (const s of sessions) await s.close();
        for (const e of emus) await e.close();
      }),
  };
  return rig;
}

/** `n` rows of a small mixed-type result (ids 1..n). */
export function rowsOf(n: number, tag = 'r'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `${tag}-${i + 1}`,
    amount: (i + 1) * 1.25,
    ok: i % 2 === 0,
    day: '2024-01-15',
  }));
}
