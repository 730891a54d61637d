/**
 * Run the `floe` CLI (bin/floe.mjs) as a subprocess, the way a user or a script does, and collect its
 * exit code and output.
 *
 *   const r = await runCli(['jobs', '--json'], { env: { FLOE_API_URL: api.url, HOME: home } });
 *   expect(r.code).toBe(0); JSON.parse(r.stdout);
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/floe.mjs');

/** What one CLI run produced. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A word quoted for `sh`. */
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Run `floe <args>` with `env` added to this process's environment (an `undefined` value removes a
 * variable) and `input` on stdin. With `tty`, the CLI runs under `script` (util-linux) on a
 * pseudo-terminal: stdout and stderr both arrive in `stdout`, with CR LF line ends.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string; tty?: boolean } = {},
): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const command = [process.execPath, BIN, ...args];
  const child = opts.tty
    ? spawn('script', ['-qec', command.map(shellQuote).join(' '), '/dev/null'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(command[0]!, command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
