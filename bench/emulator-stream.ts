/**
 * Large-result throughput of the emulator through the real driver (not part of the test suite).
 *
 *   npx tsx bench/emulator-stream.ts [rows=6000000] ["<sql>"]
 *
 * Starts the emulator as a child process (`emulator/src/main.ts`, fresh data dir), streams the
 * query with `statement.streamRows()` and prints rows/s and the emulator's peak RSS (VmHWM).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../src/connectors/snowflake-env.js'; // before snowflake-sdk: no cloud-metadata probing at load
import snowflake from 'snowflake-sdk';
import { projectRoot } from '../src/infra/paths.js';
import { BENCH_USER } from './common.js';

snowflake.configure({ logLevel: 'ERROR' });
const rows = Number(process.argv[2] ?? 6_000_000);
const sql = process.argv[3] ?? `SELECT range AS id, range * 2 AS twice FROM range(${rows})`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(
  'npx',
  [
    'tsx',
    process.env.EMU_MAIN ?? 'emulator/src/main.ts',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--user',
    BENCH_USER.name,
    '--password',
    BENCH_USER.password,
  ],
  { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise<void>((resolve) =>
  child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()),
);
// The emulator is the node process listening on the port (npx → tsx → node).
const pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
const emuPid = pids.find((p) => {
  try {
    const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
    return (
      cmd.includes(process.env.EMU_MAIN ?? 'emulator/src/main.ts') &&
      cmd.includes(String(port)) &&
      cmd.includes('loader.mjs')
    );
  } catch {
    return false;
  }
});
console.error(
  `emulator pid ${emuPid}: ${fs.readFileSync(`/proc/${emuPid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160)}`,
);
const hwm = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${emuPid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
/** CPU seconds (user + system) the emulator process has used. */
const cpu = () => {
  const f = fs.readFileSync(`/proc/${emuPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const conn = snowflake.createConnection({
  account: 'floe',
  username: BENCH_USER.name,
  password: BENCH_USER.password,
  accessUrl: `http://127.0.0.1:${port}`,
});
await conn.connectAsync(() => undefined);
const rssBefore = hwm();
const cpuBefore = cpu();
const t0 = Date.now();
let first = 0;
let n = 0;
await new Promise<void>((resolve, reject) => {
  const stmt = conn.execute({ sqlText: sql, streamResult: true, fetchAsString: ['Number'] });
  stmt
    .streamRows()
    .on('data', () => {
      if (n++ === 0) first = Date.now() - t0;
    })
    .on('error', reject)
    .on('end', () => resolve());
});
const secs = (Date.now() - t0) / 1000;
console.log(
  JSON.stringify({
    sql,
    rows: n,
    seconds: secs,
    rowsPerSecond: Math.round(n / secs),
    firstRowMs: first,
    emulatorPeakRssMB: Math.round(hwm()),
    emulatorCpuSeconds: Math.round((cpu() - cpuBefore) * 10) / 10,
    emulatorRssAfterLoginMB: Math.round(rssBefore),
  }),
);
await new Promise<void>((r) => conn.destroy(() => r()));
process.kill(Number(emuPid), 'SIGTERM');
await new Promise((r) => child.on('exit', r));
fs.rmSync(dataDir, { recursive: true, force: true });
