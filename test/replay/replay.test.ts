/**
 * Replay: every history in test/replay/histories (recorded from end-to-end runs, see
 * test/helpers/record-histories.ts) must replay with the current workflow code. A change that would
 * make a running workflow non-deterministic (a command added, removed or reordered without a
 * `patched()` guard) fails here, before it reaches a worker with workflows in flight.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { sharedWorkflowBundle } from '../helpers/temporal.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded workflow histories', () => {
  it('has histories for every job to replay', () => {
    const types = new Set(files.map((f) => f.replace(/-[a-z]+(\.\d+)?\.json$/, '')));
    for (const t of [
      'tableSync',
      'watermarkSync',
      'watermarkTableSync',
      'cacheRefresh',
      'cacheRefreshScheduled',
      'executionUploadDrain',
      'executionUpload',
    ])
      expect(types).toContain(t);
  });

  it.each(files)('%s replays with the current workflow code', async (file) => {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const history = temporal.api.history.v1.History.fromObject(json as Record<string, unknown>);
    // Throws DeterminismViolationError (or the workflow's own error) when the code no longer matches.
    await Worker.runReplayHistory({ workflowBundle: sharedWorkflowBundle(), replayName: file }, history, file);
  });
});
