/**
 * The chaos runner: starts a stack (stack.ts), then for each job runs two fault-free baseline trials
 * (the faster one's duration sets when faults fire) and `trials` trials of each fault that applies to the job.
 *
 * ```ts
 * const run = await runChaos({ jobs: ['table-sync'], trials: 2, seed: 1, log: console.log });
 * run.ok; run.cells; // summaries per job and fault (report.ts)
 * ```
 */
import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../src/infra/paths.js';
import { summarize, type CellSummary } from './report.js';
import { SCENARIOS } from './scenarios/index.js';
import type { FaultKind, JobKind } from './scenarios/scenario.js';
import { startChaosStack } from './stack.js';
import { runTrial, type TrialResult } from './trial.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  jobs: readonly JobKind[];
  /** Trials per job and fault. */
  trials: number;
  /** Seed of the first fault trial; trial k of the run uses `seed + k`. */
  seed: number;
  /** Only these faults, for every job or per job (default: every fault that applies to the job). */
  faults?: readonly FaultKind[] | Partial<Record<JobKind, readonly FaultKind[]>>;
  /** Multiplies every scenario's source size (1 = the published run; the test suite uses less). */
  scale?: number;
  /** Run directory (default `.floe/state/chaos/<time>`); failed trials are kept under `<dir>/failed`. */
  dir?: string;
  /** Remove the run directory when every trial passed (default: keep its logs, remove only floe's state). */
  removeWhenOk?: boolean;
  /** Create the run's database on this PostgreSQL server instead of starting one. */
  pgServerUrl?: string;
  /** Stop the stack and exit on SIGINT/SIGTERM (the command line; a test leaves signals alone). */
  stopOnSignals?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a run found. */
export interface ChaosRun {
  ok: boolean;
  dir: string;
  results: TrialResult[];
  cells: CellSummary[];
}

/** Runs the trials; the stack is stopped at the end whatever happens. */
export async function runChaos(o: ChaosOptions): Promise<ChaosRun> {
  const log = o.log ?? (() => undefined);
  const dir = path.resolve(o.dir ?? path.join(stateDir, 'chaos', new Date().toISOString().replace(/[:.]/g, '-')));
  const failuresDir = path.join(dir, 'failed');
  log(`chaos: run directory ${dir}`);
  const stack = await startChaosStack({ dir, pgServerUrl: o.pgServerUrl });
  // Worker and API run in their own process groups: a signal to the runner must not orphan them.
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`chaos: ${signal}, stopping the stack`);
    void stack.stop().finally(() => process.exit(130));
  };
  if (o.stopOnSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, onSignal);
  const results: TrialResult[] = [];
  let k = 0;
  let n = 0;
  try {
    for (const kind of o.jobs) {
      const scenario = SCENARIOS[kind];
      const rows = Math.max(100, Math.round(scenario.rows * (o.scale ?? 1)));
      const only = Array.isArray(o.faults) ? o.faults : (o.faults as Partial<Record<JobKind, FaultKind[]>>)?.[kind];
      const faults = scenario.faults.filter((f) => !o.faults || only?.includes(f));
      const common = { rows, failuresDir };
      // Two fault-free runs: the first is a cold start (stage, DuckDB file, connections); the faster one
      // sets when faults fire.
      const durations: number[] = [];
      for (let b = 0; b < 2; b++) {
        const baseline = await runTrial(stack, scenario, {
          ...common,
          fault: 'none',
          seed: o.seed,
          name: `T${n++}`,
          expectedMs: null,
          timeoutMs: 300_000,
        });
        results.push(baseline);
        log(line(baseline));
        if (baseline.recoveryMs !== null) durations.push(baseline.recoveryMs);
      }
      const expectedMs = durations.length ? Math.min(...durations) : 10_000;
      for (const fault of faults)
        for (let i = 0; i < o.trials; i++) {
          const r = await runTrial(stack, scenario, {
            ...common,
            fault,
            seed: o.seed + k++,
            name: `T${n++}`,
            expectedMs,
            // A killed worker's activities are retried after their heartbeat or start-to-close timeout (1-2 min).
            timeoutMs: Math.max(360_000, 20 * expectedMs),
          });
          results.push(r);
          log(line(r));
        }
    }
  } finally {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    await stack.stop();
  }
  const ok = results.every((r) => r.ok);
  if (ok) fs.rmSync(o.removeWhenOk ? dir : path.join(dir, 'state'), { recursive: true, force: true });
  return { ok, dir, results, cells: summarize(results) };
}

function line(r: TrialResult): string {
  const v = r.verification;
  const at = r.faultAtMs === null ? '' : ` at ${r.faultAtMs} ms${r.faultMidJob ? '' : ' (after the job ended)'}`;
  return (
    `chaos: ${r.job} ${r.fault} seed ${r.seed}${at}: ${r.ok ? 'ok' : 'FAILED'}, ${r.completed ? 'completed' : 'not completed'}` +
    `${r.recoveryMs === null ? '' : ` in ${r.recoveryMs} ms`}, lost ${v.rowsLost}, duplicated ${v.rowsDuplicated}, ` +
    `cells wrong ${v.cellsWrong}, state wrong ${v.stateWrong.length}, leftovers ${v.leftovers.length}, failed runs ${v.failedRuns}` +
    `${r.problems.length ? `; ${r.problems.join('; ')}` : ''}${r.keptAt ? `; kept in ${r.keptAt}` : ''}`
  );
}
