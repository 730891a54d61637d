/**
 * Shared pieces of the benchmarks: the result every bench returns (and how it is printed), the
 * emulator in its own process (so its memory is measured apart from the worker's), peak-RSS readings
 * and small statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { projectRoot } from '../src/infra/paths.js';
import type { CacheCheckResult } from '../src/jobs/cache-refresh/contract.js';
import { freePort } from '../src/infra/process.js';

/**
 * What a benchmark measured. `figures` and `floor` are flat maps of numbers whose names carry their
 * unit (`seconds`, `rowsPerSecond`, `p50Ms`, `peakRssMiB`...); the first entry of each is the headline
 * figure and the floor it is compared with, and `ratio` = headline ÷ floor (time ÷ floor time, so
 * lower is better and 1 is the floor). Other ratios (secondary floors) sit under `figures`.
 */
export interface BenchResult {
  bench: string;
  /** One line naming the headline figure in words, e.g. `stage full refresh 27.1 s (221,840 rows/s)`. */
  headline: string;
  /** The issue's target for the ratio (or the headline), in words, e.g. `≤ 1.15×`. */
  target: string;
  figures: Record<string, number>;
  floor: Record<string, number>;
  ratio: number | null;
}

/** The marker of the one JSON line a bench ends with (bench/run.ts reads it back). */
export const RESULT_MARKER = 'bench-result ';

/**
 * Prints the summary lines of a result (floor, ratio, target, peak RSS) and then the JSON line
 * `bench-result {...}`, which must be the last thing the process prints.
 */
export function printResult(r: BenchResult): void {
  const floor = Object.entries(r.floor)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  console.log(`\n[${r.bench}] ${r.headline}`);
  console.log(
    `[${r.bench}] floor: ${floor || '—'}; ratio ${r.ratio === null ? '—' : r.ratio.toFixed(2)} (target ${r.target})`,
  );
  const rss = Object.entries(r.figures).filter(([k]) => /RssMiB$/.test(k));
  console.log(`[${r.bench}] peak RSS: ${rss.map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(', ')}`);
  console.log(RESULT_MARKER + JSON.stringify(r));
}

/** A number as printed in summaries: integers grouped, others to 3 significant decimals. */
export function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(n >= 100 ? 1 : n >= 1 ? 2 : 3);
}

/** A plain-text table: a header line, a rule, then one line per row, each column padded to its widest cell. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (r: string[]) => r.map((c, k) => c.padEnd(widths[k])).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** Rounds for the JSON line: 3 decimals. */
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** `a / b` rounded to 3 decimals (null when `b` is 0). */
export const ratioOf = (a: number, b: number): number | null => (b > 0 ? round3(a / b) : null);

/** The `p`-th percentile (nearest rank) of `xs`. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** The median of `xs`: the middle value, or the mean of the two middle values of an even count. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Pairs of runs (floe's and its floor's) by their ratios `ratioOf(pair)`: the ratios, their median, and
 * the pair whose ratio is nearest the median (the one whose other figures a bench reports).
 */
export function medianPair<P>(
  pairs: readonly P[],
  ratioOf: (p: P) => number,
): { ratios: number[]; ratio: number; pair: P } {
  const ratios = pairs.map(ratioOf);
  const ratio = median(ratios);
  let k = 0;
  for (let j = 1; j < ratios.length; j++) if (Math.abs(ratios[j] - ratio) < Math.abs(ratios[k] - ratio)) k = j;
  return { ratios, ratio, pair: pairs[k] };
}

/**
 * A cache check that does no I/O and always skips: a worker with it in place of `cacheCheck` runs
 * `cacheRefresh` as Temporal's share of a SKIPPED check and nothing else.
 */
export async function noIoCacheCheck(): Promise<CacheCheckResult> {
  return { refresh: false, reason: 'no I/O', stateHash: '', lastAltered: {}, snapshotId: null };
}

/** The user every benchmark emulator is started with (`--user`), and the benchmarks sign in as. */
export const BENCH_USER = { name: 'bench', password: 'bench' } as const;

/**
 * Start `emulator/src/main.ts` as a child process on `port` with data under `dataDir`, seeding TPC-H at
 * `seedTpch` when given, with {@link BENCH_USER} as its user; resolves once it prints that it is
 * listening. Rejects with its output if it exits first.
 */
function startEmulatorChild(port: number, dataDir: string, seedTpch?: number): Promise<ChildProcess> {
  const args = [
    '--import',
    'tsx',
    'emulator/src/main.ts',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--user',
    BENCH_USER.name,
    '--password',
    BENCH_USER.password,
  ];
  if (seedTpch !== undefined) args.push('--seed-tpch', String(seedTpch));
  const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('listening on')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code} before listening:\n${out}`)));
  });
}

/** A benchmark's emulator, running as a child process (see {@link startBenchEmulator}). */
export interface BenchEmulator {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** What signs in to it as {@link BENCH_USER} (snowflake-sdk / `connectSnowflake` settings). */
  settings: { account: string; username: string; password: string; accessUrl: string };
  /** Seconds a first process took to seed TPC-H and stop (0 without `tpchScale`). */
  seedSeconds: number;
  /** SIGTERM it and wait at most `graceMs` (default 10 s) for it to exit. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The emulator in a child process of its own (so its CPU and memory are measured apart from the bench's)
 * on a free port, with data under `dataDir` and {@link BENCH_USER} as its user. With `tpchScale`, TPC-H at
 * that scale factor is in `dataDir` first: a first process seeds it when absent and is stopped, so that
 * seeding's memory stays out of the measured process's peak RSS. Rejects with the emulator's output if it
 * exits before listening.
 */
export async function startBenchEmulator(dataDir: string, tpchScale?: number): Promise<BenchEmulator> {
  const port = await freePort();
  let seedSeconds = 0;
  if (tpchScale !== undefined) {
    const t0 = performance.now();
    await stopChild(await startEmulatorChild(port, dataDir, tpchScale));
    seedSeconds = (performance.now() - t0) / 1000;
  }
  const child = await startEmulatorChild(port, dataDir);
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    url,
    settings: { account: 'floe', username: BENCH_USER.name, password: BENCH_USER.password, accessUrl: url },
    seedSeconds,
    stop: (graceMs) => stopChild(child, graceMs),
  };
}

/** SIGTERM a child and wait (at most `graceMs`) for it to exit. */
async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs).unref())]);
}

/** Peak resident set size of a process (Linux VmHWM from /proc/<pid>/status), in MiB. */
export function peakRssMiB(pid: number | 'self'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024);
}

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], utime [11], stime [12]). */
export function statFields(pid: number | 'self'): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** CPU milliseconds (user + system, all threads) a process has used, from /proc/<pid>/stat (USER_HZ = 100 ticks/s). */
export function cpuMs(pid: number | 'self'): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Milliseconds since `t0` (a `performance.now()` reading). */
export const since = (t0: number): number => performance.now() - t0;
