/**
 * API users (migrations/0005_api_users.sql): accounts an admin creates besides the bootstrap admin of
 * the configuration (ADMIN_USERNAME / ADMIN_PASSWORD), each with a role — `admin` (every route) or
 * `user` (bound to one execution-upload `user_id`, sees only that user's data).
 *
 * Passwords are stored only as scrypt hashes (node:crypto): `scrypt$<N>$<r>$<p>$<salt>$<hash>` with a
 * random 16-byte salt per user and the cost parameters next to the hash, so raising the cost later
 * leaves existing hashes verifiable. scrypt's memory use is 128·N·r bytes (32 MiB for the defaults);
 * Node refuses more than `maxmem` (32 MiB by default), so the limit is passed explicitly.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type pg from 'pg';

/** The roles of the API: `admin` (every route) or `user` (its own execution-upload data). */
export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** Cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds per hash). */
const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function scryptAsync(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password with a fresh salt and the current cost: `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, SCRYPT_COST);
  const { N, r, p } = SCRYPT_COST;
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** A hash of a random password, verified against when the username is unknown so timing says nothing. */
const dummyHash = hashPassword(randomBytes(16).toString('hex'));

/**
 * True when `password` matches `stored` (constant-time comparison). With `stored` null (no such user)
 * a dummy hash is computed anyway and false returned. A malformed `stored` value is false.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? (await dummyHash)).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64');
  const actual = await scryptAsync(password, Buffer.from(parts[4]!, 'base64'), { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected) && stored !== null;
}

/** An API user as the API shows it (never the hash). */
export interface ApiUser {
  username: string;
  role: Role;
  user_id: string | null;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS = 'username, role, user_id, disabled_at IS NOT NULL AS disabled, created_at, updated_at';

/** Create a user; returns null when the username is taken. */
export async function createUser(
  db: Queryable,
  u: { username: string; password: string; role: Role; userId: string | null },
): Promise<ApiUser | null> {
  const { rows } = await db.query<ApiUser>(
    `INSERT INTO api_users (username, password_hash, role, user_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (username) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [u.username, await hashPassword(u.password), u.role, u.userId],
  );
  return rows[0] ?? null;
}

/** Every user, by username. */
export async function listUsers(db: Queryable): Promise<ApiUser[]> {
  return (await db.query<ApiUser>(`SELECT ${USER_COLUMNS} FROM api_users ORDER BY username`)).rows;
}

/** One user (null when unknown). */
export async function getUser(db: Queryable, username: string): Promise<ApiUser | null> {
  return (
    (await db.query<ApiUser>(`SELECT ${USER_COLUMNS} FROM api_users WHERE username = $1`, [username])).rows[0] ?? null
  );
}

/** What sign-in needs: hash, role, binding and whether the user is disabled (null when unknown). */
export async function credentialsOf(
  db: Queryable,
  username: string,
): Promise<{ hash: string; role: Role; userId: string | null; disabled: boolean } | null> {
  const { rows } = await db.query<{ password_hash: string; role: Role; user_id: string | null; disabled: boolean }>(
    'SELECT password_hash, role, user_id, disabled_at IS NOT NULL AS disabled FROM api_users WHERE username = $1',
    [username],
  );
  const r = rows[0];
  return r ? { hash: r.password_hash, role: r.role, userId: r.user_id, disabled: r.disabled } : null;
}

/**
 * Change a user's password and/or disabled state. Returns the updated user, or null when unknown.
 * The caller revokes the user's tokens ({@link revokeTokensOf}).
 */
export async function updateUser(
  db: Queryable,
  username: string,
  change: { password?: string; disabled?: boolean },
): Promise<ApiUser | null> {
  const hash = change.password === undefined ? null : await hashPassword(change.password);
  const { rows } = await db.query<ApiUser>(
    `UPDATE api_users
        SET password_hash = COALESCE($2, password_hash),
            disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at WHEN $3 THEN COALESCE(disabled_at, now()) END,
            updated_at = now()
      WHERE username = $1 RETURNING ${USER_COLUMNS}`,
    [username, hash, change.disabled ?? null],
  );
  return rows[0] ?? null;
}

/** Delete a user; false when unknown. */
export async function deleteUser(db: Queryable, username: string): Promise<boolean> {
  return ((await db.query('DELETE FROM api_users WHERE username = $1', [username])).rowCount ?? 0) > 0;
}

/** Revoke every unrevoked token of `subject` except `keepTokenId`; returns how many were revoked. */
export async function revokeTokensOf(db: Queryable, subject: string, keepTokenId?: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE tokens SET revoked_at = now() WHERE subject = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR token_id <> $2::uuid)`,
    [subject, keepTokenId ?? null],
  );
  return rowCount ?? 0;
}
