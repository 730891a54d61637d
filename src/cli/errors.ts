/**
 * Exit codes of the `floe` CLI and the error that carries one. Scripts rely on these numbers
 * (docs/cli.md lists them); a command that waits for a job exits with the job's outcome.
 */

/** Process exit codes. */
export const EXIT = {
  /** Done; a waited-for job completed. */
  ok: 0,
  /** A job failed, or the API answered with a conflict or a server-side fault (409, 5xx). */
  failed: 1,
  /** Bad usage: unknown command or option, or input the API refused (400, 404, 422). */
  usage: 2,
  /** A waited-for job was cancelled. */
  cancelled: 3,
  /** Not signed in, token expired or revoked, or not allowed (401, 403). */
  auth: 4,
  /** The API could not be reached, or answered with something the CLI does not understand. */
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr and turns into `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * An error answer of the API (`{error:{code, message, field?}}`, src/api/errors.ts), with its HTTP status
 * and the exit code that status maps to.
 */
export class ApiCallError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message, exitCodeForStatus(status));
    this.name = 'ApiCallError';
  }
}

/** Exit code of an HTTP error status: 401/403 auth, other 4xx usage (409 and 429 failed), 5xx failed. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 409 || status === 429 || status >= 500) return EXIT.failed;
  return EXIT.usage;
}

/** Exit code of a finished job's status; running and pending jobs exit 0. */
export function exitCodeForJobStatus(status: string): ExitCode {
  if (status === 'failed') return EXIT.failed;
  if (status === 'cancelled') return EXIT.cancelled;
  return EXIT.ok;
}
