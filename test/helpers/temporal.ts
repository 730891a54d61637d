/**
 * Temporal helpers for suites: the run's workflow bundle (built once in test/global-setup.ts).
 *
 *   const worker = await createWorker({ config, connection, workflowBundle: sharedWorkflowBundle() });
 */
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { jobMetricsSinks } from '../../src/metrics/jobs.js';
import type { CacheCheckResult } from '../../src/jobs/cache-refresh/contract.js';

/**
 * The workflow code of src/workflows bundled once for this run, as a `{ codePath }` WorkflowBundle.
 * @throws with the bundler's error when bundling failed in global setup.
 */
export function sharedWorkflowBundle(): { codePath: string } {
  const codePath = inject('workflowBundlePath');
  if (!codePath) throw new Error(`no shared workflow bundle: ${inject('workflowBundleError')}`);
  return { codePath };
}

/** host:port and namespace of the run's Temporal dev server. */
export function temporalTarget(): { address: string; namespace: string } {
  return { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
}

/** A cache check (`cacheCheck`) that does no I/O and skips, reporting `snapshotId` as the cache's snapshot. */
export function skippingCacheCheck(snapshotId: number): () => Promise<CacheCheckResult> {
  return async () => ({ refresh: false, reason: 'unchanged', stateHash: 'h', lastAltered: {}, snapshotId });
}

/** A worker started by {@link runTestWorker}; `stop()` shuts it down and waits for `run()` to settle. */
export interface TestWorker {
  stop(): Promise<void>;
}

/**
 * Create a worker from `options` (`Worker.create`, with the job-metrics sink the shared bundle calls), start `run()` in the background and return a
 * handle whose `stop()` shuts it down gracefully. Rejects when the worker cannot be created.
 */
export async function runTestWorker(options: WorkerOptions): Promise<TestWorker> {
  const worker = await Worker.create({ sinks: jobMetricsSinks(), ...options });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}

/**
 * A fetched workflow history as text with every payload readable, for scans of what crossed Temporal:
 * payload `data` arrives as bytes or, converted from the history's JSON form, as base64 text; both are
 * decoded to UTF-8.
 */
export function historyText(history: unknown): string {
  return JSON.stringify(history, (k, v: unknown) =>
    v instanceof Uint8Array
      ? Buffer.from(v).toString('utf8')
      : k === 'data' && typeof v === 'string'
        ? Buffer.from(v, 'base64').toString('utf8')
        : v,
  );
}
