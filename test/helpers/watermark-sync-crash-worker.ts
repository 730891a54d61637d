/**
 * A worker process for the crash test (test/e2e/watermark-sync.test.ts): runs the watermark sync
 * activities (no workflows) on WM_QUEUE and kills itself with SIGKILL right after the first MERGE
 * commits, before the watermark update — a real worker death, not a thrown error.
 *
 * Env: WM_DATABASE_URL, WM_EMULATOR_URL, WM_TEMPORAL_ADDRESS, WM_QUEUE, WM_TMP.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createWatermarkSyncActivities } from '../../src/activities/watermark-sync/index.js';
import { envValue } from '../../src/config.js';
import { createPool } from '../../src/db/index.js';
import { wrapActivities } from '../../src/errors.js';

const need = (n: string): string => {
  const v = envValue(n);
  if (!v) throw new Error(`${n} is required`);
  return v;
};
const pool = createPool(need('WM_DATABASE_URL'), { max: 2 });
const connection = await NativeConnection.connect({ address: need('WM_TEMPORAL_ADDRESS') });
const activities = wrapActivities(
  createWatermarkSyncActivities({
    pool,
    sourcePool: pool,
    snowflake: {
      account: 'floe',
      username: 'u',
      password: 'p',
      accessUrl: need('WM_EMULATOR_URL'),
      database: 'ANALYTICS',
    },
    tmpDir: need('WM_TMP'),
    hooks: {
      afterMerge: () => {
        process.stdout.write('merged; dying\n');
        process.kill(process.pid, 'SIGKILL');
        return new Promise<void>(() => undefined);
      },
    },
  }),
);
const worker = await Worker.create({ connection, taskQueue: need('WM_QUEUE'), activities });
process.stdout.write('ready\n');
await worker.run();
