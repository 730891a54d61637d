/**
 * Execution upload batches (`attemptInSequence`, src/activities/execution-upload/index.ts): items run
 * one after another, each item's read starts while the item before it loads, at most one item ahead,
 * and a failure (of an attempt, or of a read done ahead) is the outcome of its own item only.
 */
import { describe, expect, it } from 'vitest';
import { attemptInSequence } from '../../src/activities/execution-upload/index.js';
import type { ExecutionUploadResult } from '../../src/jobs/execution-upload/contract.js';

const done = (syncId: string, rows: number): ExecutionUploadResult => ({
  syncId,
  executionId: `e-${syncId}`,
  status: 'completed',
  rows,
  attempts: 1,
});

describe('attemptInSequence', () => {
  it('reads the next item while the current one loads, never more than one ahead', async () => {
    const events: string[] = [];
    const out = await attemptInSequence(
      ['a', 'b', 'c'],
      async (id) => {
        events.push(`read ${id}`);
        return id.length * 10;
      },
      async (id, prepared) => {
        events.push(`begin ${id}`);
        const rows = await prepared;
        await new Promise((r) => setTimeout(r, 5));
        events.push(`end ${id}`);
        return done(id, rows);
      },
    );
    expect(events).toEqual(['read a', 'read b', 'begin a', 'end a', 'read c', 'begin b', 'end b', 'begin c', 'end c']);
    expect(out.map((o) => ('result' in o ? o.result.rows : o.error))).toEqual([10, 10, 10]);
  });

  it('a failed attempt or read fails its own item only; every item is read once and attempted once', async () => {
    const reads: string[] = [];
    const attempts: string[] = [];
    const out = await attemptInSequence(
      ['fails', 'ok', 'unreadable', 'last'],
      async (id) => {
        reads.push(id);
        if (id === 'unreadable') throw new Error(`execution of ${id} does not exist`);
        return id;
      },
      async (id, prepared) => {
        attempts.push(id);
        const what = await prepared;
        if (id === 'fails') throw new Error('load failed');
        return done(what, 1);
      },
    );
    expect(reads).toEqual(['fails', 'ok', 'unreadable', 'last']);
    expect(attempts).toEqual(['fails', 'ok', 'unreadable', 'last']);
    expect(out.map((o) => ('result' in o ? o.result.syncId : o.error.message))).toEqual([
      'load failed',
      'ok',
      'execution of unreadable does not exist',
      'last',
    ]);
  });
});
