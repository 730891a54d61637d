/**
 * `npm run bench -- temporal-store [--runs 40] [--burst 100] [--rounds 2]`: what the Temporal dev server's
 * persistence costs a workflow, by SQLite setting.
 *
 * Starts one `temporal server start-dev` per store below, side by side: in memory, and on a SQLite file
 * with the dev server's own settings (SQLite's defaults: rollback journal, `synchronous=full`), with floe's
 * ({@link DEV_SERVER_SQLITE_PRAGMAS}: WAL, `synchronous=normal`), with WAL and `synchronous=full`, and with
 * WAL and `synchronous=off`. Each gets a worker of floe's workflows whose cache check does no I/O, so a run
 * of `cacheRefresh` is Temporal's share of a SKIPPED check and nothing else: start, workflow task, local
 * activity, completion, result. Prints per store:
 * - round trip p50/p95: one run at a time, start to result (`--runs` per store, the stores in alternation,
 *   so that the load of a shared machine weighs on each alike);
 * - throughput: `--burst` runs started at once (different caches) until the last result, workflows/s,
 *   `--rounds` times per store in alternation, best round.
 * Headline: the round trip on floe's setting; floor: the same on the in-memory store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { runCacheRefresh } from '../src/client/cacheRefresh.js';
import { projectRoot } from '../src/infra/paths.js';
import { DEV_SERVER_SQLITE_PRAGMAS, startTemporal } from '../src/infra/temporal.js';
import { setLogLevel } from '../src/logger.js';
import { noIoCacheCheck, percentile, ratioOf, round3, since, type BenchResult } from './common.js';

/** The stores compared; `pragmas: null` is the in-memory server. The first file store is the headline. */
const STORES: { key: string; label: string; pragmas: Record<string, string> | null }[] = [
  { key: 'walNormal', label: 'file, WAL, synchronous=normal (floe)', pragmas: { ...DEV_SERVER_SQLITE_PRAGMAS } },
  { key: 'memory', label: 'in memory', pragmas: null },
  { key: 'devDefault', label: 'file, dev-server default (journal delete, synchronous=full)', pragmas: {} },
  { key: 'walFull', label: 'file, WAL, synchronous=full', pragmas: { journal_mode: 'wal', synchronous: 'full' } },
  { key: 'walOff', label: 'file, WAL, synchronous=off', pragmas: { journal_mode: 'wal', synchronous: 'off' } },
];

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: { runs: { type: 'string' }, burst: { type: 'string' }, rounds: { type: 'string' } },
  });
  const runs = Number(values.runs ?? 40);
  const burst = Number(values.burst ?? 100);
  const rounds = Number(values.rounds ?? 2);
  setLogLevel('warn');
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed */
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-temporal-store-'));
  const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const taskQueue = 'floe-bench-temporal-store';
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const [bundle, ...servers] = await Promise.all([
      bundleWorkflowCode({ workflowsPath: path.join(projectRoot, 'src', 'workflows', 'index.ts'), logger: silent }),
      ...STORES.map((s) =>
        startTemporal({
          uiPort: false,
          startTimeoutMs: 240_000,
          ...(s.pragmas && { dbFile: path.join(root, `${s.key}.db`), sqlitePragmas: s.pragmas }),
        }),
      ),
    ]);
    for (const server of servers) stops.push(() => server!.stop());
    const stores = await Promise.all(
      STORES.map(async (s, i) => {
        const connection = await NativeConnection.connect({ address: servers[i]!.address });
        const worker = await Worker.create({
          connection,
          taskQueue,
          workflowBundle: bundle as Awaited<ReturnType<typeof bundleWorkflowCode>>,
          activities: { cacheCheck: noIoCacheCheck },
        });
        const running = worker.run();
        stops.unshift(async () => {
          worker.shutdown();
          await running;
          await connection.close();
        });
        return { ...s, client: new Client({ connection }) };
      }),
    );
    const check = async (client: Client, cacheName: string) => {
      const r = await runCacheRefresh(client, { cacheName }, { taskQueue });
      if (r.result !== 'SKIPPED') throw new Error(`expected SKIPPED, got ${r.result}: ${r.message}`);
    };

    // Round trips, the stores in alternation (two unmeasured rounds first).
    const lat = stores.map((): number[] => []);
    for (let i = 0; i < runs + 2; i++) {
      for (const [j, s] of stores.entries()) {
        const t = performance.now();
        await check(s.client, 'events');
        if (i >= 2) lat[j]!.push(since(t));
      }
    }
    // Throughput: `burst` checks of different caches at once, per store in alternation; best round.
    const perSecond = stores.map(() => 0);
    for (let r = 0; r < rounds; r++) {
      for (const [j, s] of stores.entries()) {
        const t = performance.now();
        await Promise.all(Array.from({ length: burst }, (_, k) => check(s.client, `burst_${r}_${k}`)));
        perSecond[j] = Math.max(perSecond[j]!, burst / (since(t) / 1000));
      }
    }

    const figures: Record<string, number> = {};
    for (const [j, s] of stores.entries()) {
      const p50 = percentile(lat[j]!, 50);
      const p95 = percentile(lat[j]!, 95);
      console.log(
        `${s.label}: round trip p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (n=${runs}); ${burst} at once: ${perSecond[j]!.toFixed(1)} workflows/s (best of ${rounds})`,
      );
      figures[`${s.key}P50Ms`] = round3(p50);
      figures[`${s.key}P95Ms`] = round3(p95);
      figures[`${s.key}WorkflowsPerSecond`] = round3(perSecond[j]!);
    }
    const floe = percentile(lat[0]!, 50);
    const memory = percentile(lat[1]!, 50);
    return {
      bench: 'temporal-store',
      headline: `round trip on floe's store (WAL, synchronous=normal) p50 ${floe.toFixed(1)} ms; dev-server default ${percentile(lat[2]!, 50).toFixed(1)} ms`,
      target: 'floe’s store ≤ 1.2× in memory',
      figures,
      floor: { memoryP50Ms: round3(memory) },
      ratio: ratioOf(floe, memory),
    };
  } finally {
    for (const s of stops) await s().catch((e) => console.error('stop failed:', (e as Error).message));
    fs.rmSync(root, { recursive: true, force: true });
  }
}
