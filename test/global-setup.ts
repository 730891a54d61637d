/**
 * vitest globalSetup: once per `vitest run`, start one PostgreSQL server (or use DATABASE_URL) and
 * one in-memory Temporal dev server with floe's search attributes, and hand them to every suite:
 *
 * - `inject('pgServerUrl')` / env FLOE_TEST_PG_URL: URL of a maintenance database on the server; create
 *   your own database with `freshDatabase()` from test/helpers/db.ts rather than using it directly.
 * - `inject('temporalAddress')` / env FLOE_TEST_TEMPORAL_ADDRESS: host:port of the frontend;
 *   `inject('temporalNamespace')` is `default`.
 *
 * - `inject('workflowBundlePath')`: the workflow code (src/workflows, with the job-metrics interceptor:
 *   `bundleWorkflows` in src/worker.ts) bundled once for the run; use `sharedWorkflowBundle()` from
 *   test/helpers/temporal.ts (bundling costs ~1.5 s each). Workers running it register `jobMetricsSinks()`.
 *
 * Teardown stops both servers and removes the PostgreSQL data directory and the bundle. With
 * FLOE_RECORD_HISTORIES=1 it first records workflow histories for test/replay
 * (test/helpers/record-histories.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { envValue } from '../src/config.js';
import { startPostgres, type PostgresServer } from '../src/infra/postgres.js';
import { startTemporal, type TemporalServer } from '../src/infra/temporal.js';
import { projectRoot } from '../src/infra/paths.js';
import { setLogLevel } from '../src/logger.js';
import { recordHistories } from './helpers/record-histories.js';

/** Bundles src/workflows once; never throws (a broken workflow must not stop unrelated suites). */
async function bundleWorkflows(dir: string): Promise<{ path: string; error: string }> {
  const workflowsPath = path.join(projectRoot, 'src', 'workflows', 'index.ts');
  if (!fs.existsSync(workflowsPath)) return { path: '', error: `${workflowsPath} does not exist` };
  try {
    const worker = await import('../src/worker.js');
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const bundle = await worker.bundleWorkflows({ logger: quiet });
    const file = path.join(dir, 'workflow-bundle.js');
    fs.writeFileSync(file, bundle.code);
    return { path: file, error: '' };
  } catch (err) {
    return { path: '', error: `bundling ${workflowsPath} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of a maintenance database; suites create their own databases on this server. */
    pgServerUrl: string;
    /** host:port of the run's Temporal dev server. */
    temporalAddress: string;
    temporalNamespace: string;
    /** File with the bundled workflow code, or '' when bundling failed (see workflowBundleError). */
    workflowBundlePath: string;
    workflowBundleError: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  setLogLevel('warn');
  const started = Date.now();
  const external = envValue('DATABASE_URL');
  let pgDir: string | null = null;
  let pgServer: PostgresServer | null = null;
  let temporal: TemporalServer | null = null;
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-test-run-'));

  const teardown = async (): Promise<void> => {
    if (process.env.FLOE_RECORD_HISTORIES === '1' && temporal) {
      const workflows = await import('../src/workflows/index.js');
      const files = await recordHistories(
        temporal.address,
        temporal.namespace,
        Object.keys(workflows).filter((k) => typeof (workflows as Record<string, unknown>)[k] === 'function'),
        path.join(projectRoot, 'test', 'replay', 'histories'),
      );
      process.stderr.write(
        `floe test teardown: recorded ${files.length} workflow histories in test/replay/histories\n`,
      );
    }
    await Promise.allSettled([temporal?.stop(), pgServer?.stop()]);
    if (pgDir) fs.rmSync(pgDir, { recursive: true, force: true });
    fs.rmSync(scratchDir, { recursive: true, force: true });
  };
  let bundle: { path: string; error: string };

  try {
    const pgPromise = external
      ? Promise.resolve(null)
      : (async () => {
          pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-test-pg-'));
          return startPostgres({ dataDir: pgDir, ephemeral: true, startTimeoutMs: 180_000 });
        })();
    const temporalPromise = startTemporal({ uiPort: false, startTimeoutMs: 240_000 });
    const bundlePromise = bundleWorkflows(scratchDir);
    const [pgResult, temporalResult] = await Promise.allSettled([pgPromise, temporalPromise]);
    bundle = await bundlePromise;
    if (pgResult.status === 'fulfilled') pgServer = pgResult.value;
    if (temporalResult.status === 'fulfilled') temporal = temporalResult.value;
    if (pgResult.status === 'rejected')
      throw new Error(`test setup: PostgreSQL did not start: ${String(pgResult.reason)}`);
    if (temporalResult.status === 'rejected')
      throw new Error(`test setup: Temporal did not start: ${String(temporalResult.reason)}`);
  } catch (err) {
    await teardown();
    throw err;
  }

  const pgServerUrl = external ?? pgServer!.serverUrl;
  project.provide('pgServerUrl', pgServerUrl);
  project.provide('temporalAddress', temporal!.address);
  project.provide('temporalNamespace', temporal!.namespace);
  project.provide('workflowBundlePath', bundle.path);
  project.provide('workflowBundleError', bundle.error);
  // Also as environment variables, for code that runs outside a test context (worker threads, scripts).
  process.env.FLOE_TEST_PG_URL = pgServerUrl;
  process.env.FLOE_TEST_TEMPORAL_ADDRESS = temporal!.address;
  process.stderr.write(
    `floe test setup: PostgreSQL ${external ? '(DATABASE_URL)' : `127.0.0.1:${pgServer!.port}`}, ` +
      `Temporal ${temporal!.address}, workflow bundle ${bundle.path ? 'ok' : 'FAILED'}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return teardown;
}
