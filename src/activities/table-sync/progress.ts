/**
 * The transfer's progress reports: heartbeats (src/activities/context.ts `startHeartbeat`, re-sent every
 * 5 s while a statement runs) whose details also carry the attempt's loading rate. Temporal's worker
 * forwards them to the server at most once per throttle interval (`maxHeartbeatThrottleInterval`, see
 * src/worker.ts), where the API reads the last one.
 */
import { startHeartbeat } from '../context.js';
import type { TransferDetails } from './types.js';

/**
 * Heartbeats of one transfer attempt, starting with `initial`; each `beat` adds `rowsPerSecond` (rows
 * this attempt loaded ÷ seconds since it started). Call `stop()` in a `finally`.
 */
export function startTransferHeartbeat(initial: TransferDetails): { beat(d: TransferDetails): void; stop(): void } {
  const startedAt = Date.now();
  const rowsAtStart = initial.rowsLoaded;
  const hb = startHeartbeat<TransferDetails>(initial);
  return {
    beat(d: TransferDetails) {
      const seconds = (Date.now() - startedAt) / 1000;
      const rows = d.rowsLoaded - rowsAtStart;
      hb.beat(rows > 0 && seconds > 0 ? { ...d, rowsPerSecond: Math.round(rows / seconds) } : d);
    },
    stop: () => hb.stop(),
  };
}
