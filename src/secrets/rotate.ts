/**
 * Key rotation of every stored secret: re-encrypt each encrypted column ({@link ENCRYPTED_COLUMNS})
 * from the previous key to the current one (`FLOE_ENCRYPTION_KEY_PREVIOUS` → `FLOE_ENCRYPTION_KEY`),
 * and rewrite v1 values in the v2 form, in ONE transaction: a run that stops half-way (crash, a failing
 * update, a value that decrypts under neither key) rolls back and leaves every value as it was, readable
 * with the keys it was readable with before. Re-runnable: a value already under the current key (its key
 * id says so) is left alone, so a second run rewrites nothing.
 */
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { encryptSecret, openSecret, SecretError, type SecretKeys } from './crypto.js';

/** A column holding secrets, and how its rows bind them ({@link SecretBinding}). */
export interface EncryptedColumn {
  table: string;
  /** Primary key column (the UPDATE's row). */
  id: string;
  /** Column whose value is the binding's `name`. */
  name: string;
  /** Column whose value is the binding's `kind`. */
  kind: string;
  /** The encrypted column. */
  column: string;
  /** How a v1 value's plain text becomes the v2 plain text (v1 held a bare password). */
  upgradeLegacy?: (plain: string) => string;
}

/** Every encrypted column in floe's control-plane database. */
export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'snowflake_credentials', id: 'name', name: 'name', kind: 'authenticator', column: 'secret_encrypted' },
  {
    table: 'snowflake_configurations',
    id: 'id',
    name: 'user_id',
    kind: 'authenticator',
    column: 'secret_encrypted',
    upgradeLegacy: (plain) => JSON.stringify({ password: plain }),
  },
];

/** Per table: values rewritten under the current key, and values that already were. */
export type RotationSummary = Record<string, { reencrypted: number; current: number }>;

/**
 * Re-encrypt every stale value under `keys.current` in one transaction (rows locked FOR UPDATE).
 * @throws SecretError naming the table and row (never the value) when a value decrypts under neither
 *   key; any database error. Either way nothing was changed.
 */
export async function rotateSecrets(
  pool: pg.Pool,
  keys: SecretKeys,
  columns: readonly EncryptedColumn[] = ENCRYPTED_COLUMNS,
): Promise<RotationSummary> {
  return withTransaction(pool, async (client) => {
    const summary: RotationSummary = {};
    for (const c of columns) {
      const counts = (summary[c.table] = { reencrypted: 0, current: 0 });
      const { rows } = await client.query<{ id: string; name: string; kind: string; value: string }>(
        `SELECT ${c.id}::text AS id, ${c.name}::text AS name, ${c.kind}::text AS kind, ${c.column} AS value FROM ${c.table} ORDER BY 1 FOR UPDATE`,
      );
      for (const r of rows) {
        const binding = { table: c.table, name: r.name, kind: r.kind };
        let opened;
        try {
          opened = openSecret(r.value, keys, binding);
        } catch (err) {
          throw new SecretError(`${c.table} row ${r.id}: ${(err as Error).message}`);
        }
        if (!opened.stale) {
          counts.current++;
          continue;
        }
        const plain = opened.legacy && c.upgradeLegacy ? c.upgradeLegacy(opened.plain) : opened.plain;
        await client.query(`UPDATE ${c.table} SET ${c.column} = $2 WHERE ${c.id}::text = $1`, [
          r.id,
          encryptSecret(plain, keys, binding),
        ]);
        counts.reencrypted++;
      }
    }
    return summary;
  });
}
