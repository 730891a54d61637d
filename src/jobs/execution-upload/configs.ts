/**
 * Per-user Snowflake configurations of the execution upload (`snowflake_configurations`): where each
 * user's execution results are uploaded, and with which credential (password, key pair, programmatic
 * access token or OAuth token, src/credentials/kinds.ts). The secret is stored only sealed (AES-256-GCM,
 * bound to the table, the user and the authenticator, src/secrets/crypto.ts) and decrypted only by
 * {@link activeSettings}. One configuration per user is active; saving a new one deactivates the old.
 */
import type pg from 'pg';
import type { SnowflakeAuthenticator, SnowflakeSettings } from '../../connectors/snowflake.js';
import {
  sealSecret,
  secretHints,
  unsealSecret,
  type SecretHints,
  type SnowflakeSecret,
} from '../../credentials/kinds.js';
import { withTransaction } from '../../db/pool.js';
import type { SecretBinding, SecretKeys } from '../../secrets/crypto.js';
import type { Queryable } from './queue.js';

/** The table of per-user configurations (also the `table` of their secrets' {@link SecretBinding}). */
export const CONFIGURATIONS_TABLE = 'snowflake_configurations';

const configBinding = (userId: string, authenticator: string): SecretBinding => ({
  table: CONFIGURATIONS_TABLE,
  name: userId,
  kind: authenticator,
});

/** How errors name a user's configuration (never its secret): `the Snowflake configuration of user <id>`. */
export function configurationLabel(userId: string): string {
  return `the Snowflake configuration of user ${userId}`;
}

/** A user's active configuration without its secret, as the API shows it. */
export interface SnowflakeConfigurationView extends SecretHints {
  id: string;
  user_id: string;
  account: string;
  user: string;
  authenticator: SnowflakeAuthenticator;
  warehouse: string | null;
  database: string;
  schema: string;
  role: string | null;
  access_url: string | null;
  created_at: Date;
  updated_at: Date;
}

const CONFIG_VIEW_COLUMNS = `id, user_id, account_identifier AS account, username AS user, authenticator, public_key_fingerprint, token_last4,
  warehouse, database, schema, role, access_url, created_at, updated_at`;

/** The user's active configuration (no secret), or null. */
export async function getSnowflakeConfiguration(
  db: Queryable,
  userId: string,
): Promise<SnowflakeConfigurationView | null> {
  const { rows } = await db.query<SnowflakeConfigurationView>(
    `SELECT ${CONFIG_VIEW_COLUMNS} FROM snowflake_configurations WHERE user_id = $1 AND is_active`,
    [userId],
  );
  return rows[0] ?? null;
}

/** Remove the user's configurations (the active one and earlier ones, with their secrets). Returns false when there was no active one. */
export async function deleteSnowflakeConfiguration(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ active: boolean }>(
    'DELETE FROM snowflake_configurations WHERE user_id = $1 RETURNING is_active AS active',
    [userId],
  );
  return rows.some((r) => r.active);
}

/**
 * The user's active configuration resolved to connection settings, the secret decrypted with `keys`
 * (call only inside activities and the API's test route). Null when the user has no active configuration.
 * @throws SecretError when the stored secret does not decrypt.
 */
export async function activeSettings(
  db: Queryable,
  userId: string,
  keys: SecretKeys,
): Promise<{ info: SnowflakeConfigurationView; settings: SnowflakeSettings } | null> {
  const { rows } = await db.query<SnowflakeConfigurationView & { secret_encrypted: string }>(
    `SELECT ${CONFIG_VIEW_COLUMNS}, secret_encrypted FROM snowflake_configurations WHERE user_id = $1 AND is_active`,
    [userId],
  );
  const r = rows[0];
  if (!r) return null;
  const { secret_encrypted: stored, ...info } = r;
  const settings: SnowflakeSettings = {
    account: r.account.replace(/\.snowflakecomputing\.com$/i, ''),
    username: r.user,
    authenticator: r.authenticator,
    ...unsealSecret(stored, keys, configBinding(r.user_id, r.authenticator)),
    ...(r.access_url ? { accessUrl: r.access_url.replace(/\/+$/, '') } : {}),
    ...(r.warehouse ? { warehouse: r.warehouse } : {}),
    database: r.database,
    schema: r.schema,
    ...(r.role ? { role: r.role } : {}),
  };
  return { info, settings };
}

/** Input of {@link saveSnowflakeConfiguration}. */
export interface SnowflakeConfigurationInput {
  userId: string;
  account: string;
  warehouse?: string | null;
  database: string;
  schema: string;
  username: string;
  /** Default SNOWFLAKE (password). */
  authenticator?: SnowflakeAuthenticator;
  /** Plain text; stored only as AES-256-GCM ciphertext. */
  secret: SnowflakeSecret;
  role?: string | null;
  accessUrl?: string | null;
}

/**
 * Store a user's configuration as the active one (an earlier active one is deactivated in the same
 * transaction). Returns the new configuration (no secret).
 */
export async function saveSnowflakeConfiguration(
  pool: pg.Pool,
  keys: SecretKeys,
  c: SnowflakeConfigurationInput,
): Promise<SnowflakeConfigurationView> {
  const authenticator = c.authenticator ?? 'SNOWFLAKE';
  const hints = secretHints(c.secret);
  return withTransaction(pool, async (client) => {
    await client.query(
      'UPDATE snowflake_configurations SET is_active = false, updated_at = now() WHERE user_id = $1 AND is_active',
      [c.userId],
    );
    const { rows } = await client.query<SnowflakeConfigurationView>(
      `INSERT INTO snowflake_configurations (user_id, account_identifier, warehouse, database, schema, username, authenticator, secret_encrypted,
         public_key_fingerprint, token_last4, role, access_url, is_active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, true) RETURNING ${CONFIG_VIEW_COLUMNS}`,
      [
        c.userId,
        c.account,
        c.warehouse ?? null,
        c.database,
        c.schema,
        c.username,
        authenticator,
        sealSecret(c.secret, keys, configBinding(c.userId, authenticator)),
        hints.public_key_fingerprint,
        hints.token_last4,
        c.role ?? null,
        c.accessUrl?.replace(/\/+$/, '') ?? null,
      ],
    );
    return rows[0];
  });
}
