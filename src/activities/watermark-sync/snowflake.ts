/** The watermark sync activities' Snowflake session: a reused one when the deps carry a session cache. */
import { connectSnowflake, type SnowflakeSession } from '../../connectors/snowflake.js';
import type { WatermarkSyncDeps } from './types.js';

/**
 * Run `fn` on a Snowflake session: one leased from `deps.sessions` (an idle session of the same
 * settings, else a new sign-in; closed instead of returned when `fn` throws), or, without a cache, a
 * session signed in for `fn` alone and closed after it.
 * @throws what the sign-in (SnowflakeSignInError) or `fn` throws.
 */
export async function withSnowflake<T>(deps: WatermarkSyncDeps, fn: (sf: SnowflakeSession) => Promise<T>): Promise<T> {
  if (deps.sessions) return deps.sessions.withSession(deps.snowflake, fn);
  const sf = await connectSnowflake(deps.snowflake);
  try {
    return await fn(sf);
  } finally {
    await sf.close();
  }
}
