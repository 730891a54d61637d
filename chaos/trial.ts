/**
 * One trial: prepare a fresh source, start the job, inject one fault at a seeded moment of the job's
 * expected duration, wait for the job (rerunning it after a failed or cancelled run, as a user or the
 * next scheduled run would), verify, and on failure keep what is needed to reproduce it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clearFaults, injectFault } from './faults.js';
import { faultShare } from './random.js';
import type { FaultKind, JobState, Scenario, TrialSource } from './scenarios/scenario.js';
import type { ChaosStack } from './stack.js';
import { added, cleanVerification, leftoverCandidates, type Verification } from './verify.js';

/** The result of one trial. */
export interface TrialResult {
  job: string;
  fault: FaultKind;
  /** The trial's seed: `--seed <seed> --trials 1 --job <job> --fault <fault>` replays its timing. */
  seed: number;
  name: string;
  rows: number;
  /** When the fault fired, ms after the job started (null for `none`). */
  faultAtMs: number | null;
  /** True when the job was still running when the fault fired. */
  faultMidJob: boolean;
  faultEffect: string;
  /** The job (possibly after reruns) completed. */
  completed: boolean;
  /** Fault → job finished, ms (for `none`: the job's duration). */
  recoveryMs: number | null;
  verification: Verification;
  /** Problems outside the data (a process that crashed on its own, a timeout, a verification error). */
  problems: string[];
  ok: boolean;
  /** Directory kept for a failed trial. */
  keptAt?: string;
}

/** How a trial runs. */
export interface TrialOptions {
  fault: FaultKind;
  seed: number;
  name: string;
  rows: number;
  /** Expected job duration, ms (the baseline's), for the fault moment; null for the baseline itself. */
  expectedMs: number | null;
  /** Give up waiting for the job after this long, ms. */
  timeoutMs: number;
  /** Where failed trials are kept. */
  failuresDir: string;
}

const POLL_MS = 250;

/** floe may not answer for this long (Temporal restarting, connections cut) before the trial gives up. */
const UNANSWERED_MS = 90_000;

function logSizes(stack: ChaosStack): Record<string, number> {
  const files = [stack.worker.logFile, stack.apiProcess.logFile, stack.temporalLog];
  return Object.fromEntries(files.map((f) => [f, fs.existsSync(f) ? fs.statSync(f).size : 0]));
}

function keepFailure(dir: string, result: TrialResult, logsFrom: Record<string, number>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'trial.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const [file, from] of Object.entries(logsFrom)) {
    if (!fs.existsSync(file)) continue;
    const all = fs.readFileSync(file);
    fs.writeFileSync(path.join(dir, path.basename(file)), all.subarray(Math.min(from, all.length)));
  }
}

/** Runs one trial of `scenario` on `stack`. */
export async function runTrial(stack: ChaosStack, scenario: Scenario, o: TrialOptions): Promise<TrialResult> {
  const problems: string[] = [];
  const exitsBefore = stack.worker.unexpectedExits.length + stack.apiProcess.unexpectedExits.length;
  const logsFrom = logSizes(stack);
  let verification = cleanVerification();
  let completed = false;
  let faultAtMs: number | null = null;
  let faultMidJob = false;
  let faultEffect = 'no fault';
  let recoveryMs: number | null = null;
  let reruns = 0;
  let source: TrialSource = { name: o.name, rows: o.rows };
  let before = new Set<string>();
  try {
    source = await scenario.prepare(stack, o.name, o.rows, o.fault);
    before = await leftoverCandidates(stack);
    let job = await scenario.start(stack, source);
    const t0 = Date.now();
    const faultAt = o.fault === 'none' || o.expectedMs === null ? null : t0 + faultShare(o.seed) * o.expectedMs;
    let faultTime: number | null = null;
    let cancelled = false;
    const deadline = t0 + o.timeoutMs;
    let answeredAt = Date.now();
    for (;;) {
      let state: JobState = 'running';
      try {
        state = await job.poll();
        answeredAt = Date.now();
      } catch (err) {
        // While Temporal restarts or connections are cut, floe may not answer: the job is still running.
        if (Date.now() - answeredAt > UNANSWERED_MS) {
          problems.push(`job ${job.id}: no answer for ${UNANSWERED_MS / 1000} s: ${(err as Error).message}`);
          break;
        }
      }
      if (faultAt !== null && faultTime === null && (Date.now() >= faultAt || state !== 'running')) {
        faultMidJob = state === 'running';
        faultTime = Date.now();
        faultAtMs = faultTime - t0;
        faultEffect = await injectFault(stack, o.fault, job, scenario.failingStatement(source)).catch(
          (err: Error) => `injection failed: ${err.message}`,
        );
        continue;
      }
      if (state === 'completed') {
        completed = true;
        recoveryMs = Date.now() - (faultTime ?? t0);
        break;
      }
      if (state === 'cancelled' && o.fault === 'api-cancel' && !cancelled && scenario.verifyIntact) {
        // The cancelled run must have left the previous data as it was; then the next run completes.
        cancelled = true;
        const intact = await scenario.verifyIntact(stack, source);
        if (intact.rowsLost || intact.rowsDuplicated || intact.cellsWrong || intact.stateWrong.length)
          problems.push(`cancelled run changed the previous data: ${intact.notes.join('; ')}`);
        job = await scenario.rerun(stack, source);
        continue;
      }
      if (state === 'failed' || state === 'cancelled') {
        reruns++;
        if (reruns > 3) {
          problems.push(`job ${job.id} ${state} ${reruns} times`);
          break;
        }
        job = await scenario.rerun(stack, source);
        continue;
      }
      if (Date.now() > deadline) {
        const record = await job.describe().catch((err: Error) => `(not available: ${err.message})`);
        problems.push(`job ${job.id} not finished after ${o.timeoutMs / 1000} s; its record: ${record}`);
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    // A replacement worker still starting would meet the next trial's fault while it boots.
    if (o.fault === 'worker-kill') await stack.worker.ready();
  } catch (err) {
    problems.push(`trial could not run: ${(err as Error).message}`);
  } finally {
    clearFaults(stack);
  }
  if (completed)
    try {
      await scenario.settle?.(stack, source);
      verification = await scenario.verify(stack, source);
      verification.failedRuns += reruns;
      verification.leftovers.push(...added(before, await leftoverCandidates(stack)));
    } catch (err) {
      problems.push(`verification failed: ${(err as Error).message}`);
    }
  await scenario.finish(stack, source).catch((err: Error) => problems.push(`finish failed: ${err.message}`));
  problems.push(...[...stack.worker.unexpectedExits, ...stack.apiProcess.unexpectedExits].slice(exitsBefore));
  const v = verification;
  const result: TrialResult = {
    job: scenario.kind,
    fault: o.fault,
    seed: o.seed,
    name: o.name,
    rows: source.rows,
    faultAtMs,
    faultMidJob,
    faultEffect,
    completed,
    recoveryMs,
    verification,
    problems,
    ok:
      completed &&
      problems.length === 0 &&
      v.rowsLost === 0 &&
      v.rowsDuplicated === 0 &&
      v.cellsWrong === 0 &&
      v.stateWrong.length === 0 &&
      v.leftovers.length === 0,
  };
  if (!result.ok) {
    result.keptAt = path.join(o.failuresDir, `${scenario.kind}-${o.fault}-${o.name}`);
    keepFailure(result.keptAt, result, logsFrom);
  }
  return result;
}
