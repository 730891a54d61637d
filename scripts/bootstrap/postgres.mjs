/**
 * Bootstrap step: PostgreSQL's server binaries (initdb, pg_ctl, postgres), which src/infra/postgres.ts
 * runs for the stack, the demo and the tests. From Debian's `postgresql` package (apt-get) when none is
 * installed; skipped when DATABASE_URL names a server to use instead. No stamp: the binaries are looked up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, aptInstall, which } from './context.mjs';

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

/** True when DATABASE_URL is set or the server binaries are installed. */
export function done() {
  return Boolean(process.env.DATABASE_URL || findPgBinDir());
}

/** Installs Debian's postgresql; true. */
export function ensure() {
  aptInstall(['postgresql'], 'PostgreSQL is not installed and DATABASE_URL is not set');
  if (!findPgBinDir())
    throw new BootstrapError('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin');
  return true;
}
