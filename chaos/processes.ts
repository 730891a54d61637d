/**
 * floe's own processes as the chaos runner runs them: `src/worker.ts` and `src/api/server.ts` started
 * the way `npm run worker` / `npm run api` start them (tsx), each in its own process group, writing
 * straight into a log file (no pipe to the runner, so a process never depends on the runner reading
 * its output). A supervisor restarts a process that exits on its own, as systemd or Kubernetes would,
 * and counts it: the runner reports every such exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/infra/paths.js';

/** A supervised floe process. */
export interface FloeProcess {
  readonly name: string;
  /** The log file both output streams go to (appended over restarts). */
  readonly logFile: string;
  /** Exits the supervisor did not cause (crashes), with their code or signal, since start. */
  readonly unexpectedExits: string[];
  /** Resolves once the process is ready (its readiness check passes), rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGKILLs the process group and starts a new process at once (a crash and its replacement). */
  killAndReplace(): Promise<void>;
  /** Stops the process (SIGTERM, SIGKILL after `graceMs`) without replacing it. */
  stop(graceMs?: number): Promise<void>;
}

/** How to start one process. */
export interface ProcessSpec {
  name: string;
  /** Script relative to the project root, e.g. `src/worker.ts`. */
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** True once the process serves (e.g. its log says so, or /healthz answers). */
  isReady(sinceByte: number): Promise<boolean>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** Starts `spec` under supervision (call `ready()` to wait for it). */
export function startFloeProcess(spec: ProcessSpec): FloeProcess {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const unexpectedExits: string[] = [];
  let child: ChildProcess;
  let startedAtByte = 0;
  let stopping = false;

  const launch = (): void => {
    startedAtByte = fs.existsSync(spec.logFile) ? fs.statSync(spec.logFile).size : 0;
    const fd = fs.openSync(spec.logFile, 'a');
    child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, spec.script), ...spec.args], {
      cwd: projectRoot,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    const mine = child;
    mine.once('exit', (code, signal) => {
      if (stopping || mine !== child) return;
      unexpectedExits.push(`${spec.name} exited on its own (code ${code}, signal ${signal})`);
      launch();
    });
  };
  launch();

  return {
    name: spec.name,
    logFile: spec.logFile,
    unexpectedExits,
    async ready(timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await spec.isReady(startedAtByte).catch(() => false))) {
        if (Date.now() > deadline)
          throw new Error(`${spec.name} not ready after ${timeoutMs / 1000} s: see ${spec.logFile}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async killAndReplace() {
      const old = child;
      stopping = true;
      killGroup(old, 'SIGKILL');
      await exited(old);
      stopping = false;
      launch();
    },
    async stop(graceMs = 15_000) {
      stopping = true;
      const c = child;
      killGroup(c, 'SIGTERM');
      const timer = setTimeout(() => killGroup(c, 'SIGKILL'), graceMs);
      await exited(c);
      clearTimeout(timer);
      killGroup(c, 'SIGKILL');
    },
  };
}

/** A readiness check: the log file, from `sinceByte` on, contains `text`. */
export function logSays(logFile: string, text: string): (sinceByte: number) => Promise<boolean> {
  return async (sinceByte) => {
    const fd = await fs.promises.open(logFile, 'r');
    try {
      const { size } = await fd.stat();
      const buf = Buffer.alloc(Math.max(0, size - sinceByte));
      await fd.read(buf, 0, buf.length, sinceByte);
      return buf.toString().includes(text);
    } finally {
      await fd.close();
    }
  };
}
