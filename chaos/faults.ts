/**
 * The fault injectors. Each injects one fault into a running stack and returns a line saying what it
 * did; `clearFaults` undoes the lasting ones (the emulator's failure rates) once the job is over.
 */
import type { ChaosStack } from './stack.js';
import type { FaultKind, StartedJob } from './scenarios/scenario.js';

/** Share of the emulator's query and result requests that fail while `emulator-faults` is on. */
export const EMULATOR_FAILURE_SHARE = 0.1;

/**
 * Injects `fault`:
 * - `worker-kill`: SIGKILL of the worker's process group, and a new worker started at once;
 * - `temporal-restart`: the Temporal dev server stopped and started again on its persistent store;
 * - `emulator-faults`: from now until {@link clearFaults}, 10% of the emulator's query and result
 *   requests fail (half HTTP 503, half dropped connections), and the first statement matching
 *   `failing` fails once with a Snowflake internal error;
 * - `pg-terminate`: `pg_terminate_backend` on every connection of floe's processes to the control-plane
 *   database (the runner's own pool is spared);
 * - `api-cancel`: the job cancelled through the API.
 */
export async function injectFault(
  stack: ChaosStack,
  fault: FaultKind,
  job: StartedJob,
  failing: RegExp,
): Promise<string> {
  switch (fault) {
    case 'none':
      return 'no fault';
    case 'worker-kill':
      await stack.worker.killAndReplace();
      return 'worker SIGKILLed, a new worker started';
    case 'temporal-restart': {
      const started = Date.now();
      await stack.restartTemporal();
      return `Temporal dev server restarted (${Date.now() - started} ms down)`;
    }
    case 'emulator-faults':
      stack.emulatorFaults.http503Rate = EMULATOR_FAILURE_SHARE / 2;
      stack.emulatorFaults.dropRate = EMULATOR_FAILURE_SHARE / 2;
      stack.emulatorFaults.failStatement = { pattern: failing, nth: 1 };
      return `emulator failing ${EMULATOR_FAILURE_SHARE * 100}% of requests and the first statement matching ${failing}`;
    case 'pg-terminate': {
      const { rows } = await stack.pool.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'floe-chaos'`,
      );
      return `${rows[0]!.n} PostgreSQL connections terminated`;
    }
    case 'api-cancel':
      if (!job.cancel) throw new Error(`job ${job.id} cannot be cancelled`);
      await job.cancel();
      return 'job cancelled through the API';
  }
}

/** Turns the emulator's failures off again. */
export function clearFaults(stack: ChaosStack): void {
  delete stack.emulatorFaults.http503Rate;
  delete stack.emulatorFaults.dropRate;
  delete stack.emulatorFaults.failStatement;
}
