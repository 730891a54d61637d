/**
 * Workflow tests with time skipping, on Temporal's time-skipping test server
 * (test/helpers/test-server.ts). Timers and retry backoff complete as soon as nothing else is running,
 * so a workflow that waits hours finishes in milliseconds.
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
 * workflow code is the real src/workflows bundle built once per run (test/global-setup.ts).
 *
 * Each suite gets its own server: the server's clock is one for everything on it and skips only while
 * nothing is in flight anywhere on it, so suites running in parallel, or a suite after one that
 * cancelled a heartbeating activity, would hold each other's clock (Temporal's TypeScript SDK documents
 * the environment as not for concurrent use).
 */
import { Connection, type Client } from '@temporalio/client';
import { InternalConnectionOptionsSymbol } from '@temporalio/client/lib/connection.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { startTestServer, type TestServer } from './test-server.js';
import { jobMetricsSinks } from '../../src/metrics/jobs.js';
import { sharedWorkflowBundle } from './temporal.js';

/** Give up when the test server's JVM does not answer within this (a loaded CI box needs tens of seconds). */
const START_TIMEOUT_MS = 180_000;

/** A {@link TestWorkflowEnvironment} on a test server we started; `teardown()` also stops the server. */
class OwnServerTimeSkippingEnv extends TestWorkflowEnvironment {
  constructor(
    private readonly testServer: TestServer,
    connection: Connection,
    nativeConnection: NativeConnection,
  ) {
    const options = { server: { type: 'existing' as const }, client: {}, plugins: [] };
    super(Runtime.instance(), options, true, 'existing', connection, nativeConnection, 'default', testServer.address);
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      await this.testServer.stop();
    }
  }
}

/**
 * Start a time-skipping test server with floe's search attributes and connect to it (namespace
 * `default`). Call `teardown()` when done (stops the server).
 * @throws when the test server is not installed (run `node scripts/bootstrap.mjs --test`) or does not start.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  try {
    // The worker's own logs (workflow task failures are test failures, seen through results) stay quiet.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by this process
  }
  const server = await startTestServer(START_TIMEOUT_MS);
  try {
    // The test service (clock, time-skipping lock) is only exposed on connections that ask for it.
    const options = { address: server.address, [InternalConnectionOptionsSymbol]: { supportsTestService: true } };
    const nativeConnection = await NativeConnection.connect(options);
    const connection = await Connection.connect(options);
    return new OwnServerTimeSkippingEnv(server, connection, nativeConnection);
  } catch (err) {
    await server.stop();
    throw err;
  }
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
