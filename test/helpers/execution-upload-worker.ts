/**
 * A separate worker process for the "worker killed mid-upload" test: runs the execution upload
 * activities (no workflows) on a given task queue; on attempt 1 it prints MIDWAY after the first bind
 * chunk and hangs, so the test can SIGKILL it in the middle of a load.
 *
 * Args (one JSON argument): {address, namespace, taskQueue, databaseUrl, keyHex, tmpDir}.
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
};
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
          if (i.attempt === 1) {
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
