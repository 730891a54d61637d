/**
 * A hand-made StatementContext over a real DuckDB connection, to test the stage handler without the
 * core's protocol server. Database "DB" (in memory), schema PUBLIC; queries pass through untranslated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbInstanceOptions } from '../src/paths.js';
import type { RowTypeColumn, SnowflakeWireType, StatementContext, StatementOutcome } from '../src/contract.js';
import { MACRO_SQL } from '../src/sql/macros.js';
import { handleStageStatement, transferResponseData, type TransferOutcome } from '../src/stages.js';

export interface Harness {
  ctx: StatementContext;
  conn: DuckDBConnection;
  dataDir: string;
  touched: string[];
  /** Run a statement through the handler; throws if it is not a stage statement. */
  run(sql: string): Promise<StatementOutcome>;
  /** Run a statement expected to return rows; returns them as objects keyed by column name. */
  rows(sql: string): Promise<Record<string, string | null>[]>;
  /** Run PUT/GET through snowflake-sdk's own file transfer agent (what the driver does with the response). */
  transfer(sql: string): Promise<(string | number | null)[][]>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

function wireType(duckType: string): SnowflakeWireType {
  if (/^(DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/.test(duckType)) return 'fixed';
  if (/^(DOUBLE|FLOAT|REAL)/.test(duckType)) return 'real';
  if (duckType === 'BOOLEAN') return 'boolean';
  if (duckType === 'DATE') return 'date';
  if (duckType.startsWith('TIME WITH') || duckType === 'TIME') return 'time';
  if (duckType === 'TIMESTAMP WITH TIME ZONE') return 'timestamp_ltz';
  if (duckType.startsWith('STRUCT(utc ')) return 'timestamp_tz';
  if (duckType.startsWith('TIMESTAMP')) return 'timestamp_ntz';
  if (duckType === 'BLOB') return 'binary';
  return 'text';
}

/** Split `a.b."C d"` into parts, folding unquoted parts to upper case. */
function nameParts(name: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."\s]+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < name.length && (m = re.exec(name))) {
    parts.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2].toUpperCase());
  }
  return parts;
}

const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;

export async function createHarness(sessionId = 'session-1', dataDir?: string): Promise<Harness> {
  const instance = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const conn = await instance.connect();
  await conn.run(`ATTACH ':memory:' AS "DB"`);
  await conn.run(`CREATE SCHEMA "DB"."PUBLIC"`);
  await conn.run(`USE "DB"."PUBLIC"`);
  for (const macro of MACRO_SQL) await conn.run(macro);
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'floe-stages-'));
  const touched: string[] = [];
  const ctx: StatementContext = {
    session: { id: sessionId, database: 'DB', schema: 'PUBLIC', conn },
    dataDir: dir,
    translateQuery: async (sql) => sql,
    async describe(sql): Promise<RowTypeColumn[]> {
      const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM (${sql}) AS __d`);
      return r.getRows().map((row) => {
        const type = String(row[1]);
        const dec = /^DECIMAL\((\d+),(\d+)\)/.exec(type);
        return {
          name: String(row[0]).toUpperCase(),
          type: wireType(type),
          precision: dec ? Number(dec[1]) : null,
          scale: dec ? Number(dec[2]) : null,
          length: null,
          byteLength: null,
          nullable: true,
        };
      });
    },
    resolveName(name) {
      const parts = nameParts(name);
      const [database, schema, n] =
        parts.length === 3 ? parts : parts.length === 2 ? ['DB', ...parts] : ['DB', 'PUBLIC', parts[0]];
      return { database, schema, name: n, duckdbName: `${q(database)}.${q(schema)}.${q(n)}` };
    },
    async touchTable(db, schema, table) {
      touched.push(`${db}.${schema}.${table}`);
    },
  };
  const run = async (sql: string): Promise<StatementOutcome> => {
    const out = await handleStageStatement(sql, ctx);
    if (!out) throw new Error(`not a stage statement: ${sql}`);
    return out;
  };
  const require = createRequire(import.meta.url);
  const FileTransferAgent = require('snowflake-sdk/dist/lib/file_transfer_agent/file_transfer_agent.js');
  return {
    ctx,
    conn,
    dataDir: dir,
    touched,
    run,
    async rows(sql) {
      const out = await run(sql);
      if (out.kind !== 'rows') throw new Error(`expected rows from ${sql}`);
      return out.rows.map((r) => Object.fromEntries(out.columns.map((c, i) => [c.name, r[i]])));
    },
    async transfer(sql) {
      const out = await run(sql);
      if (out.kind !== 'transfer') throw new Error(`expected a transfer from ${sql}`);
      const agent = new FileTransferAgent({
        fileMetadata: { data: transferResponseData(out as TransferOutcome) },
        sqlText: sql,
        connectionConfig: {},
      });
      await agent.execute();
      return agent.result().rowset;
    },
    async query(sql) {
      return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
