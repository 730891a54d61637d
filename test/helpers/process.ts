/**
 * floe's own scripts as child processes in end-to-end tests (`node --import tsx <script>`), with their
 * output kept and a way to wait for a line of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A child process with its output kept, and a promise for a line of output. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  waitFor(text: string, what: string): Promise<void>;
}

/**
 * Start `script` (a path from the project root, e.g. `src/worker.ts`) with `args` and `env`; `name`
 * names it in the error of a `waitFor` that the process's exit made impossible.
 */
export function startScript(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(process.cwd(), script), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor: (text, what) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out.includes(text)) resolve();
        };
        listeners.push(check);
        check();
        child.once('exit', (code, signal) =>
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) before ${what}:\n${out.slice(-4000)}`)),
        );
      }),
  };
}
