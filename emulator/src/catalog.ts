/**
 * The emulator's storage: one DuckDB instance (ICU is built in; it runs with TimeZone = 'UTC',
 * the emulator's TIMEZONE parameter); each Snowflake database is a DuckDB file
 * `<dataDir>/databases/<DB>.duckdb` ATTACHed under its Snowflake name (schemas = DuckDB schemas);
 * in the file name `%`, `/`, `\` and NUL are written `%XX`, so a quoted name such as `"../../x"`
 * cannot place the file outside that directory.
 *
 * The instance is sandboxed before any session connects ({@link Catalog.open}): DuckDB's
 * `enable_external_access = false` with `allowed_directories` = the data directory, so no
 * statement, internal or not, reads or writes a file outside it, opens a network connection or
 * installs/loads an extension; no automatic extension install/load; and `lock_configuration = true`,
 * so nothing can switch these back (DuckDB documents both switches as one-way for a running
 * instance). See emulator/README.md, "Sandbox".
 *
 * What DuckDB does not keep is kept in a sidecar catalog, `<dataDir>/catalog.json`:
 * per table its CREATED and LAST_ALTERED instants (Snowflake moves LAST_ALTERED on every committed
 * DDL and DML, zero-row DML included) and the declared Snowflake type of each column when DuckDB's
 * type does not say it (VARCHAR(n), OBJECT, ARRAY, NUMBER(p,0) stored as DECIMAL...).
 *
 * Every change to a table or view reaches the catalog through the methods below, which also keep the
 * {@link RelationIndex} (relations.ts) current: which relations exist, answered without a catalog scan.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbInstanceOptions } from './paths.js';
import { SfErrors } from './errors.js';
import { MACRO_SQL } from './sql/macros.js';
import { RelationIndex } from './relations.js';
import { quoteIdent, quoteString } from './sql/tokenizer.js';

/** Sidecar facts of one table. */
export interface TableMeta {
  /** ISO instants. */
  created: string;
  lastAltered: string;
  /** Declared Snowflake types by column name (canonical spelling, e.g. `VARCHAR(100)`). */
  columns: Record<string, string>;
  /** TEMPORARY tables: the owning session id (dropped when it ends). */
  session?: string;
  kind?: 'TABLE' | 'TEMPORARY';
}

interface SidecarFile {
  databases: Record<string, { created: string }>;
  tables: Record<string, TableMeta>;
}

/** Idle query connections kept for reuse at most ({@link Catalog.giveBack}). */
const IDLE_CONNECTIONS = 8;

const key = (db: string, schema: string, table: string) => `${db}\u0000${schema}\u0000${table}`;

/** Schemas DuckDB creates that Snowflake does not show. */
export const HIDDEN_SCHEMAS = new Set(['main', 'information_schema', 'pg_catalog']);

export class Catalog {
  private sidecar: SidecarFile = { databases: {}, tables: {} };
  private saveTimer: NodeJS.Timeout | null = null;
  private lastSaveMs = 0;
  /** Idle query connections ({@link borrow}), macros created, current database reset. */
  private readonly idle: DuckDBConnection[] = [];
  /** The relations of the attached databases (existence, TIMESTAMP_TZ columns). */
  readonly relations: RelationIndex;

  private constructor(
    readonly instance: DuckDBInstance,
    readonly dataDir: string,
    private readonly admin: DuckDBConnection,
  ) {
    this.relations = new RelationIndex(() => instance.connect());
  }

  /**
   * Opens (or creates) the data directory, ATTACHes every database file found in it, runs
   * `prepare` (e.g. TPC-H seeding, which loads the tpch extension) and then sandboxes the instance
   * ({@link Catalog.lockDown}) before returning, so every connection handed out afterwards is locked.
   */
  static async open(dataDir: string, prepare?: (catalog: Catalog) => Promise<void>): Promise<Catalog> {
    const dbDir = path.join(dataDir, 'databases');
    fs.mkdirSync(dbDir, { recursive: true });
    fs.mkdirSync(path.join(dataDir, 'stages'), { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
    const admin = await instance.connect();
    const cat = new Catalog(instance, dataDir, admin);
    const file = path.join(dataDir, 'catalog.json');
    if (fs.existsSync(file)) cat.sidecar = JSON.parse(fs.readFileSync(file, 'utf8')) as SidecarFile;
    for (const f of fs.readdirSync(dbDir)) {
      if (!f.endsWith('.duckdb')) continue;
      const name = f
        .slice(0, -'.duckdb'.length)
        .replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      await admin.run(`ATTACH ${quoteString(path.join(dbDir, f))} AS ${quoteIdent(name)}`);
      cat.sidecar.databases[name] ??= { created: new Date().toISOString() };
    }
    // TEMPORARY tables of sessions that ended with the previous process.
    for (const [k, meta] of Object.entries(cat.sidecar.tables)) {
      if (!meta.session) continue;
      const [db, schema, table] = k.split('\u0000');
      await admin
        .run(`DROP TABLE IF EXISTS ${quoteIdent(db)}.${quoteIdent(schema)}.${quoteIdent(table)}`)
        .catch(() => undefined);
      delete cat.sidecar.tables[k];
    }
    if (prepare) await prepare(cat);
    await cat.lockDown();
    return cat;
  }

  /**
   * UTC for every connection, then DuckDB's own sandbox, instance-wide: files only under the data directory (databases, stages,
   * unload scratch space, DuckDB's spill files in `tmp/`), no network, no extension install or
   * load (json, parquet and icu are built in; tpch, if seeding needed it, is loaded already), and
   * the configuration locked (DuckDB refuses any later SET, from any connection).
   */
  private async lockDown(): Promise<void> {
    const root = path.resolve(this.dataDir);
    const allowed = root.endsWith(path.sep) ? root : root + path.sep;
    for (const sql of [
      `SET GLOBAL TimeZone = 'UTC'`,
      `SET temp_directory = ${quoteString(path.join(root, 'tmp'))}`,
      `SET allowed_directories = [${quoteString(allowed)}]`,
      `SET enable_external_access = false`,
      `SET autoinstall_known_extensions = false`,
      `SET autoload_known_extensions = false`,
      `SET lock_configuration = true`,
    ])
      await this.admin.run(sql);
  }

  /** A new connection with the emulator's macros (the instance runs in UTC). */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    for (const sql of MACRO_SQL) await conn.run(sql);
    return conn;
  }

  /**
   * A connection for one query (the server's dedicated query connections): an idle one given back
   * earlier, else a new one. A new connection creates every macro of sql/macros.ts: with a new
   * connection per query that was ~65 ms of wall time per execution upload (five statements, one
   * query) on a loaded 2-core machine.
   */
  async borrow(): Promise<DuckDBConnection> {
    return this.idle.pop() ?? this.connect();
  }

  /**
   * Gives back a borrowed connection whose statements all ended (no transaction open, nothing
   * streaming). Its current database is reset first: a connection left with a current database (USE)
   * keeps that database's file open, so a later DROP or CREATE OR REPLACE DATABASE could not reuse it.
   * Closed instead when the reset fails or {@link IDLE_CONNECTIONS} are idle already.
   */
  async giveBack(conn: DuckDBConnection): Promise<void> {
    try {
      await conn.run('USE memory');
    } catch {
      conn.closeSync();
      return;
    }
    if (this.idle.length < IDLE_CONNECTIONS) this.idle.push(conn);
    else conn.closeSync();
  }

  databaseNames(): string[] {
    return Object.keys(this.sidecar.databases).sort();
  }

  hasDatabase(name: string): boolean {
    return name in this.sidecar.databases;
  }

  databaseCreated(name: string): string {
    return this.sidecar.databases[name]?.created ?? new Date(0).toISOString();
  }

  /** CREATE [OR REPLACE] DATABASE: a new DuckDB file with schema PUBLIC. */
  async createDatabase(name: string, opts: { ifNotExists: boolean; orReplace: boolean }): Promise<boolean> {
    if (this.hasDatabase(name)) {
      if (opts.ifNotExists) return false;
      if (!opts.orReplace) throw SfErrors.alreadyExists(name);
      await this.dropDatabase(name, true);
    }
    const file = this.databaseFile(name);
    await this.admin.run(`ATTACH ${quoteString(file)} AS ${quoteIdent(name)}`);
    await this.admin.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}."PUBLIC"`);
    this.relations.changedAll();
    this.sidecar.databases[name] = { created: new Date().toISOString() };
    this.scheduleSave();
    return true;
  }

  /** DROP DATABASE: DETACH and delete its file (and WAL). */
  async dropDatabase(name: string, ifExists: boolean): Promise<boolean> {
    if (!this.hasDatabase(name)) {
      if (ifExists) return false;
      throw SfErrors.objectDoesNotExist(name);
    }
    await this.admin.run(`DETACH ${quoteIdent(name)}`);
    this.relations.changedAll();
    const file = this.databaseFile(name);
    for (const f of [file, `${file}.wal`]) fs.rmSync(f, { force: true });
    delete this.sidecar.databases[name];
    for (const k of Object.keys(this.sidecar.tables)) if (k.startsWith(`${name}\u0000`)) delete this.sidecar.tables[k];
    this.scheduleSave();
    return true;
  }

  /** `<dataDir>/databases/<name>.duckdb`, with `%`, `/`, `\` and NUL written `%XX` (Catalog.open reads them back). */
  private databaseFile(name: string): string {
    const file = name.replace(/[%/\\\0]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return path.join(this.dataDir, 'databases', `${file}.duckdb`);
  }

  tableMeta(db: string, schema: string, table: string): TableMeta | undefined {
    return this.sidecar.tables[key(db, schema, table)];
  }

  /** Records a table created now (CREATE TABLE, CTAS, CREATE OR REPLACE). */
  tableCreated(db: string, schema: string, table: string, columns: Record<string, string>, session?: string): void {
    const now = new Date().toISOString();
    this.relations.changed(db, schema, table);
    this.sidecar.tables[key(db, schema, table)] = {
      created: now,
      lastAltered: now,
      columns,
      ...(session ? { session, kind: 'TEMPORARY' } : {}),
    };
    this.scheduleSave();
  }

  /**
   * Moves LAST_ALTERED of a table whose rows changed (committed DML, COPY INTO): its columns did not,
   * so the relation index keeps it (re-reading it after every INSERT cost a DESCRIBE per statement).
   */
  touch(db: string, schema: string, table: string): void {
    const k = key(db, schema, table);
    const now = new Date().toISOString();
    this.sidecar.tables[k] ??= { created: now, lastAltered: now, columns: {} };
    this.sidecar.tables[k].lastAltered = now;
    this.scheduleSave();
  }

  /** Moves LAST_ALTERED of a table whose definition changed (ALTER TABLE, a rename): the index reads it again. */
  altered(db: string, schema: string, table: string): void {
    this.relations.changed(db, schema, table);
    this.touch(db, schema, table);
  }

  setColumnType(db: string, schema: string, table: string, column: string, sfType: string | null): void {
    this.relations.changed(db, schema, table);
    const k = key(db, schema, table);
    const now = new Date().toISOString();
    this.sidecar.tables[k] ??= { created: now, lastAltered: now, columns: {} };
    if (sfType === null) delete this.sidecar.tables[k].columns[column];
    else this.sidecar.tables[k].columns[column] = sfType;
    this.scheduleSave();
  }

  renameColumn(db: string, schema: string, table: string, from: string, to: string): void {
    this.relations.changed(db, schema, table);
    const meta = this.tableMeta(db, schema, table);
    if (!meta || !(from in meta.columns)) return;
    meta.columns[to] = meta.columns[from];
    delete meta.columns[from];
    this.scheduleSave();
  }

  renameTable(db: string, schema: string, from: string, toDb: string, toSchema: string, to: string): void {
    this.relations.changed(db, schema, from);
    const meta = this.sidecar.tables[key(db, schema, from)];
    delete this.sidecar.tables[key(db, schema, from)];
    if (meta) this.sidecar.tables[key(toDb, toSchema, to)] = meta;
    this.altered(toDb, toSchema, to);
  }

  /**
   * A table or view dropped. `committed`: its DROP committed, so the relation index forgets it at once
   * (no lookup); false when the DROP may have failed (the index then reads it again).
   */
  tableDropped(db: string, schema: string, table: string, committed: boolean): void {
    if (committed) this.relations.dropped(db, schema, table);
    else this.relations.changed(db, schema, table);
    delete this.sidecar.tables[key(db, schema, table)];
    this.scheduleSave();
  }

  schemaDropped(db: string, schema: string): void {
    this.relations.changedAll();
    for (const k of Object.keys(this.sidecar.tables))
      if (k.startsWith(`${db}\u0000${schema}\u0000`)) delete this.sidecar.tables[k];
    this.scheduleSave();
  }

  /** TEMPORARY tables owned by a session, as [db, schema, table]. */
  sessionTables(sessionId: string): [string, string, string][] {
    return Object.entries(this.sidecar.tables)
      .filter(([, m]) => m.session === sessionId)
      .map(([k]) => k.split('\u0000') as [string, string, string]);
  }

  /**
   * Saves soon: after 50 ms, or 20 times as long as the last save took, so that writing the sidecar (its
   * size grows with the tables: ~4 ms at 5,000) takes at most ~5% of the time, whatever the catalog's size.
   */
  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), Math.max(50, 20 * this.lastSaveMs));
  }

  /** Writes the sidecar atomically (rename over the old file). */
  save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const t0 = performance.now();
    const file = path.join(this.dataDir, 'catalog.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(this.sidecar));
    fs.renameSync(`${file}.tmp`, file);
    this.lastSaveMs = performance.now() - t0;
  }

  /** Saves the sidecar, checkpoints and closes the instance. */
  async close(): Promise<void> {
    this.save();
    for (const conn of this.idle.splice(0)) conn.closeSync();
    for (const db of this.databaseNames()) await this.admin.run(`CHECKPOINT ${quoteIdent(db)}`).catch(() => undefined);
    await this.relations.close();
    this.admin.closeSync();
    this.instance.closeSync();
  }
}
