/**
 * Names of table sync runs and Schedules as Temporal sees them: job ids, Schedule ids, the
 * `FloeTable` / `FloeTarget` values, the search attributes and memo a run starts with, and the
 * visibility query that lists runs. Pure functions, shared by the client and the API.
 */
import { randomBytes } from 'node:crypto';
import { jobStatusAttributes, SEARCH_ATTRIBUTES, type FloeJobStatus } from '../common.js';
import { quoteDuckDbName } from '../../sql/quote.js';
import { TABLE_SYNC_JOB_KIND, TABLE_SYNC_WORKFLOW, type TableSyncInput } from './contract.js';

/** `DB.SCHEMA.TABLE` as stored in the FloeTable search attribute (names as Snowflake stores them). */
export function qualifiedTableName(t: { database: string; schema: string; table: string }): string {
  return `${t.database}.${t.schema}.${t.table}`;
}

/** A DuckDB target as the FloeTarget search attribute and job listings show it: `"SCHEMA"."TABLE"`, quoted. */
export function targetKey(t: { schema: string; table: string }): string {
  return quoteDuckDbName(t.schema, t.table);
}

/** Characters kept in ids; anything else (quotes, spaces, slashes) becomes `_` so ids stay URL- and CLI-friendly. */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_$]/g, '_');
}

/** Schedule id of a table's sync Schedule (one per table): `tableSync-<DB>.<SCHEMA>.<TABLE>`. */
export function tableSyncScheduleId(t: { database: string; schema: string; table: string }): string {
  return `${TABLE_SYNC_WORKFLOW}-${idPart(t.database)}.${idPart(t.schema)}.${idPart(t.table)}`;
}

/**
 * Job id for a run started now: `tableSync-<DB>.<SCHEMA>.<TABLE>-<yyyymmddHHMMss>-<4 hex>` (UTC).
 * Readable (names the table), sortable by start time, unique thanks to the random suffix.
 */
export function tableSyncJobId(t: { database: string; schema: string; table: string }, now: Date = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${tableSyncScheduleId(t)}-${ts}-${randomBytes(2).toString('hex')}`;
}

/** Escape a value for a single-quoted string in a Temporal visibility query. */
export function visibilityString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The search attributes a run starts with (status `pending` until the workflow's first step). */
export function startAttributes(input: TableSyncInput, status: FloeJobStatus) {
  return jobStatusAttributes('table-sync', {
    subject: qualifiedTableName(input),
    status,
    strategy: input.strategy,
    ...(input.target ? { target: targetKey(input.target) } : {}),
  });
}

/** The memo of a run: what listings show without decoding the input (names only, never credentials). */
export function memoFor(input: TableSyncInput): Record<string, unknown> {
  return {
    tableId: input.tableId,
    database: input.database,
    schema: input.schema,
    table: input.table,
    ...(input.target ? { target: targetKey(input.target) } : {}),
    strategy: input.strategy,
    method: input.method,
  };
}

/** Job status as the API reports it. */
export type JobStatus = FloeJobStatus;

/** Filter of a job listing. */
export interface JobFilter {
  /** `DB.SCHEMA.TABLE`. */
  table?: string;
  status?: JobStatus;
  /** Max jobs returned (default 50). */
  limit?: number;
}

/** The visibility query that lists table sync runs matching `filter`. */
export function listJobsQuery(filter: JobFilter): string {
  const parts = [`${SEARCH_ATTRIBUTES.jobKind} = ${visibilityString(TABLE_SYNC_JOB_KIND)}`];
  if (filter.table) parts.push(`${SEARCH_ATTRIBUTES.table} = ${visibilityString(filter.table)}`);
  switch (filter.status) {
    case 'pending':
      parts.push(`ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.status} = 'pending'`);
      break;
    case 'running':
      parts.push(`ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.status} != 'pending'`);
      break;
    case 'completed':
      parts.push(`ExecutionStatus = 'Completed'`);
      break;
    case 'failed':
      parts.push(`(ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut')`);
      break;
    case 'cancelled':
      parts.push(`(ExecutionStatus = 'Canceled' OR ExecutionStatus = 'Terminated')`);
      break;
  }
  return parts.join(' AND ');
}

/**
 * The visibility query of running table syncs of source `t` or into `target`: at most one runs per
 * table and per target.
 */
export function runningJobQuery(
  t: { database: string; schema: string; table: string },
  target?: { schema: string; table: string },
): string {
  const same =
    `${SEARCH_ATTRIBUTES.table} = ${visibilityString(qualifiedTableName(t))}` +
    (target ? ` OR ${SEARCH_ATTRIBUTES.target} = ${visibilityString(targetKey(target))}` : '');
  return `${SEARCH_ATTRIBUTES.jobKind} = ${visibilityString(TABLE_SYNC_JOB_KIND)} AND (${same}) AND ExecutionStatus = 'Running'`;
}
