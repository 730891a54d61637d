/**
 * A separate worker process for the "worker killed mid-upload" test: runs the execution upload
 * activities (no workflows) on a given task queue; on the attempt 1 of the `hangAt`-th item it loads
 * (default the first) it prints MIDWAY after the first bind chunk and hangs, so the test can SIGKILL it
 * in the middle of a load (of a batch's later item, with `hangAt` > 1).
 *
 * Args (one JSON argument): {address, namespace, taskQueue, databaseUrl, keyHex, tmpDir, hangAt?}.
 */
import { secretKeys } from '../../src/secrets/crypto.js';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createExecutionUploadActivities } from '../../src/activities/execution-upload/index.js';
import { createPool } from '../../src/db/index.js';
import { wrapActivities } from '../../src/errors.js';

const a = JSON.parse(process.argv[2]!) as {
  address: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  keyHex: string;
  tmpDir: string;
  hangAt?: number;
};
const loaded = new Set<string>();
const pool = createPool(a.databaseUrl, { max: 2 });
const connection = await NativeConnection.connect({ address: a.address });
const worker = await Worker.create({
  connection,
  namespace: a.namespace,
  taskQueue: a.taskQueue,
  activities: wrapActivities(
    createExecutionUploadActivities({
      pool,
      secretKeys: secretKeys(a.keyHex)!,
      tmpDir: a.tmpDir,
      hooks: {
        afterChunk: async (i) => {
          loaded.add(i.syncId);
          if (i.attempt === 1 && loaded.size === (a.hangAt ?? 1)) {
            process.stdout.write(`MIDWAY ${i.rowsLoaded}\n`);
            await new Promise(() => undefined);
          }
        },
      },
    }),
  ),
});
process.stdout.write('READY\n');
await worker.run();
