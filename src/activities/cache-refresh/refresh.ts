/**
 * The cache refresh's Snowflake and DuckLake work, as activities: the smart check, the extract and
 * replace, and the clean-up of a run's stage path and local files (see index.ts for each one's
 * idempotence). Each loads the cache and resolves its source's credentials itself: inputs carry the
 * cache name and job id only.
 */
import { rm } from 'node:fs/promises';
import type pg from 'pg';
import type { CredentialResolver } from '../../credentials/store.js';
import type { Logger } from 'pino';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import { SnowflakeSessionCache } from '../../connectors/snowflake-sessions.js';
import { floeError, NonRetryable } from '../../errors.js';
import { resolveSource, withSourceSession } from '../../jobs/cache-refresh/source.js';
import { decide, readLastAltered, stateHash } from '../../jobs/cache-refresh/smart.js';
import { cacheLocalDir, cacheStagePath, extractAndReplace } from '../../jobs/cache-refresh/extract.js';
import * as store from '../../jobs/cache-refresh/store.js';
import { parseQualifiedName } from '../../jobs/cache-refresh/sqlRefs.js';
import type { LakeSettings } from '../../jobs/cache-refresh/storage.js';
import type { CacheCheckResult, CacheLoadResult } from '../../jobs/cache-refresh/contract.js';
import { jobSegment, removeFromStage } from '../../connectors/snowflake-stage.js';
import { activityLogger, cancellable, startHeartbeat } from '../context.js';

/** What the cache activities are built from. */
export interface CacheRefreshActivityDeps {
  pool: pg.Pool;
  lake: LakeSettings;
  /** Resolves a source's credentials_ref to settings held by this process. */
  credentials: CredentialResolver;
  /** Root of job-scoped local download directories. */
  tmpDir: string;
  /** Stage name used for unloads (in the source settings' database/schema, else the first monitored table's). Default FLOE_STAGE. */
  stageName?: string;
  getParallel?: number;
  logger?: Logger;
  /** Test hooks. */
  hooks?: { beforeLoad?(cacheName: string): Promise<void> };
  /** Signed-in sessions reused across activities (default: one cache per activities object). */
  sessions?: SnowflakeSessionCache;
}

/** The check, extract-and-replace and clean-up activities. Throws nothing at construction. */
export function createRefreshActivities(deps: CacheRefreshActivityDeps) {
  const lg = () => activityLogger(deps.logger);
  // Back-to-back checks of one source reuse a session: the sign-in is most of a SKIPPED check's cost.
  const sessions = deps.sessions ?? new SnowflakeSessionCache();

  /** The cache, its source (one PostgreSQL read) and the source's settings; every failure is non-retryable. */
  async function load(cacheName: string) {
    const found = await store.getCacheWithSource(deps.pool, cacheName);
    if (!found) throw floeError(NonRetryable.InvalidRequest, `cache ${cacheName} does not exist`);
    const { cache, source } = found;
    if (!source)
      throw floeError(NonRetryable.InvalidRequest, `source ${cache.source_name} of cache ${cacheName} does not exist`);
    const resolved = await resolveSource(deps.credentials, source).catch((err: unknown) => {
      throw floeError(NonRetryable.AuthenticationFailed, (err as Error).message);
    });
    return { cache, source, ...resolved };
  }

  function stageFor(settings: SnowflakeSettings, monitor: string[]): [string, string, string] {
    const first = monitor[0] ? parseQualifiedName(monitor[0]) : null;
    const db = settings.database ?? first?.database;
    const schema = settings.schema ?? first?.schema;
    if (!db || !schema)
      throw floeError(
        NonRetryable.InvalidRequest,
        'no database/schema for the unload stage: set one on the source credentials or monitor a table',
      );
    return [db, schema, deps.stageName ?? 'FLOE_STAGE'];
  }

  /** The smart check; a SKIPPED outcome is recorded here too (`recordSkip`, keyed by cache name: idempotent). */
  async function cacheCheck(input: { cacheName: string; jobId?: string; force?: boolean }): Promise<CacheCheckResult> {
    const loaded = await load(input.cacheName);
    const { cache } = loaded;
    const lastAltered = cache.monitor_tables.length
      ? await withSourceSession(loaded, (sf) => readLastAltered(sf, cache.monitor_tables), sessions)
      : {};
    const hash = stateHash(lastAltered);
    const d = decide({
      force: input.force ?? false,
      filled: cache.snapshot_id !== null,
      expiresAt: cache.expires_at,
      storedHash: cache.source_state_hash,
      currentHash: hash,
      now: new Date(),
    });
    lg()?.info({ cache: input.cacheName, refresh: d.refresh, reason: d.reason }, 'cache check');
    // Without a job id (a refresh started before the check recorded skips) the workflow records it.
    if (!d.refresh && input.jobId !== undefined) await store.recordSkip(deps.pool, input.cacheName, input.jobId);
    return {
      refresh: d.refresh,
      reason: d.reason,
      stateHash: hash,
      lastAltered,
      snapshotId: cache.snapshot_id === null ? null : Number(cache.snapshot_id),
    };
  }

  async function cacheExtractLoad(input: { cacheName: string; jobId: string }): Promise<CacheLoadResult> {
    const loaded = await load(input.cacheName);
    const { cache, settings } = loaded;
    const hb = startHeartbeat({ cacheName: input.cacheName, phase: 'extract' });
    try {
      const r = await withSourceSession(
        loaded,
        (sf) =>
          cancellable(
            extractAndReplace({
              sf,
              lake: deps.lake,
              pool: deps.pool,
              cacheName: cache.cache_name,
              query: cache.source_query,
              stage: stageFor(settings, cache.monitor_tables),
              segment: jobSegment(input.jobId),
              tmpDir: deps.tmpDir,
              getParallel: deps.getParallel,
              beforeLoad: deps.hooks?.beforeLoad ? () => deps.hooks!.beforeLoad!(cache.cache_name) : undefined,
            }),
          ),
        sessions,
      );
      return { ...r, method: 'stage' };
    } finally {
      hb.stop();
    }
  }

  async function cacheCleanup(input: { cacheName: string; jobId: string }): Promise<void> {
    const seg = jobSegment(input.jobId);
    await rm(cacheLocalDir(deps.tmpDir, seg), { recursive: true, force: true });
    const loaded = await load(input.cacheName).catch(() => null);
    if (!loaded) return;
    await withSourceSession(
      loaded,
      (sf) => removeFromStage(sf, cacheStagePath(stageFor(loaded.settings, loaded.cache.monitor_tables), seg)),
      sessions,
    ).catch((e) => lg()?.warn({ err: (e as Error).message }, 'cache stage REMOVE failed'));
  }

  return { cacheCheck, cacheExtractLoad, cacheCleanup };
}
