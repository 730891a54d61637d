/**
 * A private PostgreSQL server for the local stack and the test run, used when DATABASE_URL is unset.
 *
 * Layout under `dataDir`: `pgdata/` (the cluster), `socket/` (unix socket), `password` (the `floe`
 * superuser's generated password, mode 0600), `postgres.log`. PostgreSQL refuses to run as root, so
 * when we are root the server runs as the `postgres` OS user (created with useradd if absent) and
 * the directory is chowned to it (when that user cannot reach `dataDir`, e.g. under /root, the cluster
 * lives in /var/lib/floe-postgres/<hash of dataDir> instead: `dataDir/CLUSTER-IS-ELSEWHERE` says where
 * and the fallback's `OWNER` file names `dataDir`, so {@link findOrphanClusters} can tell when the state
 * directory is gone). It listens on 127.0.0.1 only; TCP logins need the password.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { childLogger } from '../logger.js';
import { reclaimChild } from './childRecords.js';
import { freePort, killGroup, spawnManaged, waitUntil, type ManagedChild } from './process.js';

/** Superuser created by initdb; also the owner of database `floe`. */
export const PG_SUPERUSER = 'floe';
/** Database created for floe's control plane. */
export const PG_DATABASE = 'floe';

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Directory for the cluster and its files; created (and initdb'ed) when missing. See the module note on root. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 or undefined picks a free port. */
  port?: number;
  /**
   * A throwaway cluster (tests, benches): durability traded for speed (fsync, synchronous_commit and
   * full_page_writes off; a crash may corrupt it) and `stop()` deletes the cluster's directory
   * (`dataDir`, or its fallback directory).
   */
  ephemeral?: boolean;
  /**
   * Record the server's pid and command line here while it runs (e.g. `<state>/run/postgres.json`); a
   * server left by a floe process that died is stopped first (src/infra/childRecords.ts).
   */
  recordFile?: string;
  /** Directory holding initdb/postgres; default: found by {@link findPgBinDir}. */
  binDir?: string;
  /** Give up waiting for the server after this many ms (default 120 000). */
  startTimeoutMs?: number;
}

/** A running PostgreSQL started by {@link startPostgres}. */
export interface PostgresServer {
  /** postgres://floe:<password>@127.0.0.1:<port>/floe — contains a secret: log with redactUrl. */
  url: string;
  /** Same server, maintenance database `postgres` (for CREATE/DROP DATABASE). */
  serverUrl: string;
  port: number;
  dataDir: string;
  /** Fast shutdown (SIGINT: abort transactions, checkpoint, exit); SIGKILL after 60 s. Ephemeral: then deletes the cluster. */
  stop(): Promise<void>;
}

/**
 * Directory holding `initdb` and `postgres`: the newest `/usr/lib/postgresql/<N>/bin` (Debian), else
 * wherever `initdb` on PATH lives. Returns null when PostgreSQL is not installed (bootstrap installs it).
 */
export function findPgBinDir(): string | null {
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
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (found) {
    const dir = path.dirname(fs.realpathSync(found));
    if (fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return null;
}

/** uid/gid to run PostgreSQL as: ourselves, or (when root) the `postgres` user, created if absent. */
function serverIdentity(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const lookup = (): { uid: number; gid: number } | null => {
    const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) return null;
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  let id = lookup();
  if (!id) {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    id = lookup();
    if (!id) throw new Error('created OS user postgres but cannot look it up');
  }
  return id;
}

function chownTree(dir: string, id: { uid: number; gid: number }): void {
  fs.chownSync(dir, id.uid, id.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, id);
    else fs.lchownSync(p, id.uid, id.gid);
  }
}

/** True when the server user can enter and write `dir` (all its ancestors are traversable). */
function reachableBy(dir: string, id: { uid: number; gid: number } | null): boolean {
  if (!id) return true;
  return spawnSync('test', ['-x', dir, '-a', '-w', dir], { uid: id.uid, gid: id.gid }).status === 0;
}

/** Where clusters go when the requested directory sits below one the `postgres` user cannot enter (e.g. /root). */
export const FALLBACK_ROOT = '/var/lib/floe-postgres';

/** File in a fallback cluster's directory naming the directory it was requested for (JSON {@link ClusterOwner}). */
export const OWNER_FILE = 'OWNER';
/** File in the requested directory naming the fallback directory that holds its cluster. */
export const ELSEWHERE_FILE = 'CLUSTER-IS-ELSEWHERE';

/** Content of a fallback cluster's OWNER file. */
export interface ClusterOwner {
  requestedDir: string;
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${PG_SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Runs one query against `url` on a short-lived client. */
async function queryOnce<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query<T>(sql, params);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL server on 127.0.0.1 and ensures database `floe`.
 *
 * @returns the server's URLs and `stop()`; resolves once it accepts connections.
 * @throws when PostgreSQL is not installed, the data dir is unusable, a server already runs on it,
 *   or the server does not come up within `startTimeoutMs` (the message carries the server's output).
 */
export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const log = childLogger({ component: 'postgres' });
  const binDir = options.binDir ?? findPgBinDir();
  if (!binDir) throw new Error('PostgreSQL is not installed: run `node scripts/bootstrap.mjs` or set DATABASE_URL');
  const requestedDir = path.resolve(options.dataDir);
  const id = serverIdentity();
  let dataDir = requestedDir;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (id) chownTree(dataDir, id);
  if (!reachableBy(dataDir, id)) {
    // Running as root with the project under a private directory: the server user cannot reach it.
    // Keep the cluster in a fixed place derived from the requested path instead (same path every run).
    dataDir = path.join(FALLBACK_ROOT, createHash('sha256').update(requestedDir).digest('hex').slice(0, 16));
    fs.mkdirSync(FALLBACK_ROOT, { recursive: true, mode: 0o755 });
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (id) chownTree(dataDir, id);
    if (!reachableBy(dataDir, id))
      throw new Error(`PostgreSQL (OS user postgres) cannot use ${requestedDir} nor ${dataDir}`);
    fs.writeFileSync(path.join(requestedDir, ELSEWHERE_FILE), `${dataDir}\n`);
    fs.writeFileSync(path.join(dataDir, OWNER_FILE), `${JSON.stringify({ requestedDir } satisfies ClusterOwner)}\n`);
    log.info({ requestedDir, dataDir }, 'data directory not reachable by the postgres user; cluster kept elsewhere');
  }
  const clusterDir = path.join(dataDir, 'pgdata');
  const socketDir = path.join(dataDir, 'socket');
  const passwordFile = path.join(dataDir, 'password');
  const logFile = path.join(dataDir, 'postgres.log');

  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  if (id) chownTree(dataDir, id);
  const asServer = id ? { uid: id.uid, gid: id.gid } : {};
  const env = { PATH: `${binDir}:/usr/bin:/bin`, LANG: 'C', LC_ALL: 'C', HOME: dataDir };

  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    fs.rmSync(clusterDir, { recursive: true, force: true });
    const password = randomBytes(18).toString('base64url');
    const pwTmp = path.join(dataDir, '.initdb-pw');
    fs.writeFileSync(pwTmp, `${password}\n`, { mode: 0o600 });
    if (id) fs.chownSync(pwTmp, id.uid, id.gid);
    const started = Date.now();
    const r = spawnSync(
      path.join(binDir, 'initdb'),
      [
        '-D',
        clusterDir,
        '-U',
        PG_SUPERUSER,
        `--pwfile=${pwTmp}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { ...asServer, env, encoding: 'utf8', cwd: dataDir },
    );
    fs.rmSync(pwTmp, { force: true });
    if (r.status !== 0) {
      throw new Error(`initdb failed (exit ${r.status ?? r.error?.message}):\n${(r.stderr || r.stdout || '').trim()}`);
    }
    fs.writeFileSync(passwordFile, password, { mode: 0o600 });
    if (id) fs.chownSync(passwordFile, id.uid, id.gid);
    log.info({ dataDir, ms: Date.now() - started }, 'initialised PostgreSQL cluster');
  }
  const password = fs.readFileSync(passwordFile, 'utf8').trim();

  if (options.recordFile) await reclaimChild(options.recordFile);
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      /* stale pid file: postgres removes it itself */
    }
    if (alive) throw new Error(`a PostgreSQL server (pid ${pid}) is already running on ${clusterDir}`);
  }

  const port = options.port ? options.port : await freePort();
  const settings = [
    `listen_addresses=127.0.0.1`,
    `port=${port}`,
    `unix_socket_directories=${socketDir}`,
    'max_connections=200',
    'shared_buffers=128MB',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const started = Date.now();
  const mc: ManagedChild = spawnManaged(
    path.join(binDir, 'postgres'),
    ['-D', clusterDir, ...settings.flatMap((s) => ['-c', s])],
    {
      ...asServer,
      env,
      cwd: dataDir,
      logFile,
      ...(options.recordFile && {
        record: { file: options.recordFile, name: 'postgres', stopSignal: 'SIGINT' as const },
      }),
    },
  );
  const serverUrl = connectionUrl(password, port, 'postgres');
  const url = connectionUrl(password, port, PG_DATABASE);

  const stop = async (): Promise<void> => {
    await killGroup(mc, 'SIGINT', 60_000);
    if (options.ephemeral) removeCluster(dataDir, requestedDir);
  };

  try {
    await waitUntil(
      async () => {
        await queryOnce(serverUrl, 'SELECT 1');
        return true;
      },
      {
        what: `PostgreSQL on 127.0.0.1:${port} (log ${logFile})`,
        timeoutMs: options.startTimeoutMs ?? 120_000,
        intervalMs: 200,
        child: mc,
      },
    );
    await ensureDatabase(serverUrl, PG_DATABASE);
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ port, dataDir, ms: Date.now() - started }, 'PostgreSQL ready');
  return { url, serverUrl, port, dataDir, stop };
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `serverUrl` with its database replaced by `name`. */
export function withDatabase(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  const r = await queryOnce(serverUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (r.rowCount === 0) {
    try {
      await queryOnce(serverUrl, `CREATE DATABASE "${name}"`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
    }
  }
}

/**
 * Creates database `name` on the server `serverUrl` points at (any database on it).
 *
 * @param name lower-case identifier `[a-z_][a-z0-9_]*`, at most 63 characters.
 * @returns the URL of the new database (same credentials).
 * @throws on an invalid name or when the database exists.
 */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  if (!DB_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}: use [a-z_][a-z0-9_]*`);
  await queryOnce(serverUrl, `CREATE DATABASE "${name}"`);
  return withDatabase(serverUrl, name);
}

/** Drops database `name` (terminating its connections); no error when it does not exist. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  if (!DB_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
  await queryOnce(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Deletes a cluster's directory (and the pointer to it when it lived in the fallback directory). */
function removeCluster(dataDir: string, requestedDir: string): void {
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (dataDir !== requestedDir) fs.rmSync(path.join(requestedDir, ELSEWHERE_FILE), { force: true });
}
