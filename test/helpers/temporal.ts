/**
 * Temporal helpers for suites: the run's workflow bundle (built once in test/global-setup.ts).
 *
 *   const worker = await createWorker({ config, connection, workflowBundle: sharedWorkflowBundle() });
 */
import { inject } from 'vitest';

/**
 * The workflow code of src/workflows bundled once for this run, as a `{ codePath }` WorkflowBundle.
 * @throws with the bundler's error when bundling failed in global setup.
 */
export function sharedWorkflowBundle(): { codePath: string } {
  const codePath = inject('workflowBundlePath');
  if (!codePath) throw new Error(`no shared workflow bundle: ${inject('workflowBundleError')}`);
  return { codePath };
}

/** host:port and namespace of the run's Temporal dev server. */
export function temporalTarget(): { address: string; namespace: string } {
  return { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
}
