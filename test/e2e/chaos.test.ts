/**
 * The chaos runner's small version (`npm run chaos` runs the full one, docs/durability.md): every job
 * with real processes (API, worker), a restartable Temporal dev server and the emulator, one trial per
 * job and fault on small sources, each verified cell by cell with nothing left behind.
 *
 * SIGKILL of the worker and cancellation from the API run for table sync only here: a killed worker's
 * activity is retried after its heartbeat timeout (30 s), so each such trial takes over half a minute
 * (the full run covers every job).
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { formatTables } from '../../chaos/report.js';
import { runChaos } from '../../chaos/runner.js';
import { JOB_KINDS, type FaultKind } from '../../chaos/scenarios/scenario.js';
import { setLogLevel } from '../../src/logger.js';

setLogLevel('warn');

const FAULTS: FaultKind[] = ['temporal-restart', 'emulator-faults', 'pg-terminate'];
const TABLE_SYNC_ONLY: FaultKind[] = ['worker-kill', 'api-cancel'];

describe('chaos runner, small version', () => {
  it('every job completes under each fault with no row lost or duplicated and nothing left behind', async () => {
    const lines: string[] = [];
    const run = await runChaos({
      jobs: JOB_KINDS,
      faults: Object.fromEntries(
        JOB_KINDS.map((job) => [job, job === 'table-sync' ? [...FAULTS, ...TABLE_SYNC_ONLY] : FAULTS]),
      ),
      trials: 1,
      seed: 13,
      scale: 0.05,
      dir: path.join(os.tmpdir(), `floe-chaos-test-${process.pid}`),
      removeWhenOk: true,
      pgServerUrl: inject('pgServerUrl'),
      log: (l) => lines.push(l),
    });
    const report = `${lines.join('\n')}\n${formatTables(run.cells)}`;
    // A baseline per job, and one trial per job and fault.
    expect(run.cells.map((c) => `${c.job} ${c.fault}`).sort(), report).toEqual(
      [
        ...JOB_KINDS.flatMap((job) => ['none', ...FAULTS].map((f) => `${job} ${f}`)),
        ...TABLE_SYNC_ONLY.map((f) => `table-sync ${f}`),
      ].sort(),
    );
    for (const c of run.cells) {
      const { job, fault, trials } = c;
      expect(
        {
          job,
          fault,
          completed: c.completed,
          lost: c.rowsLost,
          duplicated: c.rowsDuplicated,
          wrong: c.cellsWrong + c.stateWrong,
          leftovers: c.leftovers,
        },
        report,
      ).toEqual({ job, fault, completed: trials, lost: 0, duplicated: 0, wrong: 0, leftovers: 0 });
    }
    expect(run.ok, report).toBe(true);
  }, 900_000);
});
