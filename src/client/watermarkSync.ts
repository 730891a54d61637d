/**
 * The watermark sync's Temporal side for the API and the CLI: one Schedule per config name (id
 * `pg-sync-<name>`, see `scheduleId`), applied through the shared Schedules helper
 * (src/client/schedules.ts), plus pause, resume, trigger, describe and backfill.
 *
 * The validated config (no secrets) is the Schedule action's argument, so the Schedule is the source
 * of truth for what runs; `backfill` and `describe` read it back from there.
 */
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleDescriptionStartWorkflowAction,
} from '@temporalio/client';
import type pg from 'pg';
import { jobStatusAttributes } from '../jobs/common.js';
import {
  backfillWorkflowId,
  configSubject,
  scheduledWorkflowId,
  scheduleId,
  type WatermarkSyncConfig,
  type WatermarkSyncInput,
} from '../jobs/watermark-sync/contract.js';
import { resetWatermark } from '../jobs/watermark-sync/store.js';
import { watermarkSync } from '../workflows/watermarkSync.js';
import { describeSchedule, triggerSchedule, upsertSchedule, type ScheduleChange } from './schedules.js';

/** A backfill named a table its config does not list. */
export class TableNotConfiguredError extends Error {
  constructor(
    readonly table: string,
    configName: string,
    configured: string[],
  ) {
    super(`table ${table} is not in watermark sync config ${configName} (configured: ${configured.join(', ')})`);
    this.name = 'TableNotConfiguredError';
  }
}

/** Options of {@link applyWatermarkSyncConfig}. */
export interface ApplyOptions {
  taskQueue: string;
  /** Extra workflow input (activity task queue, heartbeat, batches per run). */
  input?: Omit<WatermarkSyncInput, 'config'>;
  /** Create the Schedule paused. */
  paused?: boolean;
}

/** Start options shared by scheduled and backfill runs: the queue and the initial job status. */
function runOptions(name: string, taskQueue: string) {
  return {
    taskQueue,
    typedSearchAttributes: jobStatusAttributes('watermark-sync', { subject: configSubject(name), status: 'running' }),
  };
}

/**
 * Create or update the Schedule of `config` (every `syncIntervalSeconds`, overlap SKIP, catch-up
 * window 1 minute). Idempotent: the same config, interval and task queue again changes nothing.
 * @returns the Schedule id and what was done.
 * @throws Temporal client errors (server unreachable).
 */
export async function applyWatermarkSyncConfig(
  client: Client,
  config: WatermarkSyncConfig,
  opts: ApplyOptions,
): Promise<{ scheduleId: string; action: ScheduleChange }> {
  const id = scheduleId(config.name);
  const input: WatermarkSyncInput = { config, ...opts.input };
  const action = await upsertSchedule(client, {
    scheduleId: id,
    kind: 'watermark-sync',
    every: `${config.syncIntervalSeconds}s`,
    action: {
      workflowType: watermarkSync,
      workflowId: scheduledWorkflowId(config.name),
      args: [input],
      ...runOptions(config.name, opts.taskQueue),
    },
    memo: { configName: config.name },
    paused: opts.paused,
    note: `floe watermark sync ${config.name}`,
  });
  return { scheduleId: id, action };
}

/** Run `fn` on the config's Schedule; false when the config is not applied (no Schedule). */
async function onSchedule(client: Client, name: string, fn: (id: string) => Promise<unknown>): Promise<boolean> {
  try {
    await fn(scheduleId(name));
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Pause the Schedule (running syncs finish). @returns false when the config is not applied. */
export function pauseWatermarkSync(client: Client, name: string, note = 'paused by floe'): Promise<boolean> {
  return onSchedule(client, name, (id) => client.schedule.getHandle(id).pause(note));
}

/** Resume a paused Schedule. @returns false when the config is not applied. */
export function resumeWatermarkSync(client: Client, name: string, note = 'resumed by floe'): Promise<boolean> {
  return onSchedule(client, name, (id) => client.schedule.getHandle(id).unpause(note));
}

/** Start a run now (nothing starts while one is running: overlap SKIP). @returns false when not applied. */
export function triggerWatermarkSync(client: Client, name: string): Promise<boolean> {
  return triggerSchedule(client, scheduleId(name));
}

/** The Schedule's state and its config. */
export interface WatermarkSyncScheduleInfo {
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

/** The Schedule's action (task queue and workflow input), or null when the config is not applied. */
async function appliedAction(
  client: Client,
  name: string,
): Promise<{ description: ScheduleDescription; taskQueue: string; input: WatermarkSyncInput } | null> {
  const description = await describeSchedule(client, scheduleId(name));
  if (!description) return null;
  const a = description.action as ScheduleDescriptionStartWorkflowAction;
  return { description, taskQueue: a.taskQueue, input: a.args?.[0] as WatermarkSyncInput };
}

/** Describe the Schedule of config `name`, or null when it does not exist. */
export async function describeWatermarkSync(client: Client, name: string): Promise<WatermarkSyncScheduleInfo | null> {
  const applied = await appliedAction(client, name);
  if (!applied) return null;
  const { description: d, taskQueue, input } = applied;
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note ?? null,
    intervalSeconds: input.config.syncIntervalSeconds,
    taskQueue,
    config: input.config,
    nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: d.info.recentActions.map((r) => ({
      scheduledAt: r.scheduledAt.toISOString(),
      workflowId: r.action.workflow.workflowId,
    })),
    runningWorkflowIds: d.info.runningActions.map((r) => r.workflow.workflowId),
  };
}

/**
 * Backfill: reset the stored position of `tables` (all configured tables when empty) to the start,
 * or to "rows with watermark after `after`", then start one run of just those tables now (workflow
 * id `pg-sync-<name>-backfill-<ms>`; per-table child ids keep it from overlapping a scheduled run of
 * the same table). Rows already in the target are merged again (harmless). Reads the config from the
 * applied Schedule.
 *
 * @returns null when the config is not applied.
 * @throws TableNotConfiguredError naming a table that is not in the config.
 */
export async function backfillWatermarkSync(
  client: Client,
  pool: pg.Pool,
  name: string,
  opts: { tables?: string[]; after?: string | null } = {},
): Promise<{ workflowId: string; tables: string[] } | null> {
  const applied = await appliedAction(client, name);
  if (!applied) return null;
  const { input, taskQueue } = applied;
  const known = input.config.tables.map((t) => t.source);
  const tables = opts.tables?.length ? opts.tables : known;
  const unknown = tables.find((t) => !known.includes(t));
  if (unknown !== undefined) throw new TableNotConfiguredError(unknown, name, known);
  for (const t of tables) await resetWatermark(pool, t, opts.after ?? null);
  const workflowId = backfillWorkflowId(name, Date.now());
  await client.workflow.start(watermarkSync, {
    workflowId,
    args: [{ ...input, only: tables }],
    ...runOptions(name, taskQueue),
  });
  return { workflowId, tables };
}
