/**
 * Sign-in throttle: after `maxFailures` failed sign-ins for one username, or from one client address,
 * within a sliding window of `windowMinutes`, further attempts for that username or from that address
 * are refused with 429 and `Retry-After` (seconds until the oldest counted failure leaves the window)
 * without checking the password. Refused attempts are not counted, so a correct password works again
 * once the window has passed.
 *
 * The failures live in PostgreSQL (`auth_failures`, migrations/0005_api_users.sql) rather than in
 * process memory, so every API process sharing the database enforces the same limit; PostgreSQL's
 * `now()` is the only clock used. Two attempts racing past the check can both be counted, so the limit
 * may be exceeded by the number of concurrent requests — never by more.
 */
import type pg from 'pg';
import { ApiError } from './errors.js';

/** Limits of the throttle (AUTH_MAX_FAILURES, AUTH_FAILURE_WINDOW_MINUTES). */
export interface ThrottleSettings {
  maxFailures: number;
  windowMinutes: number;
}

/** Who is signing in: the username as typed and the client address. */
export interface SignInAttempt {
  username: string;
  address: string;
}

/** 429 with the seconds to wait ({@link ApiError.details} carries `retry_after_seconds`). */
export class ThrottledError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'too_many_attempts', `too many failed sign-ins; retry in ${retryAfterSeconds} s`, undefined, {
      retry_after_seconds: retryAfterSeconds,
    });
  }
}

/**
 * Throw {@link ThrottledError} when the username or the address has `maxFailures` failures within
 * the window; otherwise return.
 */
export async function checkThrottle(pool: pg.Pool, t: ThrottleSettings, a: SignInAttempt): Promise<void> {
  // The maxFailures-th newest failure inside the window: while it exists, the key is blocked until
  // it is `window` old.
  const nth = (column: string, param: string) =>
    `(SELECT failed_at FROM auth_failures WHERE ${column} = ${param} AND failed_at > now() - make_interval(secs => $3)
       ORDER BY failed_at DESC OFFSET $4 - 1 LIMIT 1)`;
  const { rows } = await pool.query<{ wait: string | null }>(
    `SELECT ceil(extract(epoch FROM GREATEST(${nth('username', '$1')}, ${nth('address', '$2')}) + make_interval(secs => $3) - now()))::text AS wait`,
    [a.username, a.address, t.windowMinutes * 60, t.maxFailures],
  );
  const wait = rows[0]?.wait;
  if (wait !== null && wait !== undefined) throw new ThrottledError(Math.max(1, Number(wait)));
}

/** Count a failed sign-in, and forget failures older than the window. */
export async function recordFailure(pool: pg.Pool, t: ThrottleSettings, a: SignInAttempt): Promise<void> {
  await pool.query('INSERT INTO auth_failures (username, address) VALUES ($1, $2)', [a.username, a.address]);
  await pool.query('DELETE FROM auth_failures WHERE failed_at < now() - make_interval(secs => $1)', [
    t.windowMinutes * 60,
  ]);
}
