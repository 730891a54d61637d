/**
 * Runs one peer (or floe) as a real subprocess and measures it the same way for every tool: wall time from
 * spawn to exit, and the peak resident memory of its process tree (the tool and every process it starts,
 * e.g. the DuckDB CLI Sling drives), sampled from /proc every {@link SAMPLE_MS} ms.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { OutputTail } from '../../src/infra/process.js';

/** How often the process tree's memory is sampled. */
const SAMPLE_MS = 100;

/** What one measured run gave. */
export interface Measured {
  seconds: number;
  /**
   * Peak RSS of the tree in MiB: each sample adds up the resident memory (VmRSS) of every live process of the
   * tree; the peak is the largest sample. A spike shorter than a sample can be missed.
   */
  peakRssMiB: number;
  /** null when the process exited 0; otherwise the exit status and the tail of its output. */
  error: string | null;
  /** Everything the process printed on stdout. */
  stdout: string;
}

/** Parent pid of every live process (Linux /proc/<pid>/stat, field 4). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces: read after its closing one.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // The process exited while the directory was read.
    }
  }
  return out;
}

/** Resident memory of the tree rooted at `root`, in KiB (0 once it is gone). */
function treeRssKiB(root: number): number {
  const byParent = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) byParent.set(ppid, [...(byParent.get(ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      total += Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Exited between the two reads.
    }
    stack.push(...(byParent.get(pid) ?? []));
  }
  return total;
}

/** Spawns `cmd args` with `env` added to this process's environment and measures it until it exits. */
export function runMeasured(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Measured> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = new OutputTail(4096);
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    tail.push(b);
  });
  child.stderr.on('data', (b: Buffer) => tail.push(b));
  let peakKiB = 0;
  const timer = setInterval(() => {
    if (child.pid) peakKiB = Math.max(peakKiB, treeRssKiB(child.pid));
  }, SAMPLE_MS);
  return new Promise((resolve) => {
    const done = (error: string | null) => {
      clearInterval(timer);
      resolve({ seconds: (performance.now() - t0) / 1000, peakRssMiB: Math.round(peakKiB / 1024), error, stdout });
    };
    child.on('error', (e) => done(`could not start ${cmd}: ${e.message}`));
    child.on('close', (code, signal) =>
      done(code === 0 ? null : `exited with ${signal ?? code}: ${tail.toString().split('\n').slice(-6).join('\n')}`),
    );
  });
}
