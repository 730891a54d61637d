/**
 * The Snowflake Connector for Python (4.x and 5.x, from PyPI into `.floe/pyclients/<name>` by
 * scripts/bootstrap.mjs) against the emulator: connect, typed round trips with server-side (qmark)
 * and client-side (pyformat) binds, executemany, a multi-chunk result, a transaction with
 * commit()/rollback(), Snowflake's errors, cursor.describe(), execute_string's several statements and
 * PUT/COPY/GET through a table stage.
 * The client runs as its own process (clients/python_connector.py) and reports what it saw as JSON.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floeHome } from '../src/paths.js';
import { runClientProgram, startTestEmulator, type TestEmulator } from './helpers.js';

const script = path.join(import.meta.dirname, 'clients', 'python_connector.py');

let emu: TestEmulator;
beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu.close();
});

/**
 * PUT/COPY/GET: 4.x copies files itself on the emulator's LOCAL_FS stages; 5.x, which accepts cloud storage only,
 * through the emulator's S3-compatible endpoint.
 */
const stagedFiles = { put: ['UPLOADED'], loaded: 2, got: ['rows.csv.gz'] };

describe.each([
  ['snowflake-connector-python-4', /^4\./],
  ['snowflake-connector-python-5', /^5\./],
])('%s', (client, version) => {
  it('connects, round-trips types and binds, loads, pages chunks, commits and rolls back, reports errors, stages files', async () => {
    const python = path.join(floeHome, 'pyclients', client, 'bin', 'python');
    const seen = await runClientProgram(emu, python, [script], client.replace(/\W/g, '_'));
    expect(seen.version).toMatch(version);
    expect(seen).toMatchObject({
      round_trip: { equal: true },
      pyformat_binds: [1, 'two'],
      executemany: [50, 1225],
      multi_chunk: { count: 70_000, first: 0, last: 69_999 },
      transaction: { uncommitted_seen: 0, after: 2 },
      missing_object: { errno: 2003, sqlstate: '42S02' },
      division_by_zero: { errno: 100051, sqlstate: '22012' },
      describe: [
        ['I', 0, null],
        ['S', 2, 20],
      ],
      multi_statement: [[[1]], [['x']]],
      put_copy_get: stagedFiles,
    });
  });
});
