/**
 * Helpers for the servers floe starts as child processes (PostgreSQL, Temporal): free ports,
 * waiting for readiness, process-group shutdown, records of running children (childRecords.ts), and
 * keeping the tail of a child's output for error messages.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { removeChildRecord, writeChildRecord } from './childRecords.js';

/** Asks the kernel for a free TCP port on 127.0.0.1 (released before returning, so a tiny race remains). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.setTimeout(1000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Keeps the last `maxBytes` of a child's output, for error messages. */
export class OutputTail {
  private buf = '';
  constructor(private readonly maxBytes = 8192) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    if (this.buf.length > this.maxBytes) this.buf = this.buf.slice(-this.maxBytes);
  }
  toString(): string {
    return this.buf.trim();
  }
}

/** A child process started in its own process group, with its output's tail kept. */
export interface ManagedChild {
  child: ChildProcess;
  tail: OutputTail;
  /** Resolves with the exit code/signal when the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the child has exited. */
  hasExited(): boolean;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** On process exit, SIGKILL every child group still alive (covers crashes, not SIGKILL of us). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Where and how {@link spawnManaged} records a child (src/infra/childRecords.ts). */
export interface ChildRecordOptions {
  /** The record file, e.g. `<state>/run/postgres.json`; removed when the child exits. */
  file: string;
  name: string;
  /** Signal that stops the child cleanly, used when a later start finds it orphaned. */
  stopSignal: NodeJS.Signals;
}

/**
 * Spawns `cmd args` detached in its own process group (so {@link killGroup} reaches its children
 * and a Ctrl-C in the terminal does not reach it before we stop it in order). stdout/stderr go to
 * `logFile` when given, and always into the returned tail. With `record`, the child's pid and command
 * line are written to a record file for as long as it runs, so a later start can find it if we die
 * without stopping it ({@link reclaimChild}).
 */
export function spawnManaged(
  cmd: string,
  args: string[],
  options: SpawnOptions & { logFile?: string; record?: ChildRecordOptions } = {},
): ManagedChild {
  const { logFile, record, ...spawnOpts } = options;
  const child = spawn(cmd, args, { ...spawnOpts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (record && child.pid)
    writeChildRecord(record.file, {
      name: record.name,
      pid: child.pid,
      argv: [cmd, ...args],
      stopSignal: record.stopSignal,
    });
  const tail = new OutputTail();
  const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
  const onData = (d: Buffer): void => {
    tail.push(d);
    log?.write(d);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      tail.push(`\nspawn error: ${err.message}\n`);
      done = true;
      resolve({ code: -1, signal: null });
    });
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid) liveGroups.delete(child.pid);
      if (record && child.pid) removeChildRecord(record.file, child.pid);
      log?.end();
      resolve({ code, signal });
    });
  });
  if (child.pid) {
    liveGroups.add(child.pid);
    installExitHook();
  }
  return { child, tail, exited, hasExited: () => done };
}

/**
 * Sends `signal` to the child's process group, waits up to `graceMs` for it to exit, then SIGKILLs
 * the group. Resolves once the child has exited.
 */
export async function killGroup(mc: ManagedChild, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  const pid = mc.child.pid;
  if (!pid || mc.hasExited()) return;
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        mc.child.kill(sig);
      } catch {
        /* gone */
      }
    }
  };
  send(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    mc.exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    send('SIGKILL');
    await mc.exited;
  }
  // Children of the leader (if any) may outlive it: make sure the group is gone.
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* group already empty */
  }
}

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many ms. */
  timeoutMs: number;
  /** Pause between attempts in ms (default 250). */
  intervalMs?: number;
  /** What is being waited for, for the error message. */
  what: string;
  /** The child whose early exit ends the wait with an error including its output. */
  child?: ManagedChild;
}

/**
 * Calls `check` until it returns true (errors count as "not yet"). Throws when the timeout passes or
 * the child exits first; the error names `what` and includes the child's output tail and the last
 * check error.
 */
export async function waitUntil(check: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (;;) {
    if (opts.child?.hasExited()) {
      const { code, signal } = await opts.child.exited;
      throw new Error(
        `${opts.what}: process exited early (code ${code}, signal ${signal})\n${opts.child.tail.toString()}`,
      );
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const out = opts.child ? `\n--- output ---\n${opts.child.tail.toString()}` : '';
      throw new Error(
        `${opts.what}: not ready after ${Math.round(opts.timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}${out}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
