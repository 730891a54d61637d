/**
 * Benchmark dispatcher.
 *
 * - `npm run bench -- <name> [args...]` runs `bench/<name>.ts`'s `run(args)`, adds this process's peak
 *   RSS to its figures and prints the result (bench/common.ts `printResult`): the last line is
 *   `bench-result {...}`.
 * - `npm run bench -- all [--quick]` runs every bench of {@link PLAN} as its own child process, one after
 *   another (so each peak RSS is that bench's own), echoes their output, and ends with one table (bench,
 *   headline, floor, ratio, target, peak RSS) and a `bench-result {"bench":"all",...}` line holding every
 *   result. `--quick` uses small sizes (minutes in all, for checking the harness, not for figures).
 */
import { spawn } from 'node:child_process';
import { projectRoot } from '../src/infra/paths.js';
import { fmt, formatTable, peakRssMiB, printResult, RESULT_MARKER, type BenchResult } from './common.js';

type BenchModule = { run(args: string[]): Promise<BenchResult> };

const benches: Record<string, () => Promise<BenchModule>> = {
  'table-sync': () => import('./table-sync.js'),
  'watermark-sync': () => import('./watermark-sync.js'),
  cache: () => import('./cache.js'),
  'temporal-store': () => import('./temporal-store.js'),
  'execution-upload': () => import('./execution-upload.js'),
  emulator: () => import('./emulator.js'),
  'emulator-catalog': () => import('./emulator-catalog.js'),
  'emulator-merge': () => import('./emulator-merge.js'),
  peers: () => import('./peers.js'),
};

/** What `all` runs: full sizes (the issue's) and `--quick` ones. */
const PLAN: { label: string; bench: string; full: string[]; quick: string[] }[] = [
  {
    label: 'table-sync SF1',
    bench: 'table-sync',
    // Five pairs: one pair's ratio spreads by ±0.1 with the emulator's unload time alone.
    full: ['--scale', '1', '--repeat', '5'],
    quick: ['--scale', '0.01', '--stream-rows', '5000'],
  },
  {
    label: 'table-sync SF3',
    bench: 'table-sync',
    full: ['--scale', '3', '--skip-stream'],
    quick: ['--scale', '0.03', '--skip-stream'],
  },
  {
    label: 'watermark-sync',
    bench: 'watermark-sync',
    full: ['--repeat', '3'],
    quick: ['--rows', '20000', '--batch', '5000', '--update', '2000'],
  },
  { label: 'cache', bench: 'cache', full: [], quick: ['--rows', '20000', '--checks', '10', '--queries', '10'] },
  {
    label: 'temporal-store',
    bench: 'temporal-store',
    full: [],
    quick: ['--runs', '5', '--burst', '10', '--rounds', '1'],
  },
  {
    label: 'execution-upload',
    bench: 'execution-upload',
    full: ['--repeat', '3'],
    quick: ['--executions', '30', '--rows', '100', '--interval', '5'],
  },
  { label: 'emulator', bench: 'emulator', full: [], quick: ['--scale', '0.01', '--stream-rows', '20000'] },
  { label: 'emulator-catalog', bench: 'emulator-catalog', full: [], quick: ['--tables', '300', '--step', '100'] },
  { label: 'emulator-merge', bench: 'emulator-merge', full: [], quick: ['--target', '20000', '--batch', '2000'] },
  {
    label: 'peers',
    bench: 'peers',
    full: ['--rows', '200000'],
    quick: ['--scale', '0.01', '--rows', '5000', '--tables', 'ORDERS'],
  },
];

/** Runs one bench as a child process, echoing its output; resolves with its result line (or the failure). */
function runChild(
  bench: string,
  args: string[],
): Promise<{ result: BenchResult | null; seconds: number; error?: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', bench, ...args], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last: BenchResult | null = null;
  let pending = '';
  child.stdout.on('data', (b: Buffer) => {
    process.stdout.write(b);
    pending += b.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines)
      if (l.startsWith(RESULT_MARKER)) last = JSON.parse(l.slice(RESULT_MARKER.length)) as BenchResult;
  });
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0 && last) resolve({ result: last, seconds });
      else resolve({ result: null, seconds, error: `exited with ${signal ?? code}${last ? '' : ', no result line'}` });
    }),
  );
}

async function runAll(quick: boolean): Promise<void> {
  const rows: string[][] = [];
  const results: (BenchResult & { label: string; seconds: number })[] = [];
  for (const p of PLAN) {
    const args = quick ? p.quick : p.full;
    console.log(`\n=== ${p.label}: npm run bench -- ${p.bench} ${args.join(' ')}`);
    const { result, seconds, error } = await runChild(p.bench, args);
    if (!result) {
      rows.push([p.label, `FAILED (${error})`, '', '', '', '', seconds.toFixed(0)]);
      continue;
    }
    results.push({ ...result, label: p.label, seconds: Math.round(seconds) });
    const [floorName, floorValue] = Object.entries(result.floor)[0] ?? ['', NaN];
    const rss = Object.entries(result.figures)
      .filter(([k]) => /RssMiB$/.test(k))
      .map(([k, v]) => `${k === 'peakRssMiB' ? 'process' : k.replace(/PeakRssMiB$/, '')} ${v.toFixed(0)}`)
      .join(', ');
    rows.push([
      p.label,
      result.headline,
      floorName ? `${floorName} ${fmt(floorValue)}` : '—',
      result.ratio === null ? '—' : result.ratio.toFixed(2),
      result.target,
      rss,
      seconds.toFixed(0),
    ]);
  }
  const head = ['bench', 'headline', 'floor', 'ratio', 'target', 'peak RSS MiB', 'run s'];
  console.log(`\n${formatTable(head, rows)}`);
  const figures = Object.fromEntries(
    results.filter((r) => r.ratio !== null).map((r) => [`${r.label} ratio`, r.ratio!]),
  );
  console.log(RESULT_MARKER + JSON.stringify({ bench: 'all', figures, floor: {}, ratio: null, results }));
}

const [name, ...args] = process.argv.slice(2);
if (name === 'all') {
  await runAll(args.includes('--quick'));
} else {
  const load = name ? benches[name] : undefined;
  if (!load) {
    console.error(`usage: npm run bench -- <all [--quick]|${Object.keys(benches).join('|')}> [args...]`);
    process.exit(2);
  }
  const result = await (await load()).run(args);
  result.figures.peakRssMiB ??= peakRssMiB('self');
  printResult(result);
}
// Temporal's runtime and pooled connections may keep the event loop alive; the result is out.
process.exit(0);
