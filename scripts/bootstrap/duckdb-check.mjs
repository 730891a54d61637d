/**
 * Bootstrap step: the DuckDB inside @duckdb/node-api must be the release the extensions of
 * duckdb-extensions.mjs are built for — DuckDB refuses to LOAD an extension built for another version.
 * A fast check compares the version in node_modules/@duckdb/node-bindings/package.json; once per
 * installed combination a real one opens DuckDB from node_modules with floe's extension directory and
 * LOADs every extension.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, nodeModules, projectRoot, readStamp, writeStamp } from './context.mjs';
import {
  DUCKDB_VERSION,
  EXTENSIONS,
  extensionDirectory,
  extensionFile,
  extensionTargetDir,
  stampValue as extensionsStamp,
} from './duckdb-extensions.mjs';

const bindingsPackage = path.join(nodeModules, '@duckdb', 'node-bindings', 'package.json');

/** "v1.5.5" from the bindings' "1.5.5-r.5". */
function nodeDuckdbVersion() {
  const version = JSON.parse(fs.readFileSync(bindingsPackage, 'utf8')).version;
  return `v${String(version).replace(/-r\.\d+$/, '')}`;
}

/** The check's stamp: the node-side version, the extensions' pins and file sizes (changes when either side does). */
function stampValue() {
  const ext = EXTENSIONS.map((e) => fs.statSync(extensionFile(e)).size);
  return JSON.stringify({ nodeVersion: nodeDuckdbVersion(), extensionsStamp, ext }) + '\n';
}

/** True when this combination of @duckdb/node-api and extensions was checked. */
export function done() {
  try {
    return nodeDuckdbVersion() === DUCKDB_VERSION && readStamp('duckdb-check.json') === stampValue();
  } catch {
    return false; // node_modules or the extensions not installed yet
  }
}

/**
 * Runs the check; true.
 * @throws BootstrapError when the versions differ (saying which to pin) or an extension does not load.
 */
export function ensure() {
  if (!fs.existsSync(bindingsPackage))
    throw new BootstrapError(`${bindingsPackage} is missing: npm install did not install @duckdb/node-api`);
  const nodeVersion = nodeDuckdbVersion();
  if (nodeVersion !== DUCKDB_VERSION) {
    throw new BootstrapError(
      `@duckdb/node-api bundles DuckDB ${nodeVersion} but floe's extensions are ${DUCKDB_VERSION} ` +
        '(src/infra/paths.ts duckdbVersion). Pin @duckdb/node-api to the matching release, or bump duckdbVersion.',
    );
  }
  const script = `
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:', {
      extension_directory: ${JSON.stringify(extensionDirectory)},
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
  writeStamp('duckdb-check.json', stampValue());
  return true;
}
