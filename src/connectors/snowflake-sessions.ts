/**
 * A per-process cache of signed-in Snowflake sessions, so that back-to-back activities for the same
 * credential (the uploads of one user within a drain, the smart checks of one cache source) reuse one
 * session instead of signing in and out every time — the sign-in is the most expensive request of a
 * short activity.
 *
 * Safety rules:
 * - Sessions are keyed by a SHA-256 of the whole {@link SnowflakeSettings}, credential included (the
 *   digest stays in memory; neither it nor the settings are logged). A rotated password, key pair or
 *   token therefore signs in anew; sessions of the old credential are never handed out again and close
 *   when their idle time runs out.
 * - A session serves one caller at a time (a lease): temporary tables and session state never mix.
 * - A lease whose work throws drops its session (closed, not returned): a broken session — expired
 *   (390112), aborted, or on a connection that died — never serves a second caller. The caller's own
 *   retry (Temporal's activity retry, the upload's attempt loop) then signs in again.
 * - An idle session is closed after `idleMs` (default 60 s), well inside Snowflake's session and master
 *   token validity (1 h and 4 h; the driver renews the session token with the master token), and at most
 *   `maxIdlePerKey` idle sessions are kept per credential.
 * - A settings object with `tokenFilePath` is re-read only at sign-in (snowflake-sdk reads the file in
 *   `createConnection`); a session signed in before the file rotated keeps working until it is dropped.
 */
import { createHash } from 'node:crypto';
import { connectSnowflake, type SnowflakeSession, type SnowflakeSettings } from './snowflake.js';

/** Tuning of a {@link SnowflakeSessionCache}. */
export interface SnowflakeSessionCacheOptions {
  /** Milliseconds an unused session stays open (default 60 000). */
  idleMs?: number;
  /** Idle sessions kept per credential; more are closed when released (default 8). */
  maxIdlePerKey?: number;
}

/** Counters of a cache since it was created (for tests and logs; no credential in them). */
export interface SnowflakeSessionCacheStats {
  /** Sign-ins made. */
  opened: number;
  /** Leases served by an idle session instead of a sign-in. */
  reused: number;
  /** Sessions closed because the work on them threw. */
  dropped: number;
  /** Sessions open and idle now. */
  idle: number;
}

interface IdleSession {
  session: SnowflakeSession;
  timer: NodeJS.Timeout;
}

/** See the module comment. */
export class SnowflakeSessionCache {
  private readonly idleMs: number;
  private readonly maxIdlePerKey: number;
  private readonly idle = new Map<string, IdleSession[]>();
  private readonly counts = { opened: 0, reused: 0, dropped: 0 };
  private closed = false;

  constructor(opts: SnowflakeSessionCacheOptions = {}) {
    this.idleMs = opts.idleMs ?? 60_000;
    this.maxIdlePerKey = opts.maxIdlePerKey ?? 8;
  }

  /**
   * Run `fn` on a session signed in with `settings`: an idle one of the same credential, else a new
   * sign-in. The session goes back to the cache when `fn` resolves and is closed when it throws.
   * @throws whatever {@link connectSnowflake} throws on sign-in (SnowflakeSignInError), or what `fn` throws.
   */
  async withSession<T>(settings: SnowflakeSettings, fn: (sf: SnowflakeSession) => Promise<T>): Promise<T> {
    const key = settingsKey(settings);
    const session = this.take(key) ?? (await this.open(settings));
    let result: T;
    try {
      result = await fn(session);
    } catch (err) {
      this.counts.dropped++;
      await session.close();
      throw err;
    }
    this.release(key, session);
    return result;
  }

  /** Counters since creation (see {@link SnowflakeSessionCacheStats}). */
  stats(): SnowflakeSessionCacheStats {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    return { ...this.counts, idle };
  }

  /** Close every idle session; sessions leased now are closed when released. Never throws. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    for (const s of all) clearTimeout(s.timer);
    await Promise.all(all.map((s) => s.session.close()));
  }

  private async open(settings: SnowflakeSettings): Promise<SnowflakeSession> {
    const session = await connectSnowflake(settings);
    this.counts.opened++;
    return session;
  }

  /** The most recently released idle session of `key` that is still up, closing any that are not. */
  private take(key: string): SnowflakeSession | null {
    const list = this.idle.get(key);
    while (list?.length) {
      const { session, timer } = list.pop()!;
      clearTimeout(timer);
      if (list.length === 0) this.idle.delete(key);
      if (session.isUp()) {
        this.counts.reused++;
        return session;
      }
      void session.close();
    }
    return null;
  }

  private release(key: string, session: SnowflakeSession): void {
    const list = this.idle.get(key) ?? [];
    if (this.closed || !session.isUp() || list.length >= this.maxIdlePerKey) {
      void session.close();
      return;
    }
    const entry: IdleSession = {
      session,
      timer: setTimeout(() => {
        const cur = this.idle.get(key);
        const i = cur?.indexOf(entry) ?? -1;
        if (i >= 0) cur!.splice(i, 1);
        if (cur?.length === 0) this.idle.delete(key);
        void session.close();
      }, this.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
    this.idle.set(key, list);
  }
}

/** SHA-256 of the settings (credential included), fields in a fixed order. */
function settingsKey(settings: SnowflakeSettings): string {
  const fields = Object.keys(settings)
    .sort()
    .map((k) => [k, settings[k as keyof SnowflakeSettings]]);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
