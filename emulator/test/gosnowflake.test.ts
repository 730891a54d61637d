/**
 * gosnowflake (the Go driver, pinned in clients/go/go.mod and built by `scripts/bootstrap.mjs --test` into
 * `.floe/clients/go`) against the emulator through database/sql: connect, typed round trip with the driver's
 * type markers, binds, text into NUMBER, an array-bind batch insert, a multi-chunk result (the driver fetches
 * chunks with ten workers in parallel), a transaction's commit and rollback, Snowflake's error numbers, a
 * multi-statement request, RESULT_SCAN(LAST_QUERY_ID()), PUT/COPY through a table stage with the driver's stock
 * transport (a `LOCAL_FS` stage) and GET of those files (on the emulator's S3-compatible stage endpoint, which
 * gosnowflake sessions are handed for GET only; the program's GET connection has a `Config.Transporter` for it).
 * The client runs as its own process (clients/go/main.go) and reports what it saw as JSON.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floeHome } from '../src/paths.js';
import { CLIENT_ROUND_TRIP, CLIENT_RUNS, runClientProgram, suiteEmulator } from './helpers.js';

describe.each(CLIENT_RUNS)('gosnowflake 1.19.1 %s', (_run, options) => {
  const emulator = suiteEmulator(options);

  it('connects, round-trips types and binds, batches, pages chunks, commits and rolls back, reports errors, stages files', async () => {
    const seen = await runClientProgram(
      emulator(),
      path.join(floeHome, 'clients', 'go', 'emulator-client-go'),
      [],
      'GO',
    );
    expect(seen).toMatchObject({
      version: '1.19.1',
      round_trip: CLIENT_ROUND_TRIP,
      binds: [1, 'two'],
      text_into_number: 42,
      batch_insert: [50, 50, 1225],
      multi_chunk: { count: 70_000, inOrder: true },
      transaction: { uncommittedSeen: 0, after: 2 },
      missing_object: { number: 2003, sqlState: '42S02' },
      division_by_zero: { number: 100051, sqlState: '22012' },
      multi_statement: ['1', 'x'],
      result_scan: 85,
      // PUT and COPY on a connection without a Transporter: a PUT sent to the S3 stage endpoint would fail here.
      put_copy: 2,
      // GET went through the S3-compatible stage endpoint: the file PUT gzipped comes back as it was.
      get: { 'rows.csv.gz': '1,one\n2,two\n' },
    });
  }, 240_000);
});
