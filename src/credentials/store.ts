/**
 * Named Snowflake credentials (migrations/0006_credentials.sql): floe's equivalent of Snowflake's
 * `CREATE SECRET`, named by cache sources' `credentials_ref`. The secret is stored encrypted
 * (src/secrets/crypto.ts) and leaves this module only as {@link SnowflakeSettings} for a connection;
 * every read for display returns {@link CredentialView} (no secret).
 */
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import type { SnowflakeAuthenticator, SnowflakeSettings } from '../connectors/snowflake.js';
import type { SecretBinding, SecretKeys } from '../secrets/crypto.js';
import { sealSecret, secretHints, unsealSecret, type SecretHints, type SnowflakeSecret } from './kinds.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** The table of named credentials (also the `table` of their {@link SecretBinding}). */
export const CREDENTIALS_TABLE = 'snowflake_credentials';

/** The reference that means the server's own connection (SNOWFLAKE_* variables), never a stored row. */
export const DEFAULT_CREDENTIALS_REF = 'default';

/** A named credential without its secret, as the API shows it. */
export interface CredentialView extends SecretHints {
  name: string;
  account: string;
  user: string;
  authenticator: SnowflakeAuthenticator;
  role: string | null;
  warehouse: string | null;
  database: string | null;
  schema: string | null;
  access_url: string | null;
  created_at: Date;
  rotated_at: Date | null;
}

/** What {@link createCredential} / {@link rotateCredential} store. */
export interface CredentialInput {
  name: string;
  account: string;
  user: string;
  authenticator: SnowflakeAuthenticator;
  secret: SnowflakeSecret;
  role?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  accessUrl?: string;
}

const VIEW_COLUMNS = `name, account, username AS user, authenticator, public_key_fingerprint, token_last4, role, warehouse, database, schema,
  access_url, created_at, rotated_at`;

const binding = (name: string, authenticator: string): SecretBinding => ({
  table: CREDENTIALS_TABLE,
  name,
  kind: authenticator,
});

function values(c: CredentialInput, keys: SecretKeys): unknown[] {
  const hints = secretHints(c.secret);
  return [
    c.name,
    c.account,
    c.user,
    c.authenticator,
    sealSecret(c.secret, keys, binding(c.name, c.authenticator)),
    hints.public_key_fingerprint,
    hints.token_last4,
    c.role ?? null,
    c.warehouse ?? null,
    c.database ?? null,
    c.schema ?? null,
    c.accessUrl?.replace(/\/+$/, '') ?? null,
  ];
}

/** Store a new credential. Returns null when the name is taken. */
export async function createCredential(
  db: Queryable,
  keys: SecretKeys,
  c: CredentialInput,
): Promise<CredentialView | null> {
  const { rows } = await db.query<CredentialView>(
    `INSERT INTO snowflake_credentials (name, account, username, authenticator, secret_encrypted, public_key_fingerprint, token_last4,
       role, warehouse, database, schema, access_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (name) DO NOTHING RETURNING ${VIEW_COLUMNS}`,
    values(c, keys),
  );
  return rows[0] ?? null;
}

/** Replace a credential's secret and settings (`rotated_at` = now). Returns null when it does not exist. */
export async function rotateCredential(
  db: Queryable,
  keys: SecretKeys,
  c: CredentialInput,
): Promise<CredentialView | null> {
  const { rows } = await db.query<CredentialView>(
    `UPDATE snowflake_credentials SET account = $2, username = $3, authenticator = $4, secret_encrypted = $5, public_key_fingerprint = $6,
       token_last4 = $7, role = $8, warehouse = $9, database = $10, schema = $11, access_url = $12, rotated_at = now()
     WHERE name = $1 RETURNING ${VIEW_COLUMNS}`,
    values(c, keys),
  );
  return rows[0] ?? null;
}

/** Every credential (no secrets), by name. */
export async function listCredentials(db: Queryable): Promise<CredentialView[]> {
  return (await db.query<CredentialView>(`SELECT ${VIEW_COLUMNS} FROM snowflake_credentials ORDER BY name`)).rows;
}

/** One credential (no secret), or null. */
export async function getCredential(db: Queryable, name: string): Promise<CredentialView | null> {
  const { rows } = await db.query<CredentialView>(`SELECT ${VIEW_COLUMNS} FROM snowflake_credentials WHERE name = $1`, [
    name,
  ]);
  return rows[0] ?? null;
}

/** Outcome of {@link deleteCredential}. */
export type DeleteOutcome =
  { deleted: true } | { deleted: false; reason: 'not_found' } | { deleted: false; reason: 'in_use'; sources: string[] };

/**
 * Delete a credential unless a cache source names it. The row is locked first, so a concurrent
 * rotation or deletion waits; the sources are read in the same transaction.
 */
export async function deleteCredential(pool: pg.Pool, name: string): Promise<DeleteOutcome> {
  return withTransaction(pool, async (client): Promise<DeleteOutcome> => {
    const found = await client.query('SELECT 1 FROM snowflake_credentials WHERE name = $1 FOR UPDATE', [name]);
    if (found.rowCount === 0) return { deleted: false, reason: 'not_found' };
    const users = await client.query<{ source_name: string }>(
      'SELECT source_name FROM cache_sources WHERE credentials_ref = $1 ORDER BY source_name',
      [name],
    );
    if (users.rows.length > 0)
      return { deleted: false, reason: 'in_use', sources: users.rows.map((r) => r.source_name) };
    await client.query('DELETE FROM snowflake_credentials WHERE name = $1', [name]);
    return { deleted: true };
  });
}

/**
 * A credential's connection settings, its secret decrypted (call only where a connection is opened:
 * activities, the API's test and passthrough routes). Null when it does not exist.
 * @throws SecretError when the secret does not decrypt with `keys`.
 */
export async function credentialSettings(
  db: Queryable,
  keys: SecretKeys,
  name: string,
): Promise<SnowflakeSettings | null> {
  const { rows } = await db.query<{
    account: string;
    username: string;
    authenticator: SnowflakeAuthenticator;
    secret_encrypted: string;
    role: string | null;
    warehouse: string | null;
    database: string | null;
    schema: string | null;
    access_url: string | null;
  }>(
    'SELECT account, username, authenticator, secret_encrypted, role, warehouse, database, schema, access_url FROM snowflake_credentials WHERE name = $1',
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    account: r.account,
    username: r.username,
    authenticator: r.authenticator,
    ...unsealSecret(r.secret_encrypted, keys, binding(name, r.authenticator)),
    ...(r.role !== null && { role: r.role }),
    ...(r.warehouse !== null && { warehouse: r.warehouse }),
    ...(r.database !== null && { database: r.database }),
    ...(r.schema !== null && { schema: r.schema }),
    ...(r.access_url !== null && { accessUrl: r.access_url }),
  };
}

/** Resolves a credentials reference (`default` or a stored credential's name) to Snowflake settings; undefined when unknown. */
export type CredentialResolver = (ref: string) => Promise<SnowflakeSettings | undefined>;

/**
 * The resolver of cache sources' `credentials_ref`: `default` → `serverSettings` (floe's own
 * SNOWFLAKE_* connection), another name → the stored credential. Without `keys` (no
 * FLOE_ENCRYPTION_KEY) only `default` resolves.
 */
export function credentialResolver(
  pool: pg.Pool,
  keys: SecretKeys | undefined,
  serverSettings: SnowflakeSettings,
): CredentialResolver {
  return async (ref) => {
    if (ref === DEFAULT_CREDENTIALS_REF) return serverSettings;
    if (!keys) return undefined;
    return (await credentialSettings(pool, keys, ref)) ?? undefined;
  };
}
