/**
 * `floe tables list <[DATABASE.]SCHEMA>`, `floe tables register <[DATABASE.]SCHEMA.TABLE>`,
 * `floe tables status <[DATABASE.]SCHEMA.TABLE>`: Snowflake tables and their registrations for table sync.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { anyObject, type Runner } from './context.js';
import { renderFields, renderTable } from './output.js';
import { listOption, parseSchemaName, parseTableName } from './options.js';
import { routes } from './routes.js';

const tableList = z.looseObject({
  database: z.string(),
  schema: z.string(),
  tables: z.array(z.looseObject({ name: z.string() })),
});

const registration = z.looseObject({
  database_name: z.string(),
  schema_name: z.string(),
  table_name: z.string(),
  created: z.boolean(),
});

interface RegisterOptions {
  primaryKey?: string[];
  watermark?: string;
  targetSchema?: string;
  targetTable?: string;
}

/** Register the `tables` command group on `program`. */
export function registerTableCommands(program: Command, run: Runner): void {
  const tables = program.command('tables').description('Snowflake tables and their table sync registrations');

  tables
    .command('list')
    .description('list the tables of a Snowflake schema with rows, bytes and last change')
    .argument('<schema>', 'DATABASE.SCHEMA, or SCHEMA in the server’s SNOWFLAKE_DATABASE')
    .action(
      run(async (ctx, schema: string) => {
        const s = parseSchemaName(schema);
        const r = await ctx.api('GET', routes.tables.list(s.schema), tableList, { query: { database: s.database } });
        ctx.emit(
          r,
          (d) =>
            `${d.database}.${d.schema}\n${renderTable(d.tables, ['name', 'kind', 'rows', 'bytes', 'last_altered'])}`,
        );
      }),
    );

  tables
    .command('register')
    .description('register a table for table sync (again to change its keys or target)')
    .argument('<table>', 'DATABASE.SCHEMA.TABLE or SCHEMA.TABLE')
    .option('--primary-key <columns>', 'primary key column(s), comma-separated', listOption)
    .option('--watermark <column>', 'watermark column for incremental syncs')
    .option('--target-schema <name>', 'DuckDB schema to write (default DATABASE__SCHEMA)')
    .option('--target-table <name>', 'DuckDB table to write (default the table name)')
    .action(
      run(async (ctx, table: string, opts: RegisterOptions) => {
        const pk = opts.primaryKey;
        const body = {
          ...parseTableName(table),
          ...(pk ? { primary_key: pk.length === 1 ? pk[0] : pk } : {}),
          ...(opts.watermark ? { watermark_column: opts.watermark } : {}),
          ...(opts.targetSchema ? { target_schema: opts.targetSchema } : {}),
          ...(opts.targetTable ? { target_table: opts.targetTable } : {}),
        };
        const r = await ctx.api('POST', routes.tables.register, registration, { body });
        ctx.emit(
          r,
          (d) =>
            `${d.created ? 'registered' : 'updated'} ${d.database_name}.${d.schema_name}.${d.table_name}\n` +
            renderFields(d, [
              'table_id',
              'primary_key',
              'watermark_column',
              'target_schema',
              'target_table',
              'column_count',
              'row_count',
            ]),
        );
      }),
    );

  tables
    .command('status')
    .description('a registered table: last sync, watermark, running job, DuckDB target')
    .argument('<table>', 'DATABASE.SCHEMA.TABLE or SCHEMA.TABLE')
    .action(
      run(async (ctx, table: string) => {
        const t = parseTableName(table);
        const r = await ctx.api('GET', routes.tables.status(t.schema_name, t.table_name), anyObject, {
          query: { database: t.database_name },
        });
        ctx.emit(r, (d) =>
          renderFields(d, [
            'database_name',
            'schema_name',
            'table_name',
            'primary_key',
            'watermark_column',
            'target_schema',
            'target_table',
            'last_sync_id',
            'last_sync_status',
            'last_sync_at',
            'last_error',
            'row_count',
            'watermark',
            'running_job_id',
            'source',
            'duckdb',
          ]),
        );
      }),
    );
}
