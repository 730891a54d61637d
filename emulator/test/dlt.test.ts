/**
 * dlt's Snowflake destination (dlt[snowflake] with snowflake-connector-python 4.x, from PyPI into
 * `.floe/pyclients/dlt` by scripts/bootstrap.mjs) against the emulator, credentials pointing at it (host, port,
 * protocol http). The first run loads nested JSON: dlt creates the dataset, its tables and child tables, PUTs
 * gzipped JSONL files to table stages and COPYs them with MATCH_BY_COLUMN_NAME. The second run merges on the
 * primary key (delete-insert through a staging dataset): changed rows and their child rows are replaced, new
 * ones added. The pipeline runs as its own process (clients/dlt_pipeline.py) and reports what it read back
 * between the runs; the final state is read again here with snowflake-sdk.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floeHome } from '../src/paths.js';
import { connect, destroy, exec, runClientProgram, suiteEmulator } from './helpers.js';

const emu = suiteEmulator();
const python = path.join(floeHome, 'pyclients', 'dlt', 'bin', 'python');
const script = path.join(import.meta.dirname, 'clients', 'dlt_pipeline.py');

const EVENTS = {
  events: [
    ['login', 2, 'app', null],
    ['signup', 1, 'ads', 0.5],
  ],
  event_tags: [
    ['new', 0],
    ['web', 1],
  ],
};

describe('dlt (Snowflake destination)', () => {
  it('loads nested JSON into tables and child tables, then merges on the primary key', async () => {
    const seen = await runClientProgram(emu(), python, [script], 'DLT');
    expect(seen.version).toMatch(/^1\./);
    expect(seen.first_run).toEqual({ failed_jobs: false, loads: 1 });
    expect(seen.after_first).toEqual({
      customers: [
        [1, 'Ada', 'London', 51.5, -0.12],
        [2, 'Grace', 'New York', 40.7, -74.0],
        [3, 'Linus', 'Helsinki', null, null],
      ],
      orders: [
        [1, 'A-1', 2],
        [1, 'B-7', 1],
        [3, 'C-3', 5],
      ],
      orphan_orders: 0,
      order_lines: [[1], [2]],
      ...EVENTS,
    });
    expect(seen.second_run).toEqual({ failed_jobs: false, loads: 1 });
    expect(seen.after_second).toEqual({
      customers: [
        [1, 'Ada L.', 'Cambridge', 52.2, 0.12],
        [2, 'Grace', 'New York', 40.7, -74.0],
        [3, 'Linus', 'Portland', null, null],
        [4, 'Barbara', 'Boston', null, null],
      ],
      orders: [
        [3, 'C-3', 6],
        [3, 'D-9', 1],
        [4, 'E-2', 3],
      ],
      orphan_orders: 0,
      // Ada's order lines went with her replaced orders.
      order_lines: [],
      ...EVENTS,
    });

    const conn = await connect(emu());
    try {
      expect(await exec(conn, 'select "ID", "NAME" from DLT.SHOP.CUSTOMERS order by "ID"')).toEqual([
        { ID: 1, NAME: 'Ada L.' },
        { ID: 2, NAME: 'Grace' },
        { ID: 3, NAME: 'Linus' },
        { ID: 4, NAME: 'Barbara' },
      ]);
      const loads = await exec<{ N: number }>(conn, 'select count(*) as n from DLT.SHOP."_DLT_LOADS" where status = 0');
      expect(loads).toEqual([{ N: 2 }]);
    } finally {
      await destroy(conn);
    }
  });
});
