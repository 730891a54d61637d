/**
 * Typed helpers for the watermark sync's Temporal Schedule (one per config name, id `pg-sync-<name>`):
 * apply (create or update, idempotent), pause, resume, trigger now, backfill, describe.
 *
 * The validated config (no secrets) is the schedule action's argument, so the schedule is the
 * source of truth for what runs; `backfill` reads it back from there.
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescriptionStartWorkflowAction,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type pg from 'pg';
import { SA } from '../jobs/common.js';
import {
  scheduleId,
  WATERMARK_SYNC_JOB_KIND,
  WATERMARK_SYNC_WORKFLOW,
  type WatermarkSyncConfig,
  type WatermarkSyncInput,
} from '../jobs/watermarkSync.js';
import { resetWatermark } from '../pgsync/store.js';

/** What apply did. */
export type ApplyAction = 'created' | 'updated' | 'unchanged';

/** Options of {@link applyPgSyncConfig}. */
export interface ApplyOptions {
  taskQueue: string;
  /** Extra workflow input (activity task queue, heartbeat, batches per run). */
  input?: Omit<WatermarkSyncInput, 'config'>;
  /** Create the schedule paused. */
  paused?: boolean;
}

function action(config: WatermarkSyncConfig, opts: ApplyOptions): ScheduleOptionsStartWorkflowAction<never> {
  const input: WatermarkSyncInput = { config, ...(opts.input ?? {}) };
  return {
    type: 'startWorkflow',
    workflowType: WATERMARK_SYNC_WORKFLOW,
    workflowId: `${scheduleId(config.name)}-run`,
    taskQueue: opts.taskQueue,
    args: [input] as never,
    typedSearchAttributes: [
      { key: SA.jobKind, value: WATERMARK_SYNC_JOB_KIND },
      { key: SA.table, value: `pg-sync:${config.name}` },
      { key: SA.status, value: 'running' },
    ],
  };
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

/**
 * Create or update the schedule for `config` (every `syncIntervalSeconds`, overlap SKIP, catch-up
 * window 1 minute). Idempotent: the same config, interval and task queue again changes nothing.
 * @returns the schedule id and what was done.
 */
export async function applyPgSyncConfig(
  client: Client,
  config: WatermarkSyncConfig,
  opts: ApplyOptions,
): Promise<{ scheduleId: string; action: ApplyAction }> {
  const id = scheduleId(config.name);
  const spec = { intervals: [{ every: `${config.syncIntervalSeconds}s` }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' };
  const act = action(config, opts);
  const handle = client.schedule.getHandle(id);
  try {
    const d = await handle.describe();
    const cur = d.action as ScheduleDescriptionStartWorkflowAction;
    const curEvery = d.spec.intervals?.[0]?.every;
    const same =
      cur.type === 'startWorkflow' &&
      cur.taskQueue === opts.taskQueue &&
      stable(cur.args?.[0]) === stable(act.args[0]) &&
      curEvery === config.syncIntervalSeconds * 1000 &&
      d.policies.overlap === ScheduleOverlapPolicy.SKIP;
    if (same) return { scheduleId: id, action: 'unchanged' };
    await handle.update((prev) => ({ ...prev, spec, action: act, policies: { ...prev.policies, ...policies } }));
    return { scheduleId: id, action: 'updated' };
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  try {
    await client.schedule.create({
      scheduleId: id,
      spec,
      action: act,
      policies,
      state: { paused: opts.paused ?? false, note: `floe pg-sync ${config.name}` },
    });
    return { scheduleId: id, action: 'created' };
  } catch (err) {
    // Created concurrently by another apply: update it instead.
    if ((err as Error).name === 'ScheduleAlreadyRunning') return applyPgSyncConfig(client, config, opts);
    throw err;
  }
}

/** Pause the schedule (running syncs finish). Throws ScheduleNotFoundError when not applied. */
export async function pausePgSync(client: Client, name: string, note = 'paused by floe'): Promise<void> {
  await client.schedule.getHandle(scheduleId(name)).pause(note);
}

/** Resume a paused schedule. Throws ScheduleNotFoundError when not applied. */
export async function resumePgSync(client: Client, name: string, note = 'resumed by floe'): Promise<void> {
  await client.schedule.getHandle(scheduleId(name)).unpause(note);
}

/** Start a run now (skipped if one is running: overlap SKIP). Throws ScheduleNotFoundError when not applied. */
export async function triggerPgSync(client: Client, name: string): Promise<void> {
  await client.schedule.getHandle(scheduleId(name)).trigger(ScheduleOverlapPolicy.SKIP);
}

/** The schedule's state and its config. */
export interface PgSyncScheduleInfo {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  intervalSeconds: number;
  taskQueue: string;
  config: WatermarkSyncConfig;
  nextActionTimes: string[];
  recentActions: { scheduledAt: string; workflowId: string }[];
  runningWorkflowIds: string[];
}

/** Describe the schedule, or null when it does not exist. */
export async function describePgSync(client: Client, name: string): Promise<PgSyncScheduleInfo | null> {
  try {
    const d = await client.schedule.getHandle(scheduleId(name)).describe();
    const a = d.action as ScheduleDescriptionStartWorkflowAction;
    const input = a.args?.[0] as WatermarkSyncInput;
    return {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note ?? null,
      intervalSeconds: input.config.syncIntervalSeconds,
      taskQueue: a.taskQueue,
      config: input.config,
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: d.info.recentActions.map((r) => ({
        scheduledAt: r.scheduledAt.toISOString(),
        workflowId: r.action.workflow.workflowId,
      })),
      runningWorkflowIds: d.info.runningActions.map((r) => r.workflow.workflowId),
    };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/**
 * Backfill: reset the stored position of `tables` (all configured tables when empty) to the start,
 * or to "rows with watermark after `after`", then start one run of just those tables now (workflow
 * id `pg-sync-<name>-backfill-<ms>`; per-table child ids keep it from overlapping a scheduled run of
 * the same table). Rows already in the target are merged again (harmless). Reads the config from the
 * applied schedule.
 *
 * @throws Error naming a table that is not in the config; ScheduleNotFoundError when not applied.
 */
export async function backfillPgSync(
  client: Client,
  pool: pg.Pool,
  name: string,
  opts: { tables?: string[]; after?: string | null } = {},
): Promise<{ workflowId: string; tables: string[] }> {
  const d = await client.schedule.getHandle(scheduleId(name)).describe();
  const a = d.action as ScheduleDescriptionStartWorkflowAction;
  const input = a.args?.[0] as WatermarkSyncInput;
  const known = input.config.tables.map((t) => t.source);
  const tables = opts.tables?.length ? opts.tables : known;
  for (const t of tables) {
    if (!known.includes(t)) {
      const e = new Error(`table ${t} is not in pg-sync config ${name} (configured: ${known.join(', ')})`);
      e.name = 'InvalidRequest';
      throw e;
    }
  }
  for (const t of tables) await resetWatermark(pool, t, opts.after ?? null);
  const workflowId = `${scheduleId(name)}-backfill-${Date.now()}`;
  await client.workflow.start(WATERMARK_SYNC_WORKFLOW, {
    taskQueue: a.taskQueue,
    workflowId,
    args: [{ ...input, only: tables }],
    typedSearchAttributes: [
      { key: SA.jobKind, value: WATERMARK_SYNC_JOB_KIND },
      { key: SA.table, value: `pg-sync:${name}` },
      { key: SA.status, value: 'running' },
    ],
  });
  return { workflowId, tables };
}
