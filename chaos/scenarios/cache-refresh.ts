/**
 * Cache refresh under faults: a fresh Snowflake table per trial and a cache of a query over it, created
 * with a 10 s Schedule (`POST /api/v1/caches`) and refreshed through the API; a failed refresh is
 * followed by the next scheduled one. Verified by reading the cache through `POST /api/v1/query`
 * (`SELECT * FROM <cache>`, served from DuckLake) cell by cell against the query's result in Snowflake.
 */
import { CHAOS_DATABASE } from '../stack.js';
import type { ChaosStack } from '../stack.js';
import { compareRows, type Row } from '../verify.js';
import type { Scenario, StartedJob, TrialSource } from './scenario.js';
import { createGeneratedTable } from './table-sync.js';

const SCHEMA = 'CR';
const SOURCE = 'chaos';

interface CacheSource extends TrialSource {
  cache: string;
  table: string;
  query: string;
}

interface CacheView {
  state: string;
  rows: number | null;
  last_job_id: string | null;
  last_error: string | null;
}

async function refresh(stack: ChaosStack, s: CacheSource): Promise<StartedJob> {
  const route = `/api/v1/caches/${s.cache}`;
  const { job_id: id } = await stack.api.call<{ job_id: string }>('POST', `${route}/refresh`, { wait: false });
  return {
    id,
    // An `error` refresh is followed by the next scheduled one: done once the cache is ready.
    poll: async () => ((await stack.api.call<CacheView>('GET', route)).state === 'ready' ? 'completed' : 'running'),
    describe: async () => JSON.stringify(await stack.api.call('GET', route)),
  };
}

export const cacheRefresh: Scenario<CacheSource> = {
  kind: 'cache-refresh',
  rows: 50_000,
  faults: ['worker-kill', 'temporal-restart', 'emulator-faults', 'pg-terminate'],

  async prepare(stack, name, rows) {
    const table = `${CHAOS_DATABASE}.${SCHEMA}.SRC_${name}`;
    await createGeneratedTable(stack, table, rows);
    await stack.api.call('POST', '/api/v1/cache/storage', {});
    await stack.api.call('POST', '/api/v1/cache/sources', {
      source_name: SOURCE,
      driver_type: 'snowflake',
      credentials_ref: 'default',
    });
    const cache = `chaos_${name.toLowerCase()}`;
    const query = `SELECT ID, NAME, AMOUNT, NOTE FROM ${table}`;
    await stack.api.call('POST', '/api/v1/caches', {
      cache_name: cache,
      source_name: SOURCE,
      source_query: query,
      schedule_interval_seconds: 10,
    });
    return { name, rows, cache, table, query };
  },

  start: refresh,
  rerun: refresh,

  failingStatement: (s) => new RegExp(`COPY INTO @.*SRC_${s.name}`, 'is'),

  async verify(stack, s) {
    const source = await stack.snowflake.query(s.query);
    // A query naming the cache reads it from DuckLake.
    const answer = await stack.api.call<{ route: string; rows: Row[] }>('POST', '/api/v1/query', {
      sql: `SELECT * FROM ${s.cache}`,
      max_rows: 100_000,
    });
    const v = compareRows(source, answer.rows, 'ID');
    const stateWrong = answer.route === 'cache' ? [] : [`the query took the ${answer.route} route, not the cache`];
    const { rows } = await stack.pool.query<{ status: string }>(
      'SELECT status FROM cache_state WHERE cache_name = $1',
      [s.cache],
    );
    const leftovers = rows[0]?.status === 'refreshing' ? [`cache_state of ${s.cache} still 'refreshing'`] : [];
    return { ...v, stateWrong, leftovers, failedRuns: 0 };
  },

  async finish(stack, s) {
    await stack.api.call('DELETE', `/api/v1/caches/${s.cache}`);
  },
};
