/**
 * The Snowflake JDBC driver (pinned in clients/jdbc/pom.xml, copied by `scripts/bootstrap.mjs --test` into
 * `.floe/clients/jdbc/lib`) against the emulator: connect, typed round trip with typed setters and getters,
 * binds, text into NUMBER, executeBatch, a multi-chunk result, a transaction's commit and rollback,
 * Snowflake's error codes, a multi-statement request, RESULT_SCAN(LAST_QUERY_ID()) and PUT/COPY/GET through
 * a table stage. The client runs as its own process (clients/jdbc/JdbcClient.java, run by Java's source
 * launcher) and reports what it saw as JSON.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floeHome } from '../src/paths.js';
import { CLIENT_ROUND_TRIP, CLIENT_RUNS, runClientProgram, suiteEmulator } from './helpers.js';

const source = path.join(import.meta.dirname, 'clients', 'jdbc', 'JdbcClient.java');
const classPath = path.join(floeHome, 'clients', 'jdbc', 'lib', '*');

describe.each(CLIENT_RUNS)('snowflake-jdbc 3.28.0 %s', (_run, options) => {
  const emulator = suiteEmulator(options);

  it('connects, round-trips types and binds, batches, pages chunks, commits and rolls back, reports errors, stages files', async () => {
    const seen = await runClientProgram(emulator(), 'java', ['-cp', classPath, source], 'JDBC');
    expect(seen).toMatchObject({
      version: '3.28.0',
      round_trip: CLIENT_ROUND_TRIP,
      binds: ['1', 'two'],
      text_into_number: '42',
      batch_insert: [50, '50', '1225'],
      multi_chunk: { count: 70_000, inOrder: true },
      transaction: { uncommittedSeen: '0', after: '2' },
      missing_object: { errorCode: 2003, sqlState: '42S02' },
      division_by_zero: { errorCode: 100051, sqlState: '22012' },
      multi_statement: ['1', 'x'],
      result_scan: '85',
      put_copy_get: { put: 'UPLOADED', loaded: '2', got: ['rows.csv.gz'] },
    });
  }, 240_000);
});
