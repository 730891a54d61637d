/**
 * floe's error taxonomy: the non-retryable error types (listed once, used by every workflow's retry
 * policy as `nonRetryableErrorTypes`) and the one place where snowflake-sdk, DuckDB and PostgreSQL
 * errors become typed Temporal failures ({@link toFailure}, applied to every activity by
 * {@link wrapActivities}), with credentials in their messages masked.
 *
 * Imported by workflows at run time: no Node built-ins, no I/O; only `@temporalio/common`.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  type ActivityOptions,
  type Duration,
  type LocalActivityOptions,
} from '@temporalio/common';
import { InvalidIdentifierError } from './sql/quote.js';
import { ValueFormatError } from './sql/values.js';
import { scrubSecrets } from './scrub.js';

/**
 * The innermost failure of a chain (WorkflowFailure/ActivityFailure → ApplicationFailure → …): its
 * message, the innermost error type seen, and whether any link (or a type in
 * {@link NON_RETRYABLE_ERROR_TYPES}) says a retry cannot fix it. Used by workflows to name the cause.
 */
export function rootCause(err: unknown): { message: string; type: string | null; nonRetryable: boolean } {
  let e = err as { message?: string; cause?: unknown; type?: string; nonRetryable?: boolean } | undefined;
  let type: string | null = null;
  let message = e?.message ?? String(err);
  let nonRetryable = false;
  while (e) {
    if (e.type) type = e.type;
    if (e.nonRetryable) nonRetryable = true;
    if (e.message) message = e.message;
    e = e.cause as typeof e;
  }
  if (type && NON_RETRYABLE_ERROR_TYPES.includes(type)) nonRetryable = true;
  return { message, type, nonRetryable };
}

/**
 * floe's activity retry policy: exponential backoff from 1 s (×2, capped at 1 min), `maximumAttempts`
 * attempts (default 5), never retrying {@link NON_RETRYABLE_ERROR_TYPES}.
 */
export function activityRetry(maximumAttempts = 5) {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  };
}

/**
 * How long a short activity (a few metadata statements, a status row, queue bookkeeping) may run, in
 * seconds. Such activities do not heartbeat, so this start-to-close timeout is also how long Temporal
 * takes to notice that the worker running one died and to retry it elsewhere.
 */
export const SHORT_ACTIVITY_SECONDS = 30;

/**
 * Default heartbeat timeout of long activities (transfers, batches, uploads), in seconds: a worker
 * killed during one is noticed after this. The SDK sends heartbeats to the server at most every
 * 0.8 × this (Temporal's heartbeat throttling), and floe's activities heartbeat every 5 s even while a
 * single statement runs, so a live activity never comes near it.
 */
export const HEARTBEAT_TIMEOUT_SECONDS = 30;

/**
 * `proxyActivities` options of a short activity: {@link SHORT_ACTIVITY_SECONDS} start-to-close, no
 * heartbeat, floe's retry policy; `extra` (task queue, another retry policy) is laid over them.
 */
export function shortActivity(extra: ActivityOptions = {}): ActivityOptions {
  return { startToCloseTimeout: `${SHORT_ACTIVITY_SECONDS}s`, retry: activityRetry(), ...extra };
}

/**
 * `proxyLocalActivities` options of a short activity run as a local activity (by the worker that runs
 * the workflow task, no task-queue round trip): the same {@link SHORT_ACTIVITY_SECONDS} start-to-close
 * and retry policy as {@link shortActivity}; `extra` is laid over them. Local activities have no task
 * queue and no heartbeat, so they suit only short statements.
 */
export function localActivity(extra: LocalActivityOptions = {}): LocalActivityOptions {
  return { startToCloseTimeout: `${SHORT_ACTIVITY_SECONDS}s`, retry: activityRetry(), ...extra };
}

/**
 * `proxyActivities` options of a long activity, one that heartbeats: `startToClose` bounds a whole
 * attempt (e.g. `'6h'`), `heartbeatSeconds` how long Temporal waits without a heartbeat before it
 * retries the attempt elsewhere; `extra` (task queue, retry policy, cancellation type) is laid over them.
 */
export function longActivity(
  startToClose: Duration,
  heartbeatSeconds = HEARTBEAT_TIMEOUT_SECONDS,
  extra: ActivityOptions = {},
): ActivityOptions {
  return { ...shortActivity(), startToCloseTimeout: startToClose, heartbeatTimeout: `${heartbeatSeconds}s`, ...extra };
}

/** Error types a retry cannot fix. A workflow retry policy lists exactly these. */
export const NonRetryable = {
  /** The Snowflake table (or database/schema) does not exist or is not visible (Snowflake 002003). */
  TableNotFound: 'TableNotFound',
  /** A column type floe cannot map (GEOGRAPHY, GEOMETRY, VECTOR, unknown). */
  UnsupportedType: 'UnsupportedType',
  /** The request cannot work as given (missing watermark column, bad identifier, bad SQL we built). */
  InvalidRequest: 'InvalidRequest',
  /** The target's schema conflicts with the source's (incompatible type change). */
  SchemaMismatch: 'SchemaMismatch',
  /** A value cannot be converted (DuckDB Conversion Error, Snowflake 100038/100039). */
  DataConversion: 'DataConversion',
  /** Login refused or access denied (Snowflake 390100, 390144, 390303, 394400, 003001). */
  AuthenticationFailed: 'AuthenticationFailed',
  /** Row counts that cannot be right: the load differs from the source's count, or MERGE/INSERT counts do not add up. */
  VerificationFailed: 'VerificationFailed',
} as const;

/** Retryable error types floe names (anything unlisted is retryable too). */
export const Retryable = {
  /** Network, timeouts, 5xx, lock conflicts: try again with backoff. */
  Transient: 'Transient',
  /** A Snowflake statement was cancelled (000604). */
  StatementCancelled: 'StatementCancelled',
} as const;

export type NonRetryableType = (typeof NonRetryable)[keyof typeof NonRetryable];

/** For `RetryPolicy.nonRetryableErrorTypes` of every workflow's activities. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(NonRetryable);

/** Snowflake error codes → floe types (codes from Snowflake's error messages, as the emulator returns them). */
const SNOWFLAKE_CODES: Record<string, string> = {
  '002003': NonRetryable.TableNotFound,
  '002043': NonRetryable.TableNotFound,
  '000904': NonRetryable.SchemaMismatch,
  '001003': NonRetryable.InvalidRequest,
  '002040': NonRetryable.InvalidRequest,
  '002102': NonRetryable.UnsupportedType,
  '100038': NonRetryable.DataConversion,
  '100039': NonRetryable.DataConversion,
  '390100': NonRetryable.AuthenticationFailed,
  '390144': NonRetryable.AuthenticationFailed,
  '390303': NonRetryable.AuthenticationFailed,
  '394400': NonRetryable.AuthenticationFailed,
  '003001': NonRetryable.AuthenticationFailed,
  '000604': Retryable.StatementCancelled,
};

/** Own error class names that already carry a floe type as `name`. */
const OWN_NAMES = new Set<string>([...Object.values(NonRetryable), ...Object.values(Retryable)]);

/** Create a floe error of a given type (used by activities; `wrapActivities` turns it into a failure). */
export function floeError(type: NonRetryableType | (typeof Retryable)[keyof typeof Retryable], message: string): Error {
  const e = new Error(message);
  e.name = type;
  return e;
}

/** Fields the drivers put on their errors: snowflake-sdk (`code`, `sqlState`), pg (`code` = SQLSTATE). */
type DriverError = { name?: string; code?: unknown; message?: string; sqlState?: unknown };

/**
 * Snowflake (snowflake-sdk) errors: by error code ({@link SNOWFLAKE_CODES}), then by SQLSTATE class —
 * 42 (compilation: our SQL, or the object changed) and 22 (data exception) do not get better by
 * retrying. Codes and classes as Snowflake's error messages give them (the emulator returns the same).
 * @returns a floe error type, or null when the error is not a Snowflake SQL error.
 */
export function classifySnowflake(err: DriverError): string | null {
  // snowflake-sdk's codes are numbers, or digit strings as the server sent them ("002003").
  const raw = typeof err.code === 'number' ? String(err.code) : typeof err.code === 'string' ? err.code : '';
  if (!/^\d{1,6}$/.test(raw)) return null;
  const code = raw.padStart(6, '0');
  if (SNOWFLAKE_CODES[code]) return SNOWFLAKE_CODES[code];
  if (typeof err.sqlState === 'string') {
    if (err.sqlState.startsWith('42')) return NonRetryable.InvalidRequest;
    if (err.sqlState.startsWith('22')) return NonRetryable.DataConversion;
  }
  return null;
}

/**
 * PostgreSQL (pg) errors by SQLSTATE (five characters, PostgreSQL's "Appendix A. Error Codes"):
 * 42P01 undefined table → TableNotFound, 42703 undefined column and class 23 (integrity constraint)
 * → SchemaMismatch, other class 42 (syntax, undefined object) → InvalidRequest, class 22 (data
 * exception) → DataConversion. Everything else (connection loss 08, 57P01 admin shutdown, 40001
 * serialization, 53 resources) is left to the caller: retryable.
 * @returns a floe error type, or null.
 */
export function classifyPostgres(err: DriverError): string | null {
  const code = err.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return null;
  if (code === '42P01') return NonRetryable.TableNotFound;
  if (code === '42703' || code.startsWith('23')) return NonRetryable.SchemaMismatch;
  if (code.startsWith('42')) return NonRetryable.InvalidRequest;
  if (code.startsWith('22')) return NonRetryable.DataConversion;
  return null;
}

/**
 * DuckDB errors by the exception class their message starts with ("Conversion Error: ...",
 * "Binder Error: ...", as DuckDB formats its exceptions).
 * @returns a floe error type, or null.
 */
export function classifyDuckdb(err: DriverError): string | null {
  const msg = String(err.message ?? '');
  if (/^(Conversion|Invalid Input) Error/.test(msg)) return NonRetryable.DataConversion;
  if (/^Binder Error|^Parser Error/.test(msg)) return NonRetryable.InvalidRequest;
  if (/^Constraint Error/.test(msg)) return NonRetryable.SchemaMismatch;
  return null;
}

/**
 * Classify an error thrown by snowflake-sdk, DuckDB, pg or floe itself: floe's own typed errors by
 * name, then each system's classifier. Returns the floe error type (one of {@link NonRetryable} /
 * {@link Retryable}); anything unrecognised is 'Transient'.
 */
export function classifyError(err: unknown): string {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return Retryable.Transient;
  if (e.name && OWN_NAMES.has(e.name)) return e.name;
  if (err instanceof InvalidIdentifierError || err instanceof ValueFormatError) return NonRetryable.InvalidRequest;
  return classifySnowflake(e) ?? classifyPostgres(e) ?? classifyDuckdb(e) ?? Retryable.Transient;
}

/** Convert any error to an ApplicationFailure with a floe type; non-retryable types are marked so. */
export function toFailure(err: unknown, context?: string): ApplicationFailure {
  scrubChain(err);
  if (err instanceof ApplicationFailure) return err;
  const type = classifyError(err);
  const base = err instanceof Error ? err.message : String(err);
  const e = err as { code?: unknown; sqlState?: unknown };
  const codeInfo =
    e && typeof e === 'object' && e.code ? ` [${String(e.code)}${e.sqlState ? `/${String(e.sqlState)}` : ''}]` : '';
  const message = `${context ? `${context}: ` : ''}${base}${codeInfo}`;
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE_ERROR_TYPES.includes(type),
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * Mask credentials ({@link scrubSecrets}) in the message and stack of `err` and of every error in its
 * `cause` chain, in place: the chain is what Temporal records in the workflow history.
 */
function scrubChain(err: unknown): void {
  const seen = new Set<unknown>();
  for (let e = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    try {
      e.message = scrubSecrets(e.message);
      if (e.stack) e.stack = scrubSecrets(e.stack);
    } catch {
      // a read-only message (frozen error): left as the library made it
    }
  }
}

/**
 * Wrap every function of an activity object so thrown errors leave as typed ApplicationFailures
 * (the "activity interceptor maps third-party errors in one place" pattern, as a plain wrapper so it
 * also works under MockActivityEnvironment). Cancellation errors pass through untouched.
 */
export function wrapActivities<T extends Record<string, (...args: never[]) => Promise<unknown>>>(acts: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        throw toFailure(err);
      }
    };
  }
  return out as T;
}
