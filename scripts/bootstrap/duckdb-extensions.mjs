/**
 * Bootstrap step: the DuckDB extensions floe loads (ducklake, postgres_scanner, tpch), at
 * <FLOE_HOME>/extensions/<duckdb version>/linux_amd64/<name>.duckdb_extension, where DuckDB's
 * `extension_directory` setting looks for them (src/infra/paths.ts points DuckDB there). DuckDB would
 * download them from its own extension repository, which this project cannot reach; PyPI serves the same
 * signed builds as `duckdb-extension-<name>` wheels, installed into floe's venv and copied out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, floeHome, projectRoot, readStamp, writeStamp } from './context.mjs';
import { pipInstallIntoFloeVenv, venvSitePackages } from './venv.mjs';

/** Reads `duckdbVersion = 'vX.Y.Z'` from src/infra/paths.ts (the single source of truth). */
function readDuckdbVersion() {
  const src = fs.readFileSync(path.join(projectRoot, 'src', 'infra', 'paths.ts'), 'utf8');
  const m = /duckdbVersion\s*=\s*'(v\d+\.\d+\.\d+)'/.exec(src);
  if (!m) throw new Error('cannot find duckdbVersion in src/infra/paths.ts');
  return m[1];
}

/** The DuckDB release the extensions are built for, e.g. "v1.5.5". */
export const DUCKDB_VERSION = readDuckdbVersion();
/** Extension names as DuckDB's LOAD spells them. */
export const EXTENSIONS = ['ducklake', 'postgres_scanner', 'tpch'];
const PLATFORM = 'linux_amd64';
/** DuckDB's `extension_directory`. */
export const extensionDirectory = path.join(floeHome, 'extensions');
export const extensionTargetDir = path.join(extensionDirectory, DUCKDB_VERSION, PLATFORM);
const REQUIREMENTS = EXTENSIONS.map((e) => `duckdb-extension-${e.replaceAll('_', '-')}==${DUCKDB_VERSION.slice(1)}`);
/** What the stamp records: the pinned wheels (duckdb-check.mjs re-checks when it changes). */
export const stampValue = JSON.stringify({ requirements: REQUIREMENTS }) + '\n';

/** The installed file of extension `name`. */
export function extensionFile(name) {
  return path.join(extensionTargetDir, `${name}.duckdb_extension`);
}

/** True when the pinned extensions are in place. */
export function done() {
  return readStamp('duckdb-extensions.json') === stampValue && EXTENSIONS.every((e) => fs.existsSync(extensionFile(e)));
}

/** Installs the wheels into floe's venv and copies the extension files out; true. */
export function ensure() {
  pipInstallIntoFloeVenv(REQUIREMENTS);
  // Wheels hold duckdb_extension_<name>/extensions/<version>/<file>.duckdb_extension.
  const sp = venvSitePackages();
  fs.mkdirSync(extensionTargetDir, { recursive: true });
  for (const ext of EXTENSIONS) {
    const srcDir = path.join(sp, `duckdb_extension_${ext}`, 'extensions', DUCKDB_VERSION);
    const files = fs.existsSync(srcDir) ? fs.readdirSync(srcDir).filter((f) => f.endsWith('.duckdb_extension')) : [];
    if (files.length !== 1) {
      throw new BootstrapError(
        `expected one .duckdb_extension file in ${srcDir}, found ${files.length}: the wheel layout changed`,
      );
    }
    // Copy then rename: a DuckDB process may be loading the old file right now.
    const tmp = `${extensionFile(ext)}.tmp-${process.pid}`;
    fs.copyFileSync(path.join(srcDir, files[0]), tmp);
    fs.renameSync(tmp, extensionFile(ext)); // named <ext>.duckdb_extension, e.g. postgres_scanner
  }
  writeStamp('duckdb-extensions.json', stampValue);
  return true;
}
