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

/**
 * Run `floe <args>` with `env` added to this process's environment (an `undefined` value removes a
 * variable) and `input` on stdin.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
