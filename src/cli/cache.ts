/**
 * `floe cache ...`: the query-result cache in DuckLake. `storage` (set up / show the DuckLake storage),
 * `sources list|add`, `list`, `show <name>`, `create <name>`, `delete <name>`, `refresh <name>`
 * (exit 1 when the refresh ends in ERROR). `floe query` is in src/cli/query.ts.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { anyObject, listOf, type Runner } from './context.js';
import { EXIT } from './errors.js';
import { renderFields, renderTable } from './output.js';
import { routes } from './routes.js';
import { intervalOption, listOption, wholeNumber } from './options.js';

const CACHE_FIELDS = [
  'cache_name',
  'source_name',
  'state',
  'rows',
  'refreshed_at',
  'expires_at',
  'stale',
  'snapshot_id',
  'ttl_seconds',
  'monitor_tables',
  'last_result',
  'last_error',
  'last_job_id',
  'schedule',
  'source_query',
];

const refreshAnswer = z.looseObject({ cache_name: z.string(), job_id: z.string(), result: z.string().optional() });

interface CreateOptions {
  source: string;
  sql: string;
  monitor?: string[];
  ttl?: number;
  every?: number;
}

/** Register the `cache` command group on `program`. */
export function registerCacheCommands(program: Command, run: Runner): void {
  const cache = program.command('cache').description('query-result caches in DuckLake');

  cache
    .command('storage')
    .description('set up (idempotent) and show the DuckLake storage: catalog, data path, snapshot')
    .action(
      run(async (ctx) => {
        const r = await ctx.api('POST', routes.cache.storage, anyObject, { body: {} });
        ctx.emit(r, (d) => renderFields(d, Object.keys(d)));
      }),
    );

  const sources = cache.command('sources').description('Snowflake sources that caches read from');
  sources
    .command('list')
    .description('list cache sources')
    .action(
      run(async (ctx) => {
        const r = await ctx.api('GET', routes.cache.sources, listOf('sources'));
        ctx.emit(r, (d) =>
          renderTable(d.sources, ['source_name', 'driver_type', 'credentials_ref', 'passthrough_enabled']),
        );
      }),
    );
  sources
    .command('add')
    .description('add or update a source signing in with named credentials (floe credentials, or "default")')
    .argument('<name>')
    .requiredOption('--credentials <ref>', 'credentials name')
    .option('--passthrough', 'send queries no cache answers to Snowflake')
    .action(
      run(async (ctx, name: string, opts: { credentials: string; passthrough?: boolean }) => {
        const body = {
          source_name: name,
          driver_type: 'snowflake',
          credentials_ref: opts.credentials,
          passthrough_enabled: opts.passthrough === true,
        };
        const r = await ctx.api('POST', routes.cache.sources, z.looseObject({ source_name: z.string() }), { body });
        ctx.emit(r, (d) => `source ${d.source_name} saved`);
      }),
    );

  cache
    .command('list')
    .description('list caches with their state, rows and freshness')
    .action(
      run(async (ctx) => {
        const r = await ctx.api('GET', routes.cache.caches, listOf('caches'));
        ctx.emit(r, (d) =>
          renderTable(d.caches, ['cache_name', 'source_name', 'state', 'rows', 'refreshed_at', 'stale', 'last_result']),
        );
      }),
    );

  cache
    .command('show')
    .description('one cache: state, rows, freshness, schedule, query')
    .argument('<name>')
    .action(
      run(async (ctx, name: string) => {
        const r = await ctx.api('GET', routes.cache.cache(name), anyObject);
        ctx.emit(r, (d) => renderFields(d, CACHE_FIELDS));
      }),
    );

  cache
    .command('create')
    .description('cache the result of a SELECT on a source')
    .argument('<name>', 'letters, digits and _')
    .requiredOption('--source <name>', 'cache source')
    .requiredOption('--sql <select>', 'the SELECT whose result is cached')
    .option(
      '--monitor <tables>',
      'DB.SCHEMA.TABLE names whose changes trigger a refresh, comma-separated (default: from the query)',
      listOption,
    )
    .option('--ttl <seconds>', 'the cache expires this long after a refresh', wholeNumber)
    .option('--every <interval>', 'refresh on a schedule: seconds, or 15m, 1h, 1d', intervalOption)
    .action(
      run(async (ctx, name: string, opts: CreateOptions) => {
        const body = {
          cache_name: name,
          source_name: opts.source,
          source_query: opts.sql,
          ...(opts.monitor ? { monitor_tables: opts.monitor } : {}),
          ...(opts.ttl !== undefined ? { ttl_seconds: opts.ttl } : {}),
          ...(opts.every !== undefined ? { schedule_interval_seconds: opts.every } : {}),
        };
        const r = await ctx.api('POST', routes.cache.caches, anyObject, { body });
        ctx.emit(r, (d) => `created cache ${String(d.cache_name)}\n${renderFields(d, CACHE_FIELDS)}`);
      }),
    );

  cache
    .command('delete')
    .description('delete a cache, its schedule and its rows')
    .argument('<name>')
    .action(
      run(async (ctx, name: string) => {
        const r = await ctx.api('DELETE', routes.cache.cache(name), z.looseObject({ cache_name: z.string() }));
        ctx.emit(r, (d) => `deleted cache ${d.cache_name}`);
      }),
    );

  cache
    .command('refresh')
    .description('refresh a cache now if its sources changed (--force: always); exit 1 when it ends in ERROR')
    .argument('<name>')
    .option('--force', 'refresh even when nothing changed')
    .option('--no-wait', 'return once the refresh job started')
    .action(
      run(async (ctx, name: string, opts: { force?: boolean; wait: boolean }) => {
        const r = await ctx.api('POST', routes.cache.refresh(name), refreshAnswer, {
          body: { force: opts.force === true, wait: opts.wait },
        });
        ctx.emit(r, (d) =>
          d.result === undefined
            ? `refresh of ${d.cache_name} started: job ${d.job_id}`
            : `${d.cache_name}: ${d.result}\n${renderFields(d, ['message', 'rows_refreshed', 'duration_ms', 'snapshot_id', 'job_id'])}`,
        );
        return r.result === 'ERROR' ? EXIT.failed : EXIT.ok;
      }),
    );
}
