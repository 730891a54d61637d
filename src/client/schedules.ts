/**
 * The one Schedules helper every job uses: create-or-update, describe, trigger, delete. Every floe
 * Schedule starts one workflow with overlap policy SKIP (a run never starts while the previous one of
 * the same Schedule is still running; Temporal's "Schedule overlap policy" documentation) and records
 * the job kind in its memo, so listings can tell floe's Schedules apart.
 *
 * ```ts
 * await upsertSchedule(client, {
 *   scheduleId: 'execution-upload-drain', kind: 'execution-upload', every: '30s',
 *   action: { workflowType: executionUploadDrain, workflowId: 'execution-upload-drain', taskQueue, args: [{}] },
 * });
 * ```
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { JOB_KIND_ATTRIBUTE, type JobKind } from '../jobs/common.js';

/** What {@link upsertSchedule} did. */
export type ScheduleChange = 'created' | 'updated' | 'unchanged';

/** A floe Schedule: one workflow started every `every` (or on `spec`), overlap SKIP. */
export interface FloeScheduleOptions<W extends Workflow> {
  scheduleId: string;
  /** The job the Schedule belongs to (memo `jobKind`). */
  kind: JobKind;
  /** Interval, e.g. `'30s'` or ms; or give `spec` for calendars/cron. */
  every?: string | number;
  spec?: ScheduleSpec;
  /** The workflow to start: typed by the workflow function (`workflowType: tableSync`). */
  action: Omit<ScheduleOptionsStartWorkflowAction<W>, 'type'>;
  /** How long after a missed time (Temporal down) the action still runs (default 1 minute). */
  catchupWindow?: string;
  /** Extra memo fields (what listings show without decoding the action's arguments). */
  memo?: Record<string, unknown>;
  /** Paused when created (an update keeps the current state). */
  paused?: boolean;
  note?: string;
}

/**
 * Create the Schedule, or update it in place when one with this id exists (spec, action, policies,
 * memo are replaced; paused state and running actions are kept). Idempotent: when the current
 * Schedule already has this spec and action it is left alone and `'unchanged'` is returned.
 * Two concurrent upserts of one id both succeed (the loser of the create updates).
 *
 * @throws Error when neither `every` nor `spec` is given; Temporal client errors (unreachable server).
 */
export async function upsertSchedule<W extends Workflow>(
  client: Client,
  opts: FloeScheduleOptions<W>,
): Promise<ScheduleChange> {
  const spec: ScheduleSpec = opts.spec ?? (opts.every !== undefined ? { intervals: [{ every: opts.every }] } : {});
  if (!spec.intervals?.length && !spec.calendars?.length && !spec.cronExpressions?.length)
    throw new Error(`schedule ${opts.scheduleId}: give an interval or a spec`);
  const action = { type: 'startWorkflow' as const, ...opts.action } as ScheduleOptionsStartWorkflowAction<W>;
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: opts.catchupWindow ?? '1m' };
  const memo = { jobKind: JOB_KIND_ATTRIBUTE[opts.kind], ...opts.memo };
  const handle = client.schedule.getHandle(opts.scheduleId);
  const current = await describeSchedule(client, opts.scheduleId);
  if (!current) {
    try {
      await client.schedule.create({
        scheduleId: opts.scheduleId,
        spec,
        action,
        policies,
        memo,
        state: { paused: opts.paused ?? false, note: opts.note },
      });
      return 'created';
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      // Created concurrently: fall through to the update.
    }
  } else if (sameAction(current, action, spec)) {
    return 'unchanged';
  }
  await handle.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
  return 'updated';
}

/** The Schedule's description, or null when it does not exist. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/**
 * Start the Schedule's action now. `overlap` decides what happens when a run is in progress: SKIP
 * (default) starts nothing, BUFFER_ONE starts one run after it ends (Temporal keeps at most one buffered).
 * @returns false when the Schedule does not exist.
 */
export async function triggerSchedule(
  client: Client,
  scheduleId: string,
  overlap: typeof ScheduleOverlapPolicy.SKIP | typeof ScheduleOverlapPolicy.BUFFER_ONE = ScheduleOverlapPolicy.SKIP,
): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).trigger(overlap);
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/**
 * Delete the Schedule; runs it started keep running.
 * @returns false when it did not exist.
 */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The job kind a Schedule's memo records (`JOB_KIND_ATTRIBUTE` value), or null for Schedules floe did not make. */
export function scheduleJobKind(desc: { memo?: Record<string, unknown> }): string | null {
  const kind = desc.memo?.jobKind;
  return typeof kind === 'string' ? kind : null;
}

/** Whether the current Schedule already starts this action on this spec (intervals compared in ms). */
function sameAction(
  current: ScheduleDescription,
  action: ScheduleOptionsStartWorkflowAction<Workflow>,
  spec: ScheduleSpec,
) {
  const cur = current.action;
  if (cur.type !== 'startWorkflow') return false;
  const wanted = typeof action.workflowType === 'string' ? action.workflowType : action.workflowType.name;
  const everyMs = (e: string | number | undefined) =>
    typeof e === 'number' ? e : e === undefined ? undefined : msOf(e);
  return (
    cur.workflowType === wanted &&
    cur.taskQueue === action.taskQueue &&
    cur.workflowId === action.workflowId &&
    stableJson(cur.args ?? []) === stableJson(action.args ?? []) &&
    stableJson((current.spec.intervals ?? []).map((i) => everyMs(i.every as number))) ===
      stableJson((spec.intervals ?? []).map((i) => everyMs(i.every))) &&
    stableJson(current.spec.calendars ?? []) === stableJson(spec.calendars ?? []) &&
    current.policies.overlap === ScheduleOverlapPolicy.SKIP
  );
}

/** `'30s'`, `'2m'`, `'1h'`, `'500ms'` → ms (the forms floe passes; anything else compares as different). */
function msOf(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : val,
  );
}
