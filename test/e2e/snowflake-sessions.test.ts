/**
 * The Snowflake session cache with the real snowflake-sdk against the emulator: a session is reused by
 * the next caller of the same credential, a rotated credential signs in anew, and a session that broke
 * (the emulator restarted, so its token is unknown) is dropped after the failure it caused and never
 * handed out again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { withSnowflake, type SnowflakeSettings } from '../../src/connectors/snowflake.js';
import { SnowflakeSessionCache } from '../../src/connectors/snowflake-sessions.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sf-sessions-'));
const admin = { name: 'admin', password: 'admin-pw-123' };
let emu: RunningEmulator;
let settings: SnowflakeSettings;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: admin });
  settings = { account: 'floe', username: admin.name, password: admin.password, accessUrl: emu.url };
});

afterAll(async () => {
  await emu?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const one = (sf: { query: (sql: string) => Promise<Record<string, unknown>[]> }) =>
  sf.query('SELECT 1 AS ONE').then((r) => String(r[0]!.ONE));

describe('SnowflakeSessionCache', () => {
  it('reuses an idle session of the same credential and keeps a session to one caller at a time', async () => {
    const cache = new SnowflakeSessionCache();
    try {
      expect(await cache.withSession(settings, one)).toBe('1');
      expect(await cache.withSession({ ...settings }, one)).toBe('1');
      expect(cache.stats()).toEqual({ opened: 1, reused: 1, dropped: 0, idle: 1 });
      // Two callers at once: the idle session serves one, the other signs in.
      await Promise.all([cache.withSession(settings, one), cache.withSession(settings, one)]);
      expect(cache.stats()).toMatchObject({ opened: 2, reused: 2, idle: 2 });
    } finally {
      await cache.close();
    }
    expect(cache.stats().idle).toBe(0);
  });

  it('signs in anew after a credential rotation', async () => {
    await withSnowflake(settings, (sf) => sf.query(`CREATE USER ROTATED PASSWORD = 'first-pw-1'`));
    const first = { ...settings, username: 'ROTATED', password: 'first-pw-1' };
    const cache = new SnowflakeSessionCache();
    try {
      await cache.withSession(first, one);
      await withSnowflake(settings, (sf) => sf.query(`ALTER USER ROTATED SET PASSWORD = 'second-pw-2'`));
      const second = { ...first, password: 'second-pw-2' };
      expect(await cache.withSession(second, one)).toBe('1');
      // The new credential got its own sign-in (which the emulator checked); the old session stayed apart.
      expect(cache.stats()).toEqual({ opened: 2, reused: 0, dropped: 0, idle: 2 });
    } finally {
      await cache.close();
    }
  });

  it('drops a broken session after the failure it caused, and signs in again for the next caller', async () => {
    const cache = new SnowflakeSessionCache();
    try {
      await cache.withSession(settings, one);
      // Restart the emulator on the same port: the cached session's token is no longer known there.
      const port = Number(new URL(emu.url).port);
      await emu.close();
      emu = await startEmulator({ port, dataDir: path.join(root, 'emu'), user: admin });
      // The driver's answer: the session expired (390112), after which it treats the connection as terminated.
      await expect(cache.withSession(settings, one)).rejects.toThrow(/terminated connection|session has expired/);
      expect(cache.stats()).toEqual({ opened: 1, reused: 1, dropped: 1, idle: 0 });
      expect(await cache.withSession(settings, one)).toBe('1');
      expect(cache.stats()).toEqual({ opened: 2, reused: 1, dropped: 1, idle: 1 });
    } finally {
      await cache.close();
    }
  });
});
