/**
 * What the table sync client throws when Temporal's answer is an expected outcome rather than a
 * fault; the API maps each to its HTTP status (src/api/errors.ts: 404 or 409).
 */
import type { JobStatus } from './names.js';

/** No table sync job has this id. */
export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`sync job '${jobId}' not found`);
    this.name = 'JobNotFoundError';
  }
}

/** A sync of the same table, or into the same target, is already running (at most one of each). */
export class JobAlreadyRunningError extends Error {
  constructor(
    readonly table: string,
    readonly runningJobId: string,
  ) {
    super(`a sync of ${table} is already running: job '${runningJobId}'`);
    this.name = 'JobAlreadyRunningError';
  }
}

/** The job exists but has finished, so it cannot be cancelled. */
export class JobNotRunningError extends Error {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
  ) {
    super(`sync job '${jobId}' is not running (status ${status})`);
    this.name = 'JobNotRunningError';
  }
}

/** No table sync Schedule has this id. */
export class ScheduleNotFoundError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule '${scheduleId}' not found`);
    this.name = 'ScheduleNotFoundError';
  }
}

/** A Schedule with this id (one per table) already exists. */
export class ScheduleAlreadyExistsError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule '${scheduleId}' already exists; delete it first to change it`);
    this.name = 'ScheduleAlreadyExistsError';
  }
}
