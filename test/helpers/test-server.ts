/**
 * Temporal's time-skipping test server (the Java one that `node scripts/bootstrap.mjs --test` installs
 * from Maven Central at `.floe/temporal-test-server`), one per workflow suite (test/helpers/workflow-env.ts).
 *
 * We spawn it ourselves rather than through `TestWorkflowEnvironment.createTimeSkipping()`, whose
 * start-up wait (5 s) a JVM on a loaded two-core machine does not meet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/jobs/common.js';
import { INDEXED_VALUE_TYPE } from '../../src/infra/temporal.js';
import { floeHome } from '../../src/infra/paths.js';
import { freePort, killGroup, spawnManaged, waitUntil } from '../../src/infra/process.js';

/** The test server launcher installed by bootstrap (`<FLOE_HOME>/temporal-test-server/bin`). */
const testServerExecutable = path.join(floeHome, 'temporal-test-server', 'bin', 'temporal-test-server');

/** A running test server started by {@link startTestServer}. */
export interface TestServer {
  /** host:port of its gRPC frontend on 127.0.0.1. */
  address: string;
  /** SIGTERM to the process group, SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Start the time-skipping test server on a free port and register floe's search attributes on its
 * `default` namespace (the server refuses upserts of attributes it does not know; it implements
 * AddSearchAttributes but not ListSearchAttributes).
 * @param startTimeoutMs give up when the server does not answer within this many ms.
 * @throws when the launcher is missing (run `node scripts/bootstrap.mjs --test`), the JVM exits, or
 *   the server does not answer in time (the message carries its output).
 */
export async function startTestServer(startTimeoutMs: number): Promise<TestServer> {
  if (!fs.existsSync(testServerExecutable))
    throw new Error(`${testServerExecutable} not found: run \`node scripts/bootstrap.mjs --test\``);
  const address = `127.0.0.1:${await freePort()}`;
  const mc = spawnManaged(testServerExecutable, [address.split(':')[1]!]);
  const stop = (): Promise<void> => killGroup(mc, 'SIGTERM', 10_000);
  try {
    await waitUntil(
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 5_000 });
        try {
          await connection.operatorService.addSearchAttributes({
            namespace: 'default',
            searchAttributes: Object.fromEntries(
              Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]),
            ),
          });
          return true;
        } finally {
          await connection.close();
        }
      },
      { what: `Temporal test server on ${address}`, timeoutMs: startTimeoutMs, intervalMs: 300, child: mc },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, stop };
}
