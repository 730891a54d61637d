/**
 * `npm run chaos -- [--job table-sync|watermark-sync|cache-refresh|execution-upload|all (or a comma list)]
 * [--trials N] [--seed N] [--fault F ...] [--scale X]`: the fault-injection runner (docs/durability.md). Prints a line
 * per trial, a table per job and fault, and `chaos-result {...}`; exits 1 when any trial failed (its
 * seed, fault time and logs are kept in the directory the trial line names).
 */
import { parseArgs } from 'node:util';
import { setLogLevel } from '../src/logger.js';
import { formatTables, resultLine } from './report.js';
import { runChaos } from './runner.js';
import { FAULTS, JOB_KINDS, type FaultKind, type JobKind } from './scenarios/scenario.js';

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`--${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

function positiveNumber(value: string, flag: string, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${flag} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(value)})`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string', default: 'all' },
      trials: { type: 'string', default: '20' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      fault: { type: 'string', multiple: true },
      scale: { type: 'string', default: '1' },
    },
    allowPositionals: false,
  });
  const jobs: JobKind[] =
    values.job === 'all' ? [...JOB_KINDS] : values.job.split(',').map((j) => oneOf(j.trim(), JOB_KINDS, 'job'));
  const faults: FaultKind[] | undefined = values.fault?.map((f) => oneOf(f, FAULTS, 'fault'));
  const trials = positiveNumber(values.trials, 'trials', true);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer (got ${JSON.stringify(values.seed)})`);
  setLogLevel('warn');
  const started = Date.now();
  const run = await runChaos({
    jobs,
    trials,
    seed,
    faults,
    scale: positiveNumber(values.scale, 'scale', false),
    stopOnSignals: true,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`${formatTables(run.cells)}\n\n`);
  process.stdout.write(
    `chaos: ${run.results.length} trials in ${Math.round((Date.now() - started) / 1000)} s, seed ${seed}, ${new Date().toISOString()}\n`,
  );
  process.stdout.write(`${resultLine(seed, run.results, run.cells)}\n`);
  process.exitCode = run.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
