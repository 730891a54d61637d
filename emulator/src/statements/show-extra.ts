/**
 * SHOW forms beyond the catalog listings of show.ts, with the columns Snowflake documents for each (Output
 * sections of "SHOW WAREHOUSES", "SHOW PRIMARY KEYS", "SHOW UNIQUE KEYS", "SHOW IMPORTED KEYS"):
 * - `SHOW WAREHOUSES [LIKE '...']` lists the one warehouse every session runs on (`COMPUTE_WH`, the name the
 *   login response and CURRENT_WAREHOUSE() give). Tools read it at sign-in (Sling takes the first row's `name`).
 * - `SHOW PRIMARY | UNIQUE | IMPORTED KEYS [IN ...]` answer no rows: Snowflake records these constraints
 *   without enforcing them, and the emulator accepts them in CREATE TABLE but does not record them
 *   (SQLAlchemy's Snowflake dialect asks for them when it reflects a table).
 */
import type { StatementOutcome } from '../contract.js';
import { fixedColumn, ltzCell, ltzColumn, StatementType, textColumn } from '../columns.js';

/** The emulator's one warehouse. */
const WAREHOUSE_NAME = 'COMPUTE_WH';

/** When this emulator process started: the warehouse's `created_on`, `resumed_on` and `updated_on`. */
const STARTED = new Date().toISOString();

/** `SHOW WAREHOUSES`: one started X-Small standard warehouse, current and default, when `matches` accepts its name. */
export function showWarehouses(matches: (name: string) => boolean): StatementOutcome {
  const columns = [
    textColumn('name', true),
    textColumn('state', true),
    textColumn('type', true),
    textColumn('size', true),
    fixedColumn('min_cluster_count', true),
    fixedColumn('max_cluster_count', true),
    fixedColumn('started_clusters', true),
    fixedColumn('running', true),
    fixedColumn('queued', true),
    textColumn('is_default', true),
    textColumn('is_current', true),
    fixedColumn('auto_suspend', true),
    textColumn('auto_resume', true),
    textColumn('available', true),
    textColumn('provisioning', true),
    textColumn('quiescing', true),
    textColumn('other', true),
    ltzColumn('created_on'),
    ltzColumn('resumed_on'),
    ltzColumn('updated_on'),
    textColumn('owner', true),
    textColumn('comment', true),
    textColumn('resource_monitor', true),
    textColumn('scaling_policy', true),
  ];
  const at = ltzCell(STARTED);
  const row = [
    WAREHOUSE_NAME,
    'STARTED',
    'STANDARD',
    'X-Small',
    '1',
    '1',
    '1',
    '0',
    '0',
    'Y',
    'Y',
    '600',
    'true',
    '100',
    '0',
    '0',
    '0',
    at,
    at,
    at,
    'ACCOUNTADMIN',
    '',
    'null',
    'STANDARD',
  ];
  return {
    kind: 'rows',
    columns,
    rows: matches(WAREHOUSE_NAME) ? [row] : [],
    statementTypeId: StatementType.SESSION,
  };
}

/** Columns of SHOW PRIMARY KEYS and SHOW UNIQUE KEYS. */
const KEY_COLUMNS = [
  'database_name',
  'schema_name',
  'table_name',
  'column_name',
  'key_sequence',
  'constraint_name',
  'rely',
  'comment',
];

/** Columns of SHOW IMPORTED KEYS (foreign keys). */
const IMPORTED_KEY_COLUMNS = [
  'pk_database_name',
  'pk_schema_name',
  'pk_table_name',
  'pk_column_name',
  'fk_database_name',
  'fk_schema_name',
  'fk_table_name',
  'fk_column_name',
  'key_sequence',
  'update_rule',
  'delete_rule',
  'fk_name',
  'pk_name',
  'deferrability',
  'rely',
  'comment',
];

/** `SHOW PRIMARY | UNIQUE | IMPORTED KEYS`: the documented columns and no rows (constraints are not recorded). */
export function showKeys(kind: 'PRIMARY' | 'UNIQUE' | 'IMPORTED'): StatementOutcome {
  const names = kind === 'IMPORTED' ? IMPORTED_KEY_COLUMNS : KEY_COLUMNS;
  const columns = [
    ltzColumn('created_on'),
    ...names.map((n) => (n === 'key_sequence' ? fixedColumn(n, true) : textColumn(n, true))),
  ];
  return { kind: 'rows', columns, rows: [], statementTypeId: StatementType.SESSION };
}
