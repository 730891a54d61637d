/**
 * Named row transforms for the watermark sync (config `transform: <name>`), registered in code.
 *
 * A transform receives one source row — column name → value as PostgreSQL text (or null) — and
 * returns the row to load (same or new columns, values as text or null), or `null` to skip the row.
 * It runs in the batch activity, after the read and before staging, so it must be pure and fast.
 * Columns it adds must exist in the Snowflake target; declare them in `addsColumns` so the begin
 * activity can check and plan them before any row is read.
 *
 * For per-column rewrites that PostgreSQL can compute, prefer the SQL form
 * (`transform: {sql: {COLUMN: "lower(email)"}}`): it costs nothing in JS.
 */
import { floeError, NonRetryable } from '../../errors.js';

/** One row in text form. */
export type TextRow = Record<string, string | null>;

/** A registered transform. */
export interface RowTransform {
  name: string;
  fn: (row: TextRow) => TextRow | null;
  /** Columns the function adds to every row (besides the source's). */
  addsColumns?: string[];
  /** Source columns the function removes from every row. */
  dropsColumns?: string[];
}

const registry = new Map<string, RowTransform>();

/** Register (or replace) a named transform. Throws on an invalid name. */
export function registerTransform(t: RowTransform): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(t.name))
    throw new Error(`invalid transform name ${JSON.stringify(t.name)}`);
  registry.set(t.name, t);
}

/** True when `name` is registered. */
export function hasTransform(name: string): boolean {
  return registry.has(name);
}

/** The registered transform, or throws an InvalidRequest error naming it. */
export function getTransform(name: string): RowTransform {
  const t = registry.get(name);
  if (!t)
    throw floeError(NonRetryable.InvalidRequest, `no transform function named ${JSON.stringify(name)} is registered`);
  return t;
}

// Built-ins: small, generally useful ones. Applications register their own at worker start-up.

/** Trims surrounding white space from every text value. */
registerTransform({
  name: 'trim_strings',
  fn: (row) => {
    const out: TextRow = {};
    for (const [k, v] of Object.entries(row)) out[k] = v === null ? null : v.trim();
    return out;
  },
});

/** Lower-cases an `email` column when present. */
registerTransform({
  name: 'lowercase_email',
  fn: (row) => ('email' in row ? { ...row, email: row.email === null ? null : row.email.toLowerCase() } : row),
});
