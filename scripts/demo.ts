/**
 * `npm run demo`: the main job (table sync, Snowflake → DuckDB) end to end on the
 * embedded default, driven only through floe's HTTP API, the way a user would run it:
 *
 * 1. start the stack (PostgreSQL, Temporal + Web UI, the Snowflake emulator seeded with TPC-H SF1,
 *    the worker and the API — src/infra/stack.ts);
 * 2. get a token, list `SNOWFLAKE_SAMPLE_DATA.TPCH_SF1`, register and full-sync LINEITEM (6,001,215 rows);
 * 3. create `FLOE_DEMO.SALES.ORDERS`, a writable copy of TPCH_SF1.ORDERS with an `O_UPDATED_AT`
 *    watermark column (the sample share is read-only on Snowflake, and TPC-H has no change column),
 *    register it with primary key O_ORDERKEY, and full-sync it;
 * 4. insert new and update existing ORDERS rows in Snowflake, then run an incremental sync and check it
 *    read exactly those rows and that DuckDB now matches;
 * 5. print rows, seconds, rows/s, transfer method and job ids, the DuckDB path and the Temporal UI, and
 *    stop everything it started.
 *
 * Exits non-zero when any step fails or a check does not hold.
 */
import { startStack, type Stack } from '../src/infra/stack.js';
import { processEnv } from '../src/config.js';
import { withSnowflake } from '../src/connectors/snowflake.js';
import { withDuckDb } from '../src/connectors/duckdb.js';
import type { TableSyncResult } from '../src/jobs/tableSync.js';

const NEW_ORDERS = 1_000;
const UPDATED_ORDERS = 500;

interface JobView {
  job_id: string;
  status: string;
  error?: string | null;
  stats?: TableSyncResult | null;
}

class Api {
  private token = '';
  constructor(private readonly base: string) {}

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`login failed: HTTP ${res.status} ${JSON.stringify(body)}`);
    this.token = body.access_token;
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Start a sync and poll `GET /sync/jobs/{id}` until it ends; throws unless it completed. */
  async sync(
    table: { database_name: string; schema_name: string; table_name: string },
    strategy: 'full' | 'incremental',
    extra: Record<string, unknown> = {},
  ): Promise<JobView> {
    const started = await this.call<{ job_id: string }>('POST', '/sync/start', { ...table, strategy, ...extra });
    process.stdout.write(`  job ${started.job_id} `);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const job = await this.call<JobView>('GET', `/sync/jobs/${encodeURIComponent(started.job_id)}`);
      if (job.status === 'completed') {
        process.stdout.write('\n');
        return job;
      }
      if (job.status === 'failed' || job.status === 'cancelled') {
        process.stdout.write('\n');
        throw new Error(`job ${job.job_id} ${job.status}: ${job.error ?? 'no error message'}`);
      }
      process.stdout.write('.');
    }
  }
}

function report(label: string, job: JobView): void {
  const s = job.stats;
  if (!s) throw new Error(`job ${job.job_id} completed without stats`);
  const seconds = s.durationMs / 1000;
  const rate = seconds > 0 ? Math.round(s.rowsRead / seconds) : 0;
  const n = (x: number) => x.toLocaleString('en-US');
  console.log(
    `  ${label}: ${n(s.rowsRead)} rows read, ${n(s.rowsInserted)} inserted, ${n(s.rowsUpdated)} updated, ${n(s.rowsInTarget)} in DuckDB ${s.target}, ` +
      `${seconds.toFixed(1)} s, ${n(rate)} rows/s, method ${s.method}` +
      (s.watermark ? `, high-water mark ${s.watermark}` : ''),
  );
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`  ok: ${what}`);
}

async function main(): Promise<void> {
  console.log('floe demo — table sync, Snowflake → DuckDB, on Temporal\n');
  console.log('Starting the stack (the first run seeds TPC-H SF1 into the emulator; later runs reuse it) ...');
  const t0 = Date.now();
  let stack: Stack | undefined;
  try {
    // Quiet request logs unless the user asks for them (LOG_LEVEL=info npm run demo).
    stack = await startStack({ seedTpch: 1, env: { LOG_LEVEL: 'warn', ...processEnv() } });
    const { config, urls } = stack;
    console.log(
      `  up in ${((Date.now() - t0) / 1000).toFixed(1)} s: API ${urls.api}, Snowflake ${urls.snowflake}, Temporal ${urls.temporal}`,
    );
    if (!urls.api) throw new Error('the API did not start');
    for (const note of stack.notes) console.log(`  note: ${note}`);

    const api = new Api(urls.api);
    await api.login(config.api.adminUsername, config.api.adminPassword);

    const sample = { database_name: 'SNOWFLAKE_SAMPLE_DATA', schema_name: 'TPCH_SF1' };
    const listing = await api.call<{ tables: { name: string; rows: number }[] }>(
      'GET',
      '/sync/tables/TPCH_SF1?database=SNOWFLAKE_SAMPLE_DATA',
    );
    console.log(
      `\nSNOWFLAKE_SAMPLE_DATA.TPCH_SF1: ${listing.tables.map((t) => `${t.name} (${Number(t.rows).toLocaleString('en-US')})`).join(', ')}`,
    );

    console.log('\n1. Full sync of SNOWFLAKE_SAMPLE_DATA.TPCH_SF1.LINEITEM');
    const lineitem = { ...sample, table_name: 'LINEITEM' };
    await api.call('POST', '/sync/tables/register', { ...lineitem, primary_key: ['L_ORDERKEY', 'L_LINENUMBER'] });
    const li = await api.sync(lineitem, 'full');
    report('LINEITEM', li);
    check(li.stats?.rowsInTarget === 6_001_215, 'DuckDB LINEITEM holds 6,001,215 rows');

    console.log(
      '\n2. Full sync of ORDERS (FLOE_DEMO.SALES.ORDERS: TPCH_SF1.ORDERS plus an O_UPDATED_AT watermark column)',
    );
    await withSnowflake(config.snowflake, async (sf) => {
      await sf.query('CREATE DATABASE IF NOT EXISTS FLOE_DEMO');
      await sf.query('CREATE SCHEMA IF NOT EXISTS FLOE_DEMO.SALES');
      await sf.query(
        `CREATE OR REPLACE TABLE FLOE_DEMO.SALES.ORDERS AS
           SELECT *, DATEADD(second, O_ORDERKEY % 86400, O_ORDERDATE::TIMESTAMP_NTZ) AS O_UPDATED_AT
           FROM SNOWFLAKE_SAMPLE_DATA.TPCH_SF1.ORDERS`,
      );
    });
    const orders = { database_name: 'FLOE_DEMO', schema_name: 'SALES', table_name: 'ORDERS' };
    await api.call('POST', '/sync/tables/register', {
      ...orders,
      primary_key: 'O_ORDERKEY',
      watermark_column: 'O_UPDATED_AT',
    });
    const full = await api.sync(orders, 'full');
    report('ORDERS', full);
    check(full.stats?.rowsInTarget === 1_500_000, 'DuckDB ORDERS holds 1,500,000 rows');

    console.log(
      `\n3. ${NEW_ORDERS.toLocaleString('en-US')} new and ${UPDATED_ORDERS} updated ORDERS rows written in Snowflake`,
    );
    // The incremental bound is inclusive (rows tied on the high-water mark are re-read, MERGE makes
    // that harmless), so the rows it reads are the changed ones plus those ties.
    const ties = await withSnowflake(config.snowflake, async (sf) => {
      const [row] = await sf.query<{ N: string }>(
        `SELECT COUNT(*) AS N FROM FLOE_DEMO.SALES.ORDERS WHERE O_UPDATED_AT = (SELECT MAX(O_UPDATED_AT) FROM FLOE_DEMO.SALES.ORDERS)`,
      );
      return Number(row.N);
    });
    await withSnowflake(config.snowflake, async (sf) => {
      // New orders: keys past the largest TPC-H key (6,000,000), stamped now.
      await sf.query(
        `INSERT INTO FLOE_DEMO.SALES.ORDERS
           SELECT O_ORDERKEY + 10000000, O_CUSTKEY, 'O', O_TOTALPRICE, CURRENT_DATE(), O_ORDERPRIORITY, O_CLERK,
                  O_SHIPPRIORITY, 'new order written by the floe demo', CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
           FROM FLOE_DEMO.SALES.ORDERS ORDER BY O_ORDERKEY LIMIT ${NEW_ORDERS}`,
      );
      // Updated orders: an existing order's status changes and its watermark moves.
      await sf.query(
        `UPDATE FLOE_DEMO.SALES.ORDERS
            SET O_ORDERSTATUS = 'F', O_COMMENT = 'updated by the floe demo', O_UPDATED_AT = CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
          WHERE O_ORDERKEY IN (SELECT O_ORDERKEY FROM FLOE_DEMO.SALES.ORDERS WHERE O_ORDERKEY < 10000000 ORDER BY O_ORDERKEY DESC LIMIT ${UPDATED_ORDERS})`,
      );
    });

    console.log('\n4. Incremental sync of ORDERS (rows past the high-water mark, MERGE on O_ORDERKEY)');
    const inc = await api.sync(orders, 'incremental', { lag_seconds: 0 });
    report('ORDERS incremental', inc);
    check(
      inc.stats?.rowsRead === NEW_ORDERS + UPDATED_ORDERS + ties,
      `the incremental sync read exactly the ${NEW_ORDERS + UPDATED_ORDERS} new and updated rows (+ ${ties} row(s) tied on the previous high-water mark)`,
    );
    check(
      inc.stats?.rowsInserted === NEW_ORDERS && inc.stats?.rowsUpdated === UPDATED_ORDERS + ties,
      `it inserted the ${NEW_ORDERS.toLocaleString('en-US')} new rows and updated the ${UPDATED_ORDERS} changed ones (+ the ${ties} tie(s))`,
    );
    check(
      inc.stats?.rowsInTarget === 1_500_000 + NEW_ORDERS,
      `DuckDB ORDERS holds ${(1_500_000 + NEW_ORDERS).toLocaleString('en-US')} rows`,
    );
    // The target is the registration's: "FLOE_DEMO__SALES"."ORDERS" by default (<DATABASE>__<SCHEMA>),
    // or "SALES"."ORDERS" for a registration made before targets were recorded (migrations/0007).
    const updatedInDuck = await withDuckDb(config.duckdbPath, async (conn) => {
      const r = await conn.runAndReadAll(
        `SELECT count(*) FROM ${inc.stats!.target} WHERE O_COMMENT = 'updated by the floe demo' AND O_ORDERSTATUS = 'F'`,
      );
      return Number(r.getRows()[0][0]);
    });
    check(updatedInDuck === UPDATED_ORDERS, `the ${UPDATED_ORDERS} updated rows carry their new values in DuckDB`);

    console.log('\nJobs (Temporal workflow ids; history in the Web UI or `temporal workflow show -w <id>`):');
    for (const [label, job] of [
      ['LINEITEM full', li],
      ['ORDERS full', full],
      ['ORDERS incremental', inc],
    ] as const) {
      console.log(`  ${label.padEnd(20)} ${job.job_id}`);
    }
    console.log(`\nDuckDB file:      ${config.duckdbPath}  (open it with the duckdb CLI once the stack is stopped)`);
    console.log(`DuckDB tables:    ${li.stats!.target} and ${inc.stats!.target}`);
    console.log(`Temporal Web UI:  ${urls.temporalUi ?? '(disabled)'}  (only while the stack runs: \`npm run stack\`)`);
    console.log(
      `Temporal CLI:     .floe/venv/bin/temporal workflow list --address ${urls.temporal} --query "FloeJobKind='table_sync'"`,
    );
    console.log(`\nDemo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  } finally {
    if (stack) {
      console.log('Stopping the stack ...');
      await stack.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
