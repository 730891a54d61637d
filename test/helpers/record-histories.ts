/**
 * Records workflow histories for the replay tests (test/replay): after a run of the end-to-end
 * suites, the closed executions of every floe workflow type are listed on the run's Temporal dev
 * server, and for each (workflow type, close status) the shortest history is written to
 * `test/replay/histories/<type>-<status>.json`, as the History message's protobuf.js JSON form
 * (`temporal.api.history.v1.History.toJSON`; read back with `History.fromObject`).
 *
 * Not `historyToJSON` from @temporalio/common: that passes a message of @temporalio/proto's protobuf.js
 * copy to the protojson of @temporalio/common's own copy, which refuses it ("type must be a Type")
 * when npm installs the two packages with separate protobufjs copies, as it does here.
 *
 * Run by test/global-setup.ts's teardown when FLOE_RECORD_HISTORIES=1:
 *
 *   FLOE_RECORD_HISTORIES=1 npx vitest run test/e2e
 *
 * Histories accumulate: a history is written only when no file of its workflow type and status has the
 * same command shape ({@link commandShape}), as `<type>-<status>.json`, then `<type>-<status>.2.json`, …
 * So after a deliberate, versioned change (a `patched()` branch) a recording adds the new version's
 * histories next to the old ones, and the replay test then holds the code to both. Never delete a
 * history to make a failing replay pass: a failing replay means the new code would break running workflows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** Close statuses worth replaying (each drives different commands at the end of the history). */
const STATUSES = ['Completed', 'Failed', 'Canceled', 'ContinuedAsNew'] as const;

/** Histories above this many events are skipped (a replay test should stay small). */
const MAX_EVENTS = 400;

/**
 * Write one history per (workflow type, close status) found on the server.
 * @param workflowTypes floe's workflow type names (the exports of src/workflows/index.ts).
 * @returns the files written.
 */
export async function recordHistories(
  address: string,
  namespace: string,
  workflowTypes: readonly string[],
  outDir: string,
): Promise<string[]> {
  const connection = await Connection.connect({ address });
  const written: string[] = [];
  try {
    const client = new Client({ connection, namespace });
    fs.mkdirSync(outDir, { recursive: true });
    for (const type of workflowTypes) {
      for (const status of STATUSES) {
        let best: { history: temporal.api.history.v1.IHistory; events: number } | null = null;
        let seen = 0;
        for await (const wf of client.workflow.list({
          query: `WorkflowType = '${type}' AND ExecutionStatus = '${status}'`,
        })) {
          if (++seen > 20) break;
          if (wf.historyLength > MAX_EVENTS || (best && wf.historyLength >= best.events)) continue;
          const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
          best = { history, events: wf.historyLength };
        }
        if (!best) continue;
        const json = temporal.api.history.v1.History.fromObject(best.history).toJSON();
        const file = newHistoryFile(outDir, `${type}-${status.toLowerCase()}`, commandShape(json));
        if (!file) continue;
        fs.writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
        written.push(file);
      }
    }
  } finally {
    await connection.close();
  }
  return written;
}

/** A history event as protobuf.js JSON: its type and the attributes this module reads. */
interface EventJson {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, unknown> };
  startChildWorkflowExecutionInitiatedEventAttributes?: { workflowType?: { name?: string } };
}

/**
 * What a replay checks of a history, as one string: the sequence of events a workflow's commands make
 * (activity scheduled with its type, marker with its name (and patch id), child workflow with its type,
 * timer, search attributes…), without ids, times and payloads. Two histories of one shape test the
 * same code path.
 */
export function commandShape(history: { events?: EventJson[] }): string {
  return (history.events ?? [])
    .map((e) => {
      const type = (e.eventType ?? '').replace(/^EVENT_TYPE_/, '');
      const detail =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ??
        markerShape(e.markerRecordedEventAttributes);
      return detail ? `${type}(${detail})` : type;
    })
    .filter((t) => !t.startsWith('WORKFLOW_TASK_') && !t.startsWith('ACTIVITY_TASK_STARTED'))
    .join(' ');
}

/**
 * A marker's name, and for a `patched()` marker its details (the patch id, the same in every run);
 * a local activity's marker details hold its result, which differs from run to run, so they are left out.
 */
function markerShape(m: EventJson['markerRecordedEventAttributes']): string {
  if (!m) return '';
  return m.markerName === 'core_patch' ? `${m.markerName}:${JSON.stringify(m.details ?? {})}` : (m.markerName ?? '');
}

/**
 * The file to write a history of `base` (`<type>-<status>`) and `shape` to, or null when a history of
 * that shape is already there: `<base>.json` when none exists, else `<base>.<n>.json` with the next n.
 */
function newHistoryFile(outDir: string, base: string, shape: string): string | null {
  const existing = fs
    .readdirSync(outDir)
    .filter((f) => f === `${base}.json` || new RegExp(`^${base}\\.\\d+\\.json$`).test(f));
  for (const f of existing) {
    const old = JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')) as { events?: EventJson[] };
    if (commandShape(old) === shape) return null;
  }
  return path.join(outDir, existing.length === 0 ? `${base}.json` : `${base}.${existing.length + 1}.json`);
}
