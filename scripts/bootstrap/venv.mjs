/**
 * Python virtual environments for the bootstrap steps: floe's own venv at <FLOE_HOME>/venv (the
 * `temporal` CLI and the DuckDB extension wheels, see temporal.mjs and duckdb-extensions.mjs) and the
 * Snowflake client venvs of python-clients.mjs. Python itself (and, on Debian/Ubuntu, the venv module,
 * shipped apart as python3-venv) comes from apt-get when missing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, aptInstall, floeHome, log, run, which } from './context.mjs';

/** floe's venv; its `bin/temporal` is the CLI that src/infra/temporal.ts starts. */
export const venvDir = path.join(floeHome, 'venv');
const venvPython = path.join(venvDir, 'bin', 'python');

function findPython() {
  for (const cand of ['python3', 'python3.12', 'python3.11', 'python3.10']) {
    if (which(cand)) return cand;
  }
  return null;
}

/** (Re)creates an empty venv at `dir`. */
export function createVenv(dir) {
  let python = findPython();
  if (!python) {
    aptInstall(['python3', 'python3-venv'], 'python3 is missing');
    python = 'python3';
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const res = spawnSync(python, ['-m', 'venv', dir], { encoding: 'utf8' });
  if (res.status !== 0) {
    // Debian/Ubuntu ship venv without ensurepip unless python3-venv is installed.
    fs.rmSync(dir, { recursive: true, force: true });
    const ver = spawnSync(python, ['-c', 'import sys;print(f"{sys.version_info[0]}.{sys.version_info[1]}")'], {
      encoding: 'utf8',
    }).stdout.trim();
    aptInstall(
      ['python3-venv', ...(ver ? [`python${ver}-venv`] : [])],
      `\`${python} -m venv\` failed (${(res.stderr || '').trim().split('\n').pop()})`,
    );
    run(python, ['-m', 'venv', dir]);
  }
}

/** `pip install` of pinned requirements with the venv's own Python (`python` is its bin/python). */
export function pipInstall(python, requirements) {
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...requirements], {
    hint: 'Check network access to PyPI.',
  });
}

/** Installs `requirements` into floe's venv, creating the venv first when it is missing or has no pip. */
export function pipInstallIntoFloeVenv(requirements) {
  if (!fs.existsSync(venvPython) || spawnSync(venvPython, ['-c', 'import pip'], { stdio: 'ignore' }).status !== 0) {
    log(`creating Python venv at ${venvDir}`);
    createVenv(venvDir);
  }
  log(`pip install ${requirements.join(' ')}`);
  pipInstall(venvPython, requirements);
}

/** Site-packages directory of floe's venv (lib/pythonX.Y/site-packages). */
export function venvSitePackages() {
  const lib = path.join(venvDir, 'lib');
  for (const d of fs.readdirSync(lib)) {
    const sp = path.join(lib, d, 'site-packages');
    if (d.startsWith('python') && fs.existsSync(sp)) return sp;
  }
  throw new BootstrapError(`no site-packages under ${lib}`);
}
