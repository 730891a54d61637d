/** Watermark sync config: the YAML shape, defaults, the shipped example, and errors naming table and field. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWatermarkSyncConfig, WatermarkSyncConfigError } from '../../src/jobs/watermark-sync/config.js';

describe('watermark sync config', () => {
  it('accepts the seed shape and applies defaults', () => {
    const c = parseWatermarkSyncConfig(`
sync_interval_seconds: 120
default_batch_size: 1000
tables:
  - source: public.users
    target: analytics.users
    pk: id
    watermark_column: updated_at
    batch_size: 500
    merge_max_rows: 20000
    transform: null
  - source: public.checkins
    target: analytics.checkins
    pk: [tenant_id, id]
    watermark_column: last_modified
    transform: {sql: {EMAIL: "lower(email)"}}
`);
    expect(c).toMatchObject({ name: 'default', syncIntervalSeconds: 120, maxParallelTables: 4 });
    expect(c.tables[0]).toMatchObject({
      pk: ['id'],
      batchSize: 500,
      mergeMaxRows: 20000,
      transform: null,
      loadMethod: 'auto',
      lagSeconds: 0,
    });
    expect(c.tables[1]).toMatchObject({
      pk: ['tenant_id', 'id'],
      batchSize: 1000,
      mergeMaxRows: 1_000_000,
      transform: { kind: 'sql', columns: { EMAIL: 'lower(email)' } },
    });
  });

  it('validates the shipped example config', () => {
    const c = parseWatermarkSyncConfig(
      readFileSync(new URL('../../config/sync_config.example.yaml', import.meta.url), 'utf8'),
    );
    expect(c.tables.map((t) => t.source)).toEqual(['public.users', 'public.checkins', 'public.accounts']);
  });

  it('names the table and the field of every problem', () => {
    let err: WatermarkSyncConfigError | null = null;
    try {
      parseWatermarkSyncConfig(`
source_database_url: postgres://u:secret@h/db
tables:
  - source: public.users
    target: analytics.users
    pk: id
  - source: public.x
    target: a.x
    pk: []
    watermark_column: w
    batch_size: -1
    merge_max_rows: 0.5
    transform: no_such_fn
`);
    } catch (e) {
      err = e as WatermarkSyncConfigError;
    }
    expect(err).toBeInstanceOf(WatermarkSyncConfigError);
    const paths = err!.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'source_database_url',
        'tables[0] (public.users).watermark_column',
        'tables[1] (public.x).pk',
        'tables[1] (public.x).batch_size',
        'tables[1] (public.x).merge_max_rows',
      ]),
    );
    expect(err!.message).not.toContain('u:secret');
  });
});
