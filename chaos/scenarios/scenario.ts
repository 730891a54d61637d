/**
 * What a job scenario gives the chaos runner: a fresh source per trial, a way to start the job as a
 * user does (HTTP API, Schedules), its state, and the verification of its result.
 */
import type { ChaosStack } from '../stack.js';
import type { Verification } from '../verify.js';

/** The jobs, by kind (the names used everywhere in floe). */
export const JOB_KINDS = ['table-sync', 'watermark-sync', 'cache-refresh', 'execution-upload'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The faults a trial can inject; `none` is the fault-free baseline run of each job. */
export const FAULTS = [
  'none',
  'worker-kill',
  'temporal-restart',
  'emulator-faults',
  'pg-terminate',
  'api-cancel',
] as const;
export type FaultKind = (typeof FAULTS)[number];

/** A job's state as the runner polls it. */
export type JobState = 'running' | 'completed' | 'failed' | 'cancelled';

/** One started job (or, for scheduled jobs, the work the Schedule keeps running until it is done). */
export interface StartedJob {
  /** The job's id (table sync job id, Schedule id, cache refresh job id), for logs and reports. */
  readonly id: string;
  /** Where the job stands now; throws when floe cannot be asked (the runner counts that as running). */
  poll(): Promise<JobState>;
  /** The job's record as floe shows it, for the report of a trial that timed out. */
  describe(): Promise<string>;
  /** Cancels the job from the API (only jobs that support cancellation). */
  cancel?(): Promise<void>;
}

/** The source prepared for one trial: names unique to the trial. */
export interface TrialSource {
  /** Unique per trial in a run, e.g. `T7`. */
  readonly name: string;
  /** Rows in the source. */
  readonly rows: number;
}

/** One job kind under test. */
export interface Scenario<S extends TrialSource = TrialSource> {
  readonly kind: JobKind;
  /** Rows in each trial's source at scale 1 (enough for several seconds and several batches or files). */
  readonly rows: number;
  /** The faults that apply to this job (besides `none`). */
  readonly faults: readonly FaultKind[];
  /**
   * Creates the trial's source (`rows` rows) and anything the job needs before it starts. With
   * `api-cancel`, also a first completed run: the data a cancelled run must leave intact.
   */
  prepare(stack: ChaosStack, name: string, rows: number, fault: FaultKind): Promise<S>;
  /** Starts the job the way users do. */
  start(stack: ChaosStack, source: S): Promise<StartedJob>;
  /** Starts the job again after a failed or cancelled run (what a user or the next scheduled run does). */
  rerun(stack: ChaosStack, source: S): Promise<StartedJob>;
  /** The statement class the emulator fails once during an `emulator-faults` trial (matched on its SQL). */
  failingStatement(source: S): RegExp;
  /**
   * Before verification: stops further scheduled runs and waits until none is in flight, so `verify` reads
   * settled state. A Schedule may start the job's next run the moment a run completes (a watermark sync's
   * run marks its table `running` before it finds nothing new). Jobs without a Schedule leave it out.
   */
  settle?(stack: ChaosStack, source: S): Promise<void>;
  /** Checks the target against the source, cell by cell, and the job's own leftovers (leases, staging tables). */
  verify(stack: ChaosStack, source: S): Promise<Verification>;
  /** After a cancelled run: checks the target still holds the previous run's data (`api-cancel` only). */
  verifyIntact?(stack: ChaosStack, source: S): Promise<Verification>;
  /** Stops what the trial left scheduled (so finished trials add no load). */
  finish(stack: ChaosStack, source: S): Promise<void>;
}
