/**
 * `floe query "<sql>" [--format table|csv|json]`: run a SELECT through floe's query router (answered from
 * a cache when one covers it, else passed through to Snowflake when the source allows it). The table
 * format adds a line saying which route answered; `csv` is the rows only; `json` (or `--json`) the API's
 * whole answer.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import type { Runner } from './context.js';
import { cellText, renderTable, toCsv, toJson } from './output.js';
import { routes } from './routes.js';
import { wholeNumber } from './options.js';

const queryAnswer = z.looseObject({
  route: z.string(),
  reason: z.string().optional(),
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())),
  truncated: z.boolean().optional(),
  duration_ms: z.number().optional(),
});

interface QueryOptions {
  format: 'table' | 'csv' | 'json';
  maxStaleness?: number;
  snapshot?: number;
  source?: string;
  maxRows?: number;
}

/** Register `query` on `program`. */
export function registerQueryCommand(program: Command, run: Runner): void {
  program
    .command('query')
    .description('run a SELECT, from a cache when one covers it')
    .argument('<sql>')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--max-staleness <seconds>', 'refuse (409) caches refreshed longer ago than this', wholeNumber)
    .option('--snapshot <id>', 'read this DuckLake snapshot (time travel)', wholeNumber)
    .option('--source <name>', 'cache source to pass through to')
    .option('--max-rows <n>', 'at most this many rows (1..100000)', wholeNumber)
    .action(
      run(async (ctx, sql: string, opts: QueryOptions) => {
        const body = {
          sql,
          ...(opts.maxStaleness !== undefined ? { max_staleness_seconds: opts.maxStaleness } : {}),
          ...(opts.snapshot !== undefined ? { snapshot: opts.snapshot } : {}),
          ...(opts.source ? { source_name: opts.source } : {}),
          ...(opts.maxRows !== undefined ? { max_rows: opts.maxRows } : {}),
        };
        const r = await ctx.api('POST', routes.cache.query, queryAnswer, { body });
        const format = ctx.json ? 'json' : opts.format;
        if (format === 'json') ctx.io.out(`${toJson(r)}\n`);
        else if (format === 'csv') ctx.io.out(toCsv(r.rows, r.columns));
        else {
          ctx.io.out(`${renderTable(r.rows, r.columns)}\n`);
          ctx.io.err(
            `route: ${r.route}${r.reason ? ` (${r.reason})` : ''}${r.truncated ? ', truncated' : ''}${r.duration_ms !== undefined ? `, ${cellText(r.duration_ms)} ms` : ''}\n`,
          );
        }
      }),
    );
}
