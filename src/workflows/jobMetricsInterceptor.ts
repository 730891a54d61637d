/**
 * Workflow interceptor that reports every workflow run's start and end to the worker process, where
 * src/metrics/jobs.ts turns them into job metrics. Bundled with the workflows (`bundleWorkflows` in
 * src/worker.ts passes it as a workflow interceptor module); records no command, so it never changes
 * a history and replays of histories recorded without it stay deterministic.
 *
 * It talks to the worker through a sink (`proxySinks`, Temporal's way out of the workflow sandbox):
 * sink calls are not made again while a worker replays history, so a run is reported once even when
 * another worker picks it up after a crash. Temporal documents one exception: a workflow task that
 * fails and is retried makes its sink calls again; the end is therefore reported only for what ends
 * the execution (a return, a Temporal failure, a cancellation), never for a plain error, which fails
 * the task and is retried.
 */
import { TemporalFailure } from '@temporalio/common';
import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';

/** How a run left the interceptor: returned a value, failed the execution, or was cancelled. */
export type RunEnd = 'returned' | 'failed' | 'cancelled';

/** The sink the worker registers (src/metrics/jobs.ts). `input` is the workflow's first argument. */
export interface JobMetricsSinks extends Sinks {
  floeJobMetrics: {
    /** The first run of an execution chain started (not called again after continue-as-new). */
    started(input: unknown): void;
    /** The execution ended; `result` is the returned value when `end` is `returned`. */
    ended(input: unknown, end: RunEnd, result?: unknown): void;
    /**
     * An orchestrator ran one job itself, without a child workflow: it counts as a run of the job
     * workflow `workflowType` with this input (started), ending as `end` after `durationSeconds` (with
     * `result` when `returned`).
     */
    itemStarted(workflowType: string, input: unknown): void;
    itemEnded(workflowType: string, input: unknown, end: RunEnd, durationSeconds: number, result?: unknown): void;
  };
}

const { floeJobMetrics } = proxySinks<JobMetricsSinks>();

/** Entry point the bundler calls for each workflow execution. */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const arg: unknown = input.args[0];
        if (workflowInfo().continuedFromExecutionRunId === undefined) floeJobMetrics.started(arg);
        try {
          const result = await next(input);
          floeJobMetrics.ended(arg, 'returned', result);
          return result;
        } catch (err) {
          if (err instanceof ContinueAsNew) throw err;
          if (isCancellation(err)) floeJobMetrics.ended(arg, 'cancelled');
          else if (err instanceof TemporalFailure) floeJobMetrics.ended(arg, 'failed');
          throw err;
        }
      },
    },
  ],
});
