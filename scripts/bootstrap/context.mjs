/**
 * What every bootstrap step shares: the command-line flags, where things go (the project root and
 * FLOE_HOME), the log, stamps, running commands and installing Debian packages. Plain Node with no
 * dependencies: the bootstrap runs before node_modules exists.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `--quiet`: print nothing when there is nothing to do, and command output only when a command fails. */
export const quiet = process.argv.includes('--quiet');
/** `--test`: also install what the test suites need (the steps marked tests-only in scripts/bootstrap.mjs). */
export const forTests = process.argv.includes('--test');

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Every install and stamp lives here: FLOE_HOME, default <project>/.floe. */
export const floeHome = process.env.FLOE_HOME ? path.resolve(process.env.FLOE_HOME) : path.join(projectRoot, '.floe');
export const nodeModules = path.join(projectRoot, 'node_modules');
const stampDir = path.join(floeHome, 'stamps');

/** A failure the user can act on: the message names the failed step and what to do about it. */
export class BootstrapError extends Error {}

export function log(msg) {
  process.stderr.write(`floe bootstrap: ${msg}\n`);
}

export function sha256File(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The stamp <FLOE_HOME>/stamps/<name>, or null when there is none. */
export function readStamp(name) {
  try {
    return fs.readFileSync(path.join(stampDir, name), 'utf8');
  } catch {
    return null;
  }
}

/** Writes a stamp atomically (temporary file, then rename): a concurrent reader sees the old or the new one. */
export function writeStamp(name, value) {
  fs.mkdirSync(stampDir, { recursive: true });
  const tmp = path.join(stampDir, `.${name}.${process.pid}`);
  fs.writeFileSync(tmp, value);
  fs.renameSync(tmp, path.join(stampDir, name));
}

/**
 * Runs a command, streaming its output (or capturing it with --quiet and printing it only on failure).
 * @throws BootstrapError naming the command (and `hint`, what to check) on a non-zero exit.
 */
export function run(cmd, args, { cwd = projectRoot, env = process.env, hint = '' } = {}) {
  const res = spawnSync(cmd, args, { cwd, env, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    if (quiet) process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`);
    const why = res.error ? res.error.message : `exit code ${res.status}`;
    throw new BootstrapError(`\`${cmd} ${args.join(' ')}\` failed (${why}).${hint ? ` ${hint}` : ''}`);
  }
  return res;
}

/** Absolute path of `cmd` on PATH, or null. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * apt-get install, as root or via passwordless sudo.
 * @param why what needs the packages, for the log and the error.
 * @throws BootstrapError with the command to run when neither root nor sudo is available.
 */
export function aptInstall(packages, why) {
  const cmdline = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!which('apt-get')) throw new BootstrapError(`${why}: install ${packages.join(', ')} with your package manager.`);
  const prefix = isRoot() ? [] : which('sudo') ? ['sudo', '-n'] : null;
  if (!prefix) throw new BootstrapError(`${why}: run as root: ${cmdline}`);
  log(`${why}: ${cmdline}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sh = (args) =>
    prefix.length ? run(prefix[0], [...prefix.slice(1), ...args], { env }) : run(args[0], args.slice(1), { env });
  sh(['apt-get', 'update']);
  sh(['apt-get', 'install', '-y', '--no-install-recommends', ...packages]);
}
