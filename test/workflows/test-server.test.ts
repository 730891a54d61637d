/**
 * The time-skipping environment itself: a workflow that sleeps a day and an activity retried with
 * a one-minute backoff finish at once, on the real workflow bundle with a mocked activity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { executionUploadDrain } from '../../src/workflows/index.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('time-skipping test environment', () => {
  it('skips time: the clock jumps a day without waiting', async () => {
    const before = await env.currentTimeMs();
    await env.sleep('1 day');
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(86_400_000);
  });

  it('runs the real workflow bundle against mocked activities, search attributes included', async () => {
    const result = await runWithActivities(
      env,
      { activities: { executionUploadClaim: async () => [] } },
      (client, taskQueue) =>
        client.workflow.execute(executionUploadDrain, { args: [{}], workflowId: 'drain-smoke', taskQueue }),
    );
    expect(result).toMatchObject({ claimed: 0, completed: 0, runs: 1 });
  });
});
