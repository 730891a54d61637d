/**
 * Workflow tests with time skipping: Temporal's `TestWorkflowEnvironment.createTimeSkipping()` on the
 * Java test server that `node scripts/bootstrap.mjs --test` installs from Maven Central (the SDK's
 * own download comes from Temporal's CDN, which floe does not rely on). Timers and retry backoff
 * complete as soon as nothing else is running, so a workflow that waits hours finishes in
 * milliseconds.
 *
 * ```ts
 * let env: TestWorkflowEnvironment;
 * beforeAll(async () => { env = await timeSkippingEnv(); });
 * afterAll(() => env?.teardown());
 * it('retries', async () => {
 *   const result = await runWithActivities(env, { activities: { tableSyncTransfer: async () => ... } }, (client, taskQueue) =>
 *     client.workflow.execute(tableSync, { args: [input], workflowId: 'w1', taskQueue }));
 * });
 * ```
 *
 * Workflow tests register mocked activities (plain functions) under the real activity names; the
 * workflow code is the real src/workflows bundle built once per run (test/global-setup.ts). Search
 * attributes floe upserts are registered on the test server by {@link timeSkippingEnv}.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/jobs/common.js';
import { INDEXED_VALUE_TYPE } from '../../src/infra/temporal.js';
import { jobMetricsSinks } from '../../src/metrics/jobs.js';
import { sharedWorkflowBundle } from './temporal.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The test server launcher installed by bootstrap (`<FLOE_HOME>/temporal-test-server/bin`). */
export const testServerExecutable = path.join(
  process.env.FLOE_HOME ? path.resolve(process.env.FLOE_HOME) : path.join(projectRoot, '.floe'),
  'temporal-test-server',
  'bin',
  'temporal-test-server',
);

let runtimeInstalled = false;

/**
 * Start a time-skipping test server (a Java process, ~3 s) and connect to it; floe's search attributes
 * are registered on its namespace. Call `teardown()` when done (stops the server).
 * @throws when the test server is not installed (run `node scripts/bootstrap.mjs --test`).
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // The worker's own logs (workflow task failures are test failures, seen through results) stay quiet.
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // already installed by this process
    }
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerExecutable } },
  });
  // The test server refuses upserts of search attributes it does not know; it implements
  // AddSearchAttributes (not List, so src/infra/temporal.ts's ensureSearchAttributes cannot be used).
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]),
    ),
  });
  return env;
}

let queueSeq = 0;

/**
 * Run `body` with a worker on a fresh task queue that serves the real workflows and the given mocked
 * activities; the worker stops when `body` settles.
 * @returns what `body` returns.
 */
export async function runWithActivities<T>(
  env: TestWorkflowEnvironment,
  opts: { activities: Record<string, (...args: never[]) => Promise<unknown>>; taskQueue?: string },
  body: (client: Client, taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = opts.taskQueue ?? `wf-test-${process.pid}-${++queueSeq}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: sharedWorkflowBundle(),
    sinks: jobMetricsSinks(),
    activities: opts.activities,
  });
  return worker.runUntil(body(env.client, taskQueue));
}
