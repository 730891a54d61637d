/**
 * Where the emulator finds what it needs on this machine. It lives in the floe repository and uses the
 * same git-ignored `.floe/` directory at the repository root (FLOE_HOME overrides it), filled by
 * `scripts/bootstrap.mjs`: DuckDB extensions in `.floe/extensions`, default data in `.floe/state/emulator`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repository's `.floe/` directory (FLOE_HOME overrides it). */
export const floeHome = process.env.FLOE_HOME
  ? path.resolve(process.env.FLOE_HOME)
  : path.join(repositoryRoot, '.floe');

/** Default data directory of `npm run emulator` (FLOE_EMULATOR_DATA_DIR and `--data-dir` override it). */
export const defaultDataDir = path.join(floeHome, 'state', 'emulator');

/**
 * Options of the emulator's DuckDB instance: extensions (tpch, for seeding sample data) only from the
 * vendored directory, never downloaded; known extensions load on demand until the catalog locks the
 * instance down (catalog.ts), after which nothing loads.
 */
export function duckdbInstanceOptions(): Record<string, string> {
  return {
    extension_directory: path.join(floeHome, 'extensions'),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  };
}
