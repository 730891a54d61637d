/**
 * Activity heartbeats (src/activities/context.ts `startHeartbeat`): every beat is sent by default; with
 * `minIntervalMs` the reporters of one activity share a throttle (a batch's items), and the timer still
 * sends the latest details while a step runs.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { startHeartbeat } from '../../src/activities/context.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startHeartbeat', () => {
  it('sends the start and every beat by default', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      const hb = startHeartbeat({ step: 0 });
      hb.beat({ step: 1 });
      hb.beat({ step: 2 });
      hb.stop();
    });
    expect(beats).toEqual([{ step: 0 }, { step: 1 }, { step: 2 }]);
  });

  it('with minIntervalMs, reporters of one activity send at most one beat per interval; the timer sends the latest', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      for (let item = 1; item <= 3; item++) {
        const hb = startHeartbeat({ item, phase: 'begin' }, 10_000, { minIntervalMs: 200 });
        hb.beat({ item, phase: 'load' });
        hb.stop();
      }
      expect(beats).toEqual([{ item: 1, phase: 'begin' }]);
      await sleep(250);
      // The interval has passed: the next reporter's start is sent, its beats within the interval are not.
      const hb = startHeartbeat({ item: 4, phase: 'begin' }, 100, { minIntervalMs: 200 });
      hb.beat({ item: 4, phase: 'load' });
      expect(beats).toEqual([
        { item: 1, phase: 'begin' },
        { item: 4, phase: 'begin' },
      ]);
      await sleep(150);
      hb.stop();
    });
    expect(beats.at(-1)).toEqual({ item: 4, phase: 'load' });
  });
});
