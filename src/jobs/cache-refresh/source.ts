/**
 * A cache source's Snowflake connection: its credentials reference resolved to settings held by this
 * process (never stored with the source, never in workflow inputs), and a session opened with them.
 * Used by the refresh activities, query passthrough and the API's check of monitored tables.
 */
import type { SnowflakeSession, SnowflakeSettings } from '../../connectors/snowflake.js';
import type { SnowflakeSessionCache } from '../../connectors/snowflake-sessions.js';
import { withLabelledSession } from '../../credentials/kinds.js';
import type { CredentialResolver } from '../../credentials/store.js';
import type { CacheSource } from './store.js';

/** A source's settings, and how messages name its credentials (never the secret itself). */
export interface ResolvedSource {
  settings: SnowflakeSettings;
  /** `credentials '<ref>' of source <name>`. */
  label: string;
}

/** The source's credentials cannot be resolved here: unknown reference, or the resolver failed. */
export class SourceCredentialsError extends Error {
  override readonly name = 'SourceCredentialsError';
}

/**
 * Resolve `source.credentials_ref` with `credentials`.
 * @throws SourceCredentialsError naming the reference and the source.
 */
export async function resolveSource(credentials: CredentialResolver, source: CacheSource): Promise<ResolvedSource> {
  const label = `credentials '${source.credentials_ref}' of source ${source.source_name}`;
  let settings: SnowflakeSettings | undefined;
  try {
    settings = await credentials(source.credentials_ref);
  } catch (err) {
    throw new SourceCredentialsError(`${label}: ${(err as Error).message}`);
  }
  if (!settings) throw new SourceCredentialsError(`${label} are not configured in this process`);
  return { settings, label };
}

/**
 * Run `fn` with a session signed in as the source: a reused one from `sessions` when given, else a fresh
 * one, always closed.
 * @throws the sign-in failure naming the credentials (with the driver's `code`, see `signInError`),
 * or whatever `fn` throws.
 */
export function withSourceSession<T>(
  source: ResolvedSource,
  fn: (sf: SnowflakeSession) => Promise<T>,
  sessions?: SnowflakeSessionCache,
): Promise<T> {
  return withLabelledSession(source.settings, source.label, fn, sessions);
}
