/**
 * Shared pieces of the benchmarks: the emulator in its own process (so its memory is measured apart
 * from the worker's) and peak-RSS readings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { projectRoot } from '../src/infra/paths.js';

export { freePort } from '../src/infra/process.js';

/** The user every benchmark emulator is started with (`--user`), and the benchmarks sign in as. */
export const BENCH_USER = { name: 'bench', password: 'bench' } as const;

/**
 * Start `emulator/src/main.ts` as a child process on `port` with data under `dataDir`, seeding TPC-H at
 * `seedTpch` when given, with {@link BENCH_USER} as its user; resolves once it prints that it is listening. Rejects with its output if it
 * exits first. The caller kills it (`child.kill()`).
 */
export function startEmulatorChild(port: number, dataDir: string, seedTpch?: number): Promise<ChildProcess> {
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

/** Peak resident set size of a process (Linux VmHWM from /proc/<pid>/status), in MiB. */
export function peakRssMiB(pid: number | 'self'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}
