/**
 * Pure pieces of the `floe` CLI: the progress line of `--wait` (rows, rows/s, phase, ETA when the total
 * is known), how a job's progress is read whatever shape the API gives it, the terminal table and CSV
 * writers, and the parsers of names and option values.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeForJobStatus, exitCodeForStatus } from '../../src/cli/errors.js';
import { intervalOption, parseTableName, wholeNumber } from '../../src/cli/options.js';
import { renderTable, toCsv } from '../../src/cli/output.js';
import { jobSchema, progressOf, RateMeter, renderProgress } from '../../src/cli/progress.js';
import { describeJob } from '../../src/cli/sync.js';

describe('progress line', () => {
  it('with a known total: bar, percentage, rows, rows/s, phase, bytes and ETA', () => {
    const line = renderProgress({
      status: 'running',
      phase: 'load',
      rowsLoaded: 2_500_000,
      rowsTotal: 10_000_000,
      bytes: 3 * 1024 * 1024,
      rowsPerSecond: 250_000,
      elapsedSeconds: 10,
    });
    expect(line).toBe(
      '[######..................] 25%  2,500,000 / 10,000,000 rows  250,000 rows/s  load  3.0 MiB  ETA 0:30',
    );
  });

  it('without a total: status, rows and elapsed time, no ETA', () => {
    const line = renderProgress({ status: 'running', phase: 'transfer', rowsLoaded: 1234, elapsedSeconds: 75 });
    expect(line).toBe('running  1,234 rows  transfer  1:15');
  });

  it('rows/s is measured from the first poll that reported rows, once a second has passed', () => {
    const m = new RateMeter();
    expect(m.observe(0, 0)).toBeUndefined();
    expect(m.observe(1000, 1000)).toBeUndefined();
    expect(m.observe(1500, 1500)).toBeUndefined();
    expect(m.observe(5000, 3000)).toBe(2000);
  });

  it('reads the API’s progress (nulls until known) and ignores a shape it does not know', () => {
    const base = { job_id: 'j', status: 'running' };
    const early = jobSchema.parse({
      ...base,
      progress: { phase: 'unload', rowsLoaded: 0, rowsTotal: null, bytes: 0, rowsPerSecond: null },
    });
    expect(progressOf(early)).toEqual({
      phase: 'unload',
      rowsLoaded: 0,
      rowsTotal: undefined,
      bytes: 0,
      rowsPerSecond: undefined,
    });
    const later = jobSchema.parse({
      ...base,
      progress: { phase: 'load', rowsLoaded: 10, rowsTotal: 40, bytes: 99, rowsPerSecond: 5 },
    });
    expect(progressOf(later)).toEqual({ phase: 'load', rowsLoaded: 10, rowsTotal: 40, bytes: 99, rowsPerSecond: 5 });
    const odd = jobSchema.parse({ ...base, progress: { rowsLoaded: 'many' } });
    expect(odd.progress).toBeNull();
    expect(progressOf(odd).rowsLoaded).toBe(0);
  });
});

describe('job description', () => {
  it('a running job shows its progress; a finished one its counts or its error with the failure type', () => {
    const running = describeJob(
      jobSchema.parse({ job_id: 'j1', status: 'running', progress: { phase: 'load', rowsLoaded: 1500 } }),
    );
    expect(running).toMatch(/^progress:\s+running {2}1,500 rows {2}load/m);
    const done = describeJob(
      jobSchema.parse({ job_id: 'j2', status: 'completed', stats: { rowsRead: 3, rowsInTarget: 3, watermark: {} } }),
    );
    expect(done).toMatch(/^stats:\s+rowsRead=3 rowsInTarget=3$/m);
    expect(done).not.toContain('progress:');
    const failed = describeJob(
      jobSchema.parse({
        job_id: 'j3',
        status: 'failed',
        error: 'table DB.S.T does not exist',
        error_type: 'TableNotFound',
      }),
    );
    expect(failed).toMatch(/^error:\s+table DB\.S\.T does not exist \(TableNotFound\)$/m);
  });
});

describe('exit codes', () => {
  it('follow the job outcome and the HTTP status', () => {
    expect([
      exitCodeForJobStatus('completed'),
      exitCodeForJobStatus('failed'),
      exitCodeForJobStatus('cancelled'),
    ]).toEqual([EXIT.ok, EXIT.failed, EXIT.cancelled]);
    expect([400, 401, 403, 404, 409, 422, 503].map(exitCodeForStatus)).toEqual([2, 4, 4, 2, 1, 2, 1]);
  });
});

describe('output', () => {
  it('a table aligns columns, right-aligns numbers and counts rows', () => {
    expect(
      renderTable([
        { name: 'A', n: 5 },
        { name: 'long name', n: 12345 },
      ]).split('\n'),
    ).toEqual(['name           n', '---------  -----', 'A              5', 'long name  12345', '(2 rows)']);
  });

  it('CSV quotes commas, quotes and newlines (RFC 4180) and writes null as empty', () => {
    expect(
      toCsv(
        [
          { a: 'x,y', b: 'say "hi"' },
          { a: 'two\nlines', b: null },
        ],
        ['a', 'b'],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n"two\nlines",\r\n');
  });
});

describe('arguments', () => {
  it('table names: DATABASE.SCHEMA.TABLE or SCHEMA.TABLE', () => {
    expect(parseTableName('DB.S.T')).toEqual({ database_name: 'DB', schema_name: 'S', table_name: 'T' });
    expect(parseTableName('S.T')).toEqual({ schema_name: 'S', table_name: 'T' });
    expect(() => parseTableName('T')).toThrow(/DATABASE\.SCHEMA\.TABLE/);
    expect(() => parseTableName('A..B')).toThrow();
  });

  it('intervals and whole numbers', () => {
    expect([intervalOption('900'), intervalOption('15m'), intervalOption('2h'), intervalOption('1d')]).toEqual([
      900, 900, 7200, 86400,
    ]);
    expect(() => intervalOption('1w')).toThrow();
    expect(wholeNumber('42')).toBe(42);
    expect(() => wholeNumber('-1')).toThrow();
    expect(() => wholeNumber('1.5')).toThrow();
  });
});
