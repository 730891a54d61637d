/**
 * `npm run bench -- peers [--tables ORDERS,LINEITEM] [--rows N] [--scale 1] [--dlt-backend pyarrow]`: floe next
 * to the tools a user would pick instead of it, on the same emulator, the same data and in the same run.
 *
 * The peers are installed into the project's own environment from PyPI (bench/peers/install.ts): Sling (its
 * Linux binary from the `sling-linux-amd64` wheel) and dlt (its `sql_database` source over snowflake-sqlalchemy,
 * DuckDB destination). The emulator runs as a child process seeded with TPC-H at `--scale` (its own persistent
 * data directory `.floe/state/bench-peers-emulator`, seeded on the first run). Each of SNOWFLAKE_SAMPLE_DATA.
 * TPCH_SF<scale>.ORDERS and LINEITEM (or, with `--rows N`, a copy of its first N rows in BENCH.S) is moved
 * Snowflake → a fresh DuckDB file by each tool, each run a real subprocess measured the same way
 * (bench/peers/measure.ts: wall time, peak RSS of its process tree):
 * - Sling: `sling run` from a SNOWFLAKE connection URL (host, port, `protocol=http`, `use_bulk=false`: its bulk
 *   export unloads to an internal stage and GETs the files, and gosnowflake downloads nothing from the
 *   emulator's LOCAL_FS stage, emulator/README.md "Clients") into a DuckDB connection;
 * - dlt: bench/peers/dlt_load.py, `sql_table` per table with the `--dlt-backend` (default `pyarrow`; dlt's
 *   default `sqlalchemy` backend yields Python dicts and was about 3.5× slower here);
 * - floe: bench/peers/floe-load.ts, the table sync activity as a full refresh, stage then stream.
 * Each tool's table is then compared with floe's stage target cell by cell (bench/peers/compare.ts). One table
 * is printed (tool, table, rows, seconds, rows/s, peak RSS, match); a peer that cannot run is reported with its
 * error. Headline: floe stage seconds (all tables); floor: the fastest peer whose tables all matched floe's;
 * ratio = floe stage seconds ÷ that peer's seconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { projectRoot, stateDir } from '../src/infra/paths.js';
import { tpchSchemaName, TPCH_DATABASE, TPCH_TABLES } from '../emulator/src/tpch.js';
import { BENCH_USER, formatTable, peakRssMiB, ratioOf, round3, startBenchEmulator } from './common.js';
import type { BenchResult } from './common.js';
import { compareWithFloe, matches, type Comparison, type FileTable } from './peers/compare.js';
import { ensurePeers, type PeerInstall } from './peers/install.js';
import { runMeasured, type Measured } from './peers/measure.js';

/** A source table: Snowflake database, schema, table. */
type Source = { database: string; schema: string; table: string };

/** One tool: how to run it for a table into a DuckDB file, and where it puts the table. */
interface Tool {
  name: string;
  /** Figure-name prefix, e.g. `sling` → `slingSeconds`. */
  key: string;
  peer: boolean;
  command(source: Source, file: string): { cmd: string; args: string[]; env?: Record<string, string> };
  /** The table written, from the run's stdout. */
  target(source: Source, stdout: string): { schema: string; table: string };
}

/** One tool's run for one table, with its comparison with floe's stage target. */
interface Run extends Measured {
  tool: Tool;
  source: Source;
  file: string;
  comparison?: Comparison;
}

function tools(url: string, install: PeerInstall | Error, work: string, dltBackend: string): Tool[] {
  const port = new URL(url).port;
  // A peer whose install failed is reported with the install's error, for every table.
  const installed = (): PeerInstall => {
    if (install instanceof Error) throw install;
    return install;
  };
  const floe = (method: 'stage' | 'stream'): Tool => ({
    name: `floe ${method}`,
    key: `floe${method[0].toUpperCase()}${method.slice(1)}`,
    peer: false,
    command: (s, file) => ({
      cmd: process.execPath,
      args: [
        '--import',
        'tsx',
        'bench/peers/floe-load.ts',
        method,
        url,
        `${s.database}.${s.schema}.${s.table}`,
        file,
        work,
      ],
    }),
    target: (_s, stdout) => JSON.parse(stdout.trim().split('\n').pop()!) as { schema: string; table: string },
  });
  return [
    {
      name: 'Sling',
      key: 'sling',
      peer: true,
      command: (s, file) => {
        const i = installed();
        return {
          cmd: i.sling,
          args: [
            'run',
            ...['--src-conn', 'SF', '--src-stream', `${s.schema}.${s.table}`],
            ...['--tgt-conn', 'DUCK', '--tgt-object', `main.${s.table.toLowerCase()}`],
          ],
          env: {
            HOME: i.home,
            SLING_HOME_DIR: path.join(i.home, '.sling'),
            SLING_DISABLE_TELEMETRY: 'true',
            DUCKDB_PATH: i.duckdb,
            SF: `snowflake://${BENCH_USER.name}:${BENCH_USER.password}@127.0.0.1:${port}/${s.database}?account=floe&protocol=http&use_bulk=false`,
            DUCK: `duckdb://${file}`,
          },
        };
      },
      target: (s) => ({ schema: 'main', table: s.table.toLowerCase() }),
    },
    {
      name: `dlt (${dltBackend})`,
      key: 'dlt',
      peer: true,
      command: (s, file) => {
        const i = installed();
        return {
          cmd: i.python,
          args: [path.join(projectRoot, 'bench/peers/dlt_load.py'), dltBackend, file, s.table],
          env: {
            FLOE_PEER_SF_HOST: '127.0.0.1',
            FLOE_PEER_SF_PORT: port,
            FLOE_PEER_SF_ACCOUNT: 'floe',
            FLOE_PEER_SF_USER: BENCH_USER.name,
            FLOE_PEER_SF_PASSWORD: BENCH_USER.password,
            FLOE_PEER_SF_DATABASE: s.database,
            FLOE_PEER_SF_SCHEMA: s.schema,
            FLOE_PEER_DLT_DIR: path.join(work, 'dlt-pipelines'),
          },
        };
      },
      target: (s) => ({ schema: 'peer', table: s.table.toLowerCase() }),
    },
    floe('stage'),
    floe('stream'),
  ];
}

/** Runs `tool` for `source` into `file`, measured; a tool that cannot even start is reported with its error. */
async function runTool(tool: Tool, source: Source, file: string): Promise<Run> {
  let c: ReturnType<Tool['command']>;
  try {
    c = tool.command(source, file);
  } catch (e) {
    return { tool, source, file, seconds: NaN, peakRssMiB: NaN, stdout: '', error: (e as Error).message };
  }
  const m = await runMeasured(c.cmd, c.args, c.env);
  return { ...m, tool, source, file };
}

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      tables: { type: 'string' },
      rows: { type: 'string' },
      scale: { type: 'string' },
      'dlt-backend': { type: 'string' },
    },
  });
  const tables = (values.tables ?? 'ORDERS,LINEITEM').split(',').map((t) => t.trim().toUpperCase());
  const unknown = tables.filter((t) => !(t in TPCH_TABLES));
  if (unknown.length) throw new Error(`--tables: not TPC-H tables: ${unknown.join(', ')}`);
  const limit = values.rows === undefined ? null : Number(values.rows);
  if (limit !== null && !(Number.isInteger(limit) && limit > 0)) throw new Error('--rows: a positive integer');
  const scale = Number(values.scale ?? 1);
  const work = path.join(stateDir, 'bench-peers');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });

  let install: PeerInstall | Error;
  try {
    install = ensurePeers();
  } catch (e) {
    install = e as Error;
    console.log(`peers not installed: ${install.message}`);
  }
  const emulator = await startBenchEmulator(path.join(stateDir, 'bench-peers-emulator'), scale);
  console.log(`emulator up in ${emulator.seedSeconds.toFixed(2)} s (TPC-H SF${scale})`);
  const { url } = emulator;
  try {
    const sf = await connectSnowflake(emulator.settings);
    const sources: Source[] = [];
    try {
      await sf.query('CREATE DATABASE IF NOT EXISTS BENCH');
      await sf.query('CREATE SCHEMA IF NOT EXISTS BENCH.S');
      for (const table of tables) {
        const full = { database: TPCH_DATABASE, schema: tpchSchemaName(scale), table };
        if (limit === null) sources.push(full);
        else {
          await sf.query(
            `CREATE OR REPLACE TABLE BENCH.S.${table} AS SELECT * FROM ${full.database}.${full.schema}.${table} LIMIT ${limit}`,
          );
          sources.push({ database: 'BENCH', schema: 'S', table });
        }
      }
    } finally {
      await sf.close();
    }

    const runs: Run[] = [];
    for (const tool of tools(url, install, work, values['dlt-backend'] ?? 'pyarrow')) {
      const file = path.join(work, `${tool.key}.duckdb`);
      for (const source of sources) {
        const r = await runTool(tool, source, file);
        console.log(
          `${tool.name} ${source.table}: ${r.error ? `FAILED ${r.error.split('\n')[0]}` : `${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMiB} MiB`}`,
        );
        runs.push(r);
      }
    }
    await compareRuns(runs);
    printRuns(runs);
    const result = summarize(runs, tables, limit, scale);
    result.figures.emulatorPeakRssMiB = peakRssMiB(emulator.child.pid!);
    return result;
  } finally {
    await emulator.stop();
  }
}

/** Compares every successful run's table with floe stage's target of the same source. */
async function compareRuns(runs: Run[]): Promise<void> {
  const ok = runs.filter((r) => !r.error);
  for (const floe of ok.filter((r) => r.tool.key === 'floeStage')) {
    const floeTable: FileTable = { file: floe.file, ...floe.tool.target(floe.source, floe.stdout) };
    const others = ok.filter((r) => r.source.table === floe.source.table);
    try {
      const found = await compareWithFloe(
        floeTable,
        others.map((r) => ({ file: r.file, ...r.tool.target(r.source, r.stdout) })),
      );
      others.forEach((r, k) => (r.comparison = found[k]));
    } catch (e) {
      for (const r of others) r.error = `comparison failed: ${(e as Error).message}`;
    }
  }
}

function printRuns(runs: Run[]): void {
  const head = ['tool', 'table', 'rows', 'seconds', 'rows/s', 'peak RSS MiB', "matches floe's target"];
  const rows = runs.map((r) => {
    const c = r.comparison;
    const rowsPerSecond = c ? c.rows / r.seconds : NaN;
    const match = r.error
      ? `FAILED: ${r.error.split('\n')[0].slice(0, 160)}`
      : !c
        ? '—'
        : matches(c)
          ? 'yes'
          : `no: ${fmtInt(c.onlyInFloe)} of floe's rows missing, ${fmtInt(c.onlyInPeer)} rows not in floe's`;
    return [
      r.tool.name,
      r.source.table,
      fmtInt(c?.rows ?? NaN),
      r.error ? '—' : r.seconds.toFixed(2),
      fmtInt(rowsPerSecond),
      fmtInt(r.peakRssMiB),
      match,
    ];
  });
  console.log(`\n${formatTable(head, rows)}`);
  for (const r of runs.filter((x) => x.error)) console.log(`\n${r.tool.name} ${r.source.table} error:\n${r.error}`);
}

/** Totals per tool (over every table, only when all its runs succeeded), floor and ratio. */
function summarize(runs: Run[], tables: string[], limit: number | null, scale: number): BenchResult {
  const figures: Record<string, number> = {};
  const totals = new Map<string, { name: string; seconds: number; matched: boolean; peer: boolean }>();
  for (const key of new Set(runs.map((r) => r.tool.key))) {
    const rs = runs.filter((r) => r.tool.key === key);
    if (rs.some((r) => r.error || !r.comparison)) continue;
    const seconds = rs.reduce((a, r) => a + r.seconds, 0);
    const rows = rs.reduce((a, r) => a + r.comparison!.rows, 0);
    const matched = rs.every((r) => matches(r.comparison!));
    totals.set(key, { name: rs[0].tool.name, seconds, matched, peer: rs[0].tool.peer });
    figures[`${key}Seconds`] = round3(seconds);
    figures[`${key}RowsPerSecond`] = Math.round(rows / seconds);
    figures[`${key}PeakRssMiB`] = Math.max(...rs.map((r) => r.peakRssMiB));
    figures[`${key}Matches`] = matched ? 1 : 0;
  }
  const stage = totals.get('floeStage');
  const floor = [...totals.entries()]
    .filter(([, t]) => t.peer && t.matched)
    .sort((a, b) => a[1].seconds - b[1].seconds)[0];
  const what = `${tables.join(' + ')} (${limit === null ? `TPC-H SF${scale}` : `first ${fmtInt(limit)} rows of SF${scale}`})`;
  const headline = stage
    ? `floe stage ${what} ${stage.seconds.toFixed(2)} s (${fmtInt(figures.floeStageRowsPerSecond)} rows/s)${floor ? `; fastest matching peer ${floor[1].name} ${floor[1].seconds.toFixed(2)} s` : '; no peer matched'}`
    : `floe stage failed on ${what}`;
  return {
    bench: 'peers',
    headline,
    target: '< 1 (floe faster than the fastest peer)',
    figures: { ...(stage ? { floeStageSeconds: figures.floeStageSeconds } : {}), ...figures },
    floor: floor ? { [`${floor[0]}Seconds`]: round3(floor[1].seconds) } : {},
    ratio: stage && floor ? ratioOf(stage.seconds, floor[1].seconds) : null,
  };
}
