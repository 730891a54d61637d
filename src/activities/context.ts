/**
 * Activity-context helpers that also work outside an activity (plain unit tests): heartbeats with a
 * keep-alive timer for long statements, resume details, and cancellation checks.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

function ctx(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** Heartbeat details of the previous attempt (Temporal `activityInfo().heartbeatDetails`), or undefined. */
export function previousDetails<T>(): T | undefined {
  return ctx()?.info.heartbeatDetails as T | undefined;
}

/** When each activity (by its context) last sent a heartbeat through a throttled {@link startHeartbeat}. */
const lastBeat = new WeakMap<Context, number>();

/**
 * Progress reporter: `beat(details)` heartbeats now and remembers the details; a timer re-sends them
 * every `everyMs` (default 5 000 ms) so a long unload or GET still heartbeats (and so still receives
 * cancellation). Call `stop()` in a `finally`.
 *
 * With `minIntervalMs`, the start and `beat` only send when the activity's last heartbeat through
 * such a reporter (any of them: one per item of a batch share it) is at least that old, and otherwise
 * only remember the details for the timer: an activity running many short steps sends a heartbeat per
 * `minIntervalMs` rather than per step (each costs a payload encoding and a call into the worker's
 * core), and still one at least every `everyMs` while a step runs.
 */
export function startHeartbeat<T>(
  initial: T,
  everyMs = 5_000,
  opts: { minIntervalMs?: number } = {},
): { beat(d: T): void; stop(): void; current(): T } {
  const c = ctx();
  const min = opts.minIntervalMs ?? 0;
  let details = initial;
  const send = (always: boolean) => {
    if (!c) return;
    if (min > 0) {
      const now = performance.now();
      if (!always && now - (lastBeat.get(c) ?? -Infinity) < min) return;
      lastBeat.set(c, now);
    }
    c.heartbeat(details);
  };
  send(false);
  const timer = c ? setInterval(() => send(true), everyMs) : null;
  timer?.unref();
  return {
    beat(d: T) {
      details = d;
      send(false);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
    current() {
      return details;
    },
  };
}

/** Throw a CancelledFailure if the activity was asked to cancel (delivered with a heartbeat). */
export function throwIfCancelled(): void {
  const c = ctx();
  if (c?.cancellationSignal.aborted)
    throw new CancelledFailure(String(c.cancellationSignal.reason ?? 'activity cancelled'));
}

/** The activity's cancellation signal (aborts when Temporal delivers a cancellation), or undefined outside one. */
export function cancellationSignal(): AbortSignal | undefined {
  return ctx()?.cancellationSignal;
}

/** Await `p`, but reject as soon as the activity is cancelled (the work itself is not stopped). */
export async function cancellable<T>(p: Promise<T>): Promise<T> {
  const c = ctx();
  if (!c) return p;
  return Promise.race([p, c.cancelled]);
}

/**
 * A child of `base` carrying the workflow id, run id, activity type and attempt (style notes: logs
 * carry workflow id, run id and attempt), or `base` itself outside an activity.
 */
export function activityLogger<L extends { child(bindings: Record<string, unknown>): L }>(
  base: L | undefined,
): L | undefined {
  const c = ctx();
  if (!base || !c) return base;
  const i = c.info;
  return base.child({
    workflowId: i.workflowExecution?.workflowId,
    runId: i.workflowExecution?.runId,
    activity: i.activityType,
    attempt: i.attempt,
  });
}
