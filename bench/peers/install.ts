/**
 * Installs the peers of `npm run bench -- peers` (the tools a user would pick instead of floe) into the
 * project's own environment, from PyPI, pinned:
 * - Sling: its Linux binary, shipped inside the `sling-linux-amd64` wheel;
 * - dlt with its `sql_database` source (SQLAlchemy over snowflake-sqlalchemy and the Snowflake Python
 *   connector) and its DuckDB destination;
 * - the DuckDB CLI (`duckdb-cli`), which Sling drives to write DuckDB files (found through `DUCKDB_PATH`),
 *   and the `json` and `httpfs` extensions Sling's DuckDB target loads (`INSTALL json; LOAD json;`, then
 *   `read_csv('http://localhost:...')` of the rows it serves itself). Sling runs with `HOME` set to
 *   {@link PeerInstall.home}, whose `.duckdb/extensions/<version>/linux_amd64/` holds them: an `INSTALL` finds
 *   them there and downloads nothing (this machine reaches no extension repository).
 *
 * Everything lands in one venv, `<FLOE_HOME>/peers`, and the DuckDB versions match floe's (`duckdbVersion`) so
 * the bench can open every peer's file. Idempotent: a stamp (`<FLOE_HOME>/stamps/peers.json`) holding the
 * plan's requirements makes a second call a fast no-op; a changed plan reinstalls. Not part of `npm test`'s
 * bootstrap: the peers are a benchmark's, not floe's.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { duckdbVersion, floeHome } from '../../src/infra/paths.js';

/** PyPI requirements of the peers' venv, every one pinned. */
export const PEER_REQUIREMENTS: readonly string[] = [
  'sling-linux-amd64==1.4.11',
  'dlt[duckdb,sql-database]==1.31.0',
  'pyarrow==26.0.1',
  // snowflake-sqlalchemy 2.1 needs the 5.x connector (>=5.1,<6).
  'snowflake-sqlalchemy==2.1.0',
  'snowflake-connector-python==5.2.0',
  `duckdb==${duckdbVersion.slice(1)}`,
  `duckdb-cli==${duckdbVersion.slice(1)}`,
  `duckdb-extension-json==${duckdbVersion.slice(1)}`,
  `duckdb-extension-httpfs==${duckdbVersion.slice(1)}`,
];

/** DuckDB extensions Sling's DuckDB target loads, copied from their wheels into {@link PeerInstall.home}. */
const SLING_DUCKDB_EXTENSIONS = ['json', 'httpfs'] as const;

/** Where the installed peers are. */
export interface PeerInstall {
  /** The venv's Python (runs bench/peers/dlt_load.py). */
  python: string;
  /** Sling's binary, inside the `sling_linux_amd64` package. */
  sling: string;
  /** The DuckDB CLI Sling writes with (`DUCKDB_PATH`). */
  duckdb: string;
  /** `HOME` for Sling: `.duckdb/extensions` with the extensions it loads, `.sling` for its own files. */
  home: string;
}

/** What {@link ensurePeers} does: directories, the pip command line and the stamp that marks it done. */
export interface PeerInstallPlan {
  venvDir: string;
  stampFile: string;
  /** The stamp's content: the requirements, so that changing a pin reinstalls. */
  stampValue: string;
  /** Arguments of `<venv>/bin/python` installing {@link PEER_REQUIREMENTS}. */
  pipArgs: string[];
  /** Extension files to copy: from the wheel's directory inside site-packages to the home's extension directory. */
  extensions: { from: string; to: string }[];
  install: PeerInstall;
}

/** The install plan under `home` (FLOE_HOME by default), with site-packages at `lib/python<X.Y>/site-packages`. */
export function peerInstallPlan(home = floeHome, pythonVersion = '3'): PeerInstallPlan {
  const venvDir = path.join(home, 'peers');
  const sitePackages = path.join(venvDir, 'lib', `python${pythonVersion}`, 'site-packages');
  const slingHome = path.join(venvDir, 'home');
  const extDir = path.join(slingHome, '.duckdb', 'extensions', duckdbVersion, 'linux_amd64');
  return {
    venvDir,
    stampFile: path.join(home, 'stamps', 'peers.json'),
    stampValue: JSON.stringify({ requirements: PEER_REQUIREMENTS }) + '\n',
    pipArgs: ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...PEER_REQUIREMENTS],
    extensions: SLING_DUCKDB_EXTENSIONS.map((e) => ({
      from: path.join(sitePackages, `duckdb_extension_${e}`, 'extensions', duckdbVersion, `${e}.duckdb_extension`),
      to: path.join(extDir, `${e}.duckdb_extension`),
    })),
    install: {
      python: path.join(venvDir, 'bin', 'python'),
      sling: path.join(sitePackages, 'sling_linux_amd64', 'bin', 'sling-linux-amd64'),
      duckdb: path.join(venvDir, 'bin', 'duckdb'),
      home: slingHome,
    },
  };
}

/** Runs a command; throws with its output's last lines when it fails. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `exit code ${r.status}`}): ${out}`);
  }
  return r.stdout;
}

/**
 * Makes sure the peers are installed (see the module comment) and returns where they are. A no-op when the
 * stamp matches and the binaries exist. Throws naming the failed step (no Python, no network to PyPI...).
 */
export function ensurePeers(log: (msg: string) => void = console.log): PeerInstall {
  const probe = peerInstallPlan();
  const installed = (p: PeerInstallPlan) =>
    fs.existsSync(p.stampFile) &&
    fs.readFileSync(p.stampFile, 'utf8') === p.stampValue &&
    [p.install.python, p.install.sling, p.install.duckdb, ...p.extensions.map((e) => e.to)].every((f) =>
      fs.existsSync(f),
    );
  const version = (python: string) =>
    run(python, ['-c', 'import sys;print(f"{sys.version_info[0]}.{sys.version_info[1]}")']).trim();
  if (fs.existsSync(probe.install.python)) {
    const plan = peerInstallPlan(floeHome, version(probe.install.python));
    if (installed(plan)) return plan.install;
  }
  log(`installing the peers into ${probe.venvDir} (${PEER_REQUIREMENTS.join(' ')})`);
  fs.rmSync(probe.venvDir, { recursive: true, force: true });
  run('python3', ['-m', 'venv', probe.venvDir]);
  const plan = peerInstallPlan(floeHome, version(probe.install.python));
  run(plan.install.python, plan.pipArgs);
  for (const { from, to } of plan.extensions) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  fs.mkdirSync(path.dirname(plan.stampFile), { recursive: true });
  fs.writeFileSync(plan.stampFile, plan.stampValue);
  return plan.install;
}
