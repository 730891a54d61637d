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
 * Re-record after a deliberate, versioned change of workflow code (a `patched()` branch), never to
 * make a failing replay pass: a failing replay means the new code would break running workflows.
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
        const file = path.join(outDir, `${type}-${status.toLowerCase()}.json`);
        const json = temporal.api.history.v1.History.fromObject(best.history).toJSON();
        fs.writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
        written.push(file);
      }
    }
  } finally {
    await connection.close();
  }
  return written;
}
