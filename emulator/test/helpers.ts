/**
 * Test helpers: an emulator per suite and snowflake-sdk connections to it. Tests talk to the
 * emulator only through the real driver.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import snowflake from 'snowflake-sdk';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../src/index.js';

snowflake.configure({ logLevel: 'ERROR' });

/** The user {@link startTestEmulator} creates and {@link connect} signs in as. */
export const TEST_USER = { name: 'u', password: 'p' } as const;

export interface TestEmulator extends RunningEmulator {
  dataDir: string;
}

/**
 * Starts an emulator on an ephemeral port with a fresh temporary data directory (or `dataDir`),
 * with {@link TEST_USER} as its user unless `opts.user` names another.
 */
export async function startTestEmulator(opts: Partial<EmulatorOptions> = {}): Promise<TestEmulator> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'floe-emu-'));
  const emu = await startEmulator({ port: 0, user: TEST_USER, ...opts, dataDir });
  return { ...emu, dataDir };
}

export type Conn = snowflake.Connection;

/** Opens a driver connection (database/schema optional, as in the login request); rejects with the driver's login error. */
export async function connect(emu: RunningEmulator, extra: Partial<snowflake.ConnectionOptions> = {}): Promise<Conn> {
  const conn = snowflake.createConnection({
    account: 'floe',
    username: TEST_USER.name,
    password: TEST_USER.password,
    accessUrl: emu.url,
    ...extra,
  });
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return conn;
}

/** Runs one statement and returns its rows (numbers as strings when `fetchAsString` asks). */
export function exec<T = Record<string, unknown>>(
  conn: Conn,
  sqlText: string,
  binds?: snowflake.Binds,
  extra: Partial<snowflake.StatementOption> = {},
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      binds,
      ...extra,
      complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as T[])),
    });
  });
}

/** Runs one statement and returns the driver's error (fails the test when it succeeds). */
export async function execError(
  conn: Conn,
  sqlText: string,
  binds?: snowflake.Binds,
): Promise<snowflake.SnowflakeError & { sqlState?: string }> {
  try {
    await exec(conn, sqlText, binds);
  } catch (e) {
    return e as snowflake.SnowflakeError & { sqlState?: string };
  }
  throw new Error(`expected an error from: ${sqlText}`);
}

export function destroy(conn: Conn): Promise<void> {
  return new Promise((resolve) => conn.destroy(() => resolve()));
}

/** A query-response as the protocol carries it (for requests a driver sends that snowflake-sdk for Node does not). */
export interface WireResponse {
  success: boolean;
  code: string | null;
  message: string | null;
  data: {
    rowtype?: { name: string; type: string; nullable: boolean; length: number | null; scale: number | null }[];
    rowset?: (string | null)[][];
    parameters?: { name: string; value: unknown }[];
    sqlState?: string;
  } & Record<string, unknown>;
}

/**
 * A session opened with the login request the Python connector, JDBC and Go drivers send
 * (`SESSION_PARAMETERS` included), and a `query` that posts a query-request body as they do
 * (typed `bindings`, `describeOnly`, ...). Signs in as {@link TEST_USER}.
 */
export async function wireSession(
  emu: RunningEmulator,
  loginData: Record<string, unknown> = {},
): Promise<{ login: WireResponse; query(body: Record<string, unknown>): Promise<WireResponse> }> {
  const post = async (path: string, body: unknown, token?: string): Promise<WireResponse> => {
    const r = await fetch(`${emu.url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Snowflake Token="${token}"` } : {}),
      },
      body: JSON.stringify(body),
    });
    return (await r.json()) as WireResponse;
  };
  const login = await post('/session/v1/login-request', {
    data: { ACCOUNT_NAME: 'floe', LOGIN_NAME: TEST_USER.name, PASSWORD: TEST_USER.password, ...loginData },
  });
  const token = String(login.data.token);
  return { login, query: (body) => post(`/queries/v1/query-request?requestId=${crypto.randomUUID()}`, body, token) };
}

/** The row the Go and JDBC client programs insert with typed binds and report as read back (`round_trip`). */
export const CLIENT_ROUND_TRIP = {
  i: 7,
  f: 1.5,
  n: '12.34',
  s: 'héllo',
  d: '2024-02-29',
  ts: '2024-01-02 03:04:05.123456',
  b: 'cafe',
} as const;

/**
 * The emulators a client program runs against: a plain one, and one answering HTTP 503 to 5% of the
 * query, result and chunk requests, which the drivers retry (the same query-request attaches to its first
 * execution; a chunk may be fetched again, in any order).
 */
export const CLIENT_RUNS: [string, Partial<EmulatorOptions>][] = [
  ['without faults', {}],
  ['with HTTP 503 on 5% of query, result and chunk requests', { faults: { http503Rate: 0.05 } }],
];

/** Starts an emulator with `options` before the suite's tests and closes it after them; returns a getter for it. */
export function suiteEmulator(options: Partial<EmulatorOptions> = {}): () => TestEmulator {
  let emu: TestEmulator | undefined;
  beforeAll(async () => {
    emu = await startTestEmulator(options);
  });
  afterAll(async () => {
    await emu?.close();
  });
  return () => {
    if (!emu) throw new Error('the suite emulator is not started');
    return emu;
  };
}

/**
 * Runs a client program (emulator/test/clients/*) against `emu` as {@link TEST_USER}: the program gets
 * `<url> <user> <password> <database>` after `args` and prints one JSON object of what its checks saw.
 */
export async function runClientProgram(
  emu: RunningEmulator,
  command: string,
  args: string[],
  database: string,
): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    command,
    [...args, emu.url, TEST_USER.name, TEST_USER.password, database],
    { encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}
