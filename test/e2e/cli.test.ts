/**
 * The `floe` CLI as a subprocess against the real API: PostgreSQL and Temporal from the run's global
 * setup, the Snowflake emulator, and an in-process table-sync worker. Checks outputs, `--json` shapes and
 * exit codes (a completed sync 0, a failed one 1, refused input 2, no or bad credentials 4), and that
 * `floe login` saves its token in a file only the user can read.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../helpers/api-harness.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { runOnEmulator, startTableSyncStack, type TableSyncStack } from '../helpers/table-sync-stack.js';

const DB = 'CLIDB';

let stack: TableSyncStack;
let h: ApiHarness;
let tmp: string;
/** XDG_CONFIG_HOME of the signed-in user. */
let configHome: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'floe-cli-'));
  configHome = path.join(tmp, 'config');
  stack = await startTableSyncStack({
    setup: [
      `CREATE DATABASE ${DB}`,
      `CREATE SCHEMA ${DB}.S1`,
      `CREATE TABLE ${DB}.S1.ORDERS (ID NUMBER(38,0), NOTE VARCHAR, UPDATED_AT TIMESTAMP_NTZ)`,
      `INSERT INTO ${DB}.S1.ORDERS VALUES (1, 'a, with a comma', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00'), (3, NULL, '2024-01-03 00:00:00')`,
      `CREATE TABLE ${DB}.S1.GONE (ID NUMBER(10,0))`,
    ],
    env: { SNOWFLAKE_DATABASE: DB },
  });
  h = stack.h;
});

afterAll(async () => {
  await stack?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `floe <args>` as the signed-in user (the login saved under `configHome`), API URL from the environment. */
const floe = (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliRun> =>
  runCli(args, {
    env: {
      FLOE_API_URL: h.api.url,
      XDG_CONFIG_HOME: configHome,
      FLOE_TOKEN: undefined,
      FLOE_PASSWORD: undefined,
      ...env,
    },
    input,
  });

/** `floe --json <args>`: the exit code and stdout parsed as JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON under test, read field by field
async function floeJson(args: string[]): Promise<{ code: number | null; json: any; stderr: string }> {
  const r = await floe(['--json', ...args]);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`floe ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

describe('floe login', () => {
  it('refuses a wrong password with exit code 4 and saves nothing', async () => {
    const r = await floe(['login', '--password-stdin'], {}, 'not-the-password\n');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/^floe: /);
    expect(() => statSync(path.join(configHome, 'floe', 'cli.json'))).toThrow();
  });

  it('saves the URL and token in a file of mode 0600 and never prints the token', async () => {
    const r = await floe(['login', '--json', '--password-stdin'], {}, `${h.config.api.adminPassword}\n`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const file = path.join(configHome, 'floe', 'cli.json');
    expect(out).toMatchObject({ url: h.api.url, username: 'admin', config_file: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.url).toBe(h.api.url);
    expect(saved.token.length).toBeGreaterThan(20);
    expect(r.stdout + r.stderr).not.toContain(saved.token);
  });

  it('tightens an existing login file to 0600', async () => {
    const home = path.join(tmp, 'loose');
    const file = path.join(home, 'floe', 'cli.json');
    await floe(['login', '--password-stdin'], { XDG_CONFIG_HOME: home }, h.config.api.adminPassword);
    chmodSync(file, 0o644);
    const r = await floe(['login', '--password-stdin'], { XDG_CONFIG_HOME: home }, h.config.api.adminPassword);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('without a token a command exits 4 and says to sign in', async () => {
    const r = await floe(['jobs'], { XDG_CONFIG_HOME: path.join(tmp, 'nobody') });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('floe login');
  });
});

describe('tables, sync and jobs', () => {
  let jobId: string;

  it('lists the tables of a schema (text and --json)', async () => {
    const text = await floe(['tables', 'list', `${DB}.S1`]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^name\s+kind\s+rows/m);
    expect(text.stdout).toMatch(/^ORDERS\s/m);
    const { code, json } = await floeJson(['tables', 'list', 's1']);
    expect(code).toBe(0);
    expect(json).toMatchObject({ database: DB, schema: 'S1' });
    expect(json.tables.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['ORDERS', 'GONE']));
  });

  it('registers a table with its keys', async () => {
    const { code, json } = await floeJson([
      'tables',
      'register',
      `${DB}.S1.ORDERS`,
      '--primary-key',
      'ID',
      '--watermark',
      'UPDATED_AT',
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      created: true,
      table_name: 'ORDERS',
      primary_key: ['ID'],
      watermark_column: 'UPDATED_AT',
    });
  });

  it('sync --wait follows the job to the end and exits 0 with the verified counts', async () => {
    const r = await floe(['sync', `${DB}.S1.ORDERS`, '--full', '--method', 'stream', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    jobId = /job_id:\s+(\S+)/.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(/status:\s+completed/);
    expect(r.stdout).toMatch(/stats:.*rowsInTarget=3/);
    // Not a terminal: one progress line per status/phase change, naming the job.
    expect(r.stderr).toContain(`${jobId}: `);
  });

  it('sync --wait on a terminal redraws one progress line in place', async () => {
    const r = await runCli(['sync', `${DB}.S1.ORDERS`, '--full', '--wait'], {
      env: { FLOE_API_URL: h.api.url, XDG_CONFIG_HOME: configHome, FLOE_TOKEN: undefined },
      tty: true,
    });
    expect(r.code, r.stdout).toBe(0);
    // Each poll rewrites the line: carriage return, the line, erase to its end (ESC [ K).
    const redraws = r.stdout.split('\r').filter((l) => l.endsWith('\u001b[K'));
    expect(redraws.length).toBeGreaterThan(0);
    expect(redraws.at(-1)).toMatch(/^(completed {2}[\d,]+ rows|\[#+\] 100% {2}[\d,]+ \/ [\d,]+ rows)/);
    expect(r.stdout).toMatch(/status:\s+completed/);
  });

  it('sync --wait --json prints the finished job', async () => {
    const { code, json } = await floeJson(['sync', 'S1.ORDERS', '--incremental', '--wait']);
    expect(code).toBe(0);
    expect(json).toMatchObject({ status: 'completed', strategy: 'incremental', table: `${DB}.S1.ORDERS` });
    expect(json.stats.rowsInTarget).toBe(3);
  });

  it('jobs lists them; job shows one and exits by its outcome', async () => {
    const { code, json } = await floeJson(['jobs', '--table', `${DB}.S1.ORDERS`, '--status', 'completed']);
    expect(code).toBe(0);
    expect(json.count).toBe(3);
    expect(json.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jobId);
    const text = await floe(['jobs', '--limit', '1']);
    expect(text.stdout).toMatch(/^job_id\s+status\s+table/m);
    expect(text.stdout).toContain('(1 row)');
    const one = await floe(['job', jobId]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/table:\s+CLIDB\.S1\.ORDERS/);
  });

  it('a failed sync exits 1 and names the table and the cause; so does floe job', async () => {
    expect((await floe(['tables', 'register', `${DB}.S1.GONE`])).code).toBe(0);
    await runOnEmulator(stack.emulator, [`DROP TABLE ${DB}.S1.GONE`]);
    const { code, json } = await floeJson(['sync', `${DB}.S1.GONE`, '--wait']);
    expect(code).toBe(1);
    expect(json.status).toBe('failed');
    expect(json.error).toContain('GONE');
    const again = await floe(['job', json.job_id]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/error:.*GONE.*\(TableNotFound\)/);
  });

  it('refused input exits 2 with the API’s message; cancelling a finished job exits 1', async () => {
    const unregistered = await floe(['sync', `${DB}.S1.NOPE`]);
    expect(unregistered.code).toBe(2);
    expect(unregistered.stderr).toContain('not registered');
    const badName = await floe(['sync', 'ORDERS']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('DATABASE.SCHEMA.TABLE');
    const cancel = await floe(['cancel', jobId]);
    expect(cancel.code).toBe(1);
  });
});

describe('schedules', () => {
  it('creates, lists and deletes a schedule', async () => {
    const created = await floeJson(['schedules', 'create', `${DB}.S1.ORDERS`, '--incremental', '--every', '1h']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ interval_seconds: 3600, strategy: 'incremental' });
    const list = await floeJson(['schedules', 'list']);
    expect(list.json.schedules.map((s: { schedule_id: string }) => s.schedule_id)).toContain(created.json.schedule_id);
    const del = await floe(['schedules', 'delete', created.json.schedule_id]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain(`deleted schedule ${created.json.schedule_id}`);
  });
});

describe('query, watermark-sync and execution-upload', () => {
  it('query passes through to Snowflake and prints a table, CSV or JSON', async () => {
    const src = await floe(['cache', 'sources', 'add', 'emu', '--credentials', 'default', '--passthrough']);
    expect(src.code, src.stderr).toBe(0);
    const sql = `SELECT ID, NOTE FROM ${DB}.S1.ORDERS ORDER BY ID`;
    const csv = await floe(['query', sql, '--source', 'emu', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe('ID,NOTE\r\n1,"a, with a comma"\r\n2,b\r\n3,\r\n');
    const table = await floe(['query', sql, '--source', 'emu']);
    expect(table.stdout).toMatch(/^ID\s+NOTE\n/);
    expect(table.stderr).toContain('route: passthrough');
    const { json } = await floeJson(['query', sql, '--source', 'emu']);
    expect(json).toMatchObject({ route: 'passthrough', columns: ['ID', 'NOTE'] });
    expect(json.rows).toHaveLength(3);
  });

  it('watermark-sync status answers for a configuration never applied; a bad configuration file exits 2', async () => {
    const { code, json } = await floeJson(['watermark-sync', 'status']);
    expect(code).toBe(0);
    expect(json).toMatchObject({ name: 'default', schedule: null });
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, 'tables: 42\n');
    const bad = await floe(['watermark-sync', 'apply', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^floe: /);
  });

  it('execution-upload stats and failed (also by its alias uploads) answer with the queue counts', async () => {
    const stats = await floeJson(['execution-upload', 'stats']);
    expect(stats.code).toBe(0);
    expect(stats.json.pending.count).toBe(0);
    const failed = await floeJson(['uploads', 'failed', '--limit', '5']);
    expect(failed.json).toMatchObject({ count: 0, failed: [] });
    const retry = await floe(['execution-upload', 'retry', '00000000-0000-4000-8000-000000000000']);
    expect(retry.code).toBe(2);
  });
});

describe('usage errors', () => {
  it('an unknown command or a bad option value exits 2', async () => {
    expect((await floe(['frobnicate'])).code).toBe(2);
    const r = await floe(['jobs', '--limit', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--limit');
  });
});
