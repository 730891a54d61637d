/**
 * Bootstrap step: the npm packages in node_modules, exactly as package-lock.json records them. `npm ci`
 * when node_modules is missing or differs from the lock; node_modules/.floe-lock-sha256 stamps the lock
 * it was installed from. The lock records only the Linux builds of some native packages, so `npm ci` can
 * refuse it; that one failure falls back to `npm install --no-save` of the same locked versions.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, log, nodeModules, projectRoot, quiet, run, sha256File } from './context.mjs';

const lockFile = path.join(projectRoot, 'package-lock.json');
const npmStamp = path.join(nodeModules, '.floe-lock-sha256');

/**
 * True when node_modules holds exactly what package-lock.json asks for: compared with npm's own
 * record of the installed tree (node_modules/.package-lock.json). Avoids wiping a good tree with
 * `npm ci` when only the stamp is missing (e.g. after `npm install <pkg>` by hand).
 */
function installedTreeMatchesLock() {
  let lock;
  let hidden;
  try {
    lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
    hidden = JSON.parse(fs.readFileSync(path.join(nodeModules, '.package-lock.json'), 'utf8'));
  } catch {
    return false;
  }
  for (const [p, meta] of Object.entries(lock.packages ?? {})) {
    if (p === '' || !p.startsWith('node_modules/')) continue;
    const got = hidden.packages?.[p];
    if (!got) {
      if (meta.optional || meta.devOptional) continue; // platform-specific optional deps
      return false;
    }
    if (got.version !== meta.version) return false;
    if (!fs.existsSync(path.join(projectRoot, p))) return false;
  }
  return true;
}

/** Why an install is needed, or null when none is (writing the stamp when the tree already matches). */
function npmNeeded(lockHash) {
  if (!fs.existsSync(nodeModules)) return 'node_modules is missing';
  let stamp = null;
  try {
    stamp = fs.readFileSync(npmStamp, 'utf8');
  } catch {
    /* no stamp */
  }
  if (stamp === lockHash) return null;
  if (installedTreeMatchesLock()) {
    fs.writeFileSync(npmStamp, lockHash);
    return null;
  }
  return 'package-lock.json changed since the last install';
}

/**
 * True when `npm ci` failed only because the lock lacks entries that are optional dependencies of
 * locked packages (platform binaries for other OSes/CPUs), as its "Missing: <name>@<ver>" lines say.
 */
function onlyForeignPlatformPackagesMissing(npmOutput) {
  if (!npmOutput.includes('can only install packages when your package.json and package-lock.json')) return false;
  const missing = [...npmOutput.matchAll(/Missing: (@?[^@\s]+)@/g)].map((m) => m[1]);
  if (missing.length === 0) return false;
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  const optionalNames = new Set();
  for (const meta of Object.values(lock.packages ?? {})) {
    for (const name of Object.keys(meta.optionalDependencies ?? {})) optionalNames.add(name);
  }
  return missing.every((name) => optionalNames.has(name));
}

function lockHash() {
  if (!fs.existsSync(lockFile))
    throw new BootstrapError('package-lock.json is missing: run `npm install` once and commit it');
  return sha256File(lockFile);
}

/**
 * True when node_modules matches the lock.
 * @throws BootstrapError when package-lock.json is missing.
 */
export function done() {
  return !npmNeeded(lockHash());
}

/** Installs the locked tree; true. */
export function ensure() {
  const hash = lockHash();
  log(`npm ci (${npmNeeded(hash)})`);
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: projectRoot, encoding: 'utf8' });
  const out = `${ci.stdout ?? ''}${ci.stderr ?? ''}`;
  if (ci.status === 0) {
    if (!quiet) process.stderr.write(ci.stdout ?? '');
  } else if (onlyForeignPlatformPackagesMissing(out)) {
    // The lock records only this platform's optional binaries (@rollup/rollup-<os>-<cpu>, @swc/core-*):
    // the registry mirror this project was locked against lacks the others, and `npm ci` insists on
    // every platform's entry. `npm install --no-save` installs the exact locked versions instead.
    log("npm ci refused the lock (other platforms' optional binaries are not recorded); npm install --no-save");
    const before = fs.readFileSync(lockFile);
    try {
      run('npm', ['install', '--no-save', '--no-audit', '--no-fund'], {
        hint: 'Check network access to the npm registry.',
      });
    } finally {
      if (!fs.readFileSync(lockFile).equals(before)) fs.writeFileSync(lockFile, before); // never rewrite the lock
    }
    if (!installedTreeMatchesLock())
      throw new BootstrapError('npm install did not produce the tree package-lock.json describes');
  } else {
    process.stderr.write(out);
    throw new BootstrapError(`\`npm ci\` failed (exit code ${ci.status}). Check network access to the npm registry.`);
  }
  fs.writeFileSync(npmStamp, hash);
  return true;
}
