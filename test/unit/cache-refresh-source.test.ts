/** A cache source's credentials reference resolved to settings (src/jobs/cache-refresh/source.ts). */
import { describe, expect, it } from 'vitest';
import type { SnowflakeSettings } from '../../src/connectors/snowflake.js';
import { resolveSource, SourceCredentialsError } from '../../src/jobs/cache-refresh/source.js';
import type { CacheSource } from '../../src/jobs/cache-refresh/store.js';

const source: CacheSource = {
  source_name: 'prod',
  driver_type: 'snowflake',
  credentials_ref: 'team_a',
  passthrough_enabled: false,
  created_at: new Date(0),
  updated_at: new Date(0),
};
const settings: SnowflakeSettings = { account: 'acme', username: 'svc', password: 'hunter2-secret' };

describe('resolveSource', () => {
  it('returns the settings and a label naming the reference and the source', async () => {
    const r = await resolveSource(async (ref) => (ref === 'team_a' ? settings : undefined), source);
    expect(r).toEqual({ settings, label: "credentials 'team_a' of source prod" });
  });

  it('refuses a reference this process does not know, naming it', async () => {
    const err = await resolveSource(async () => undefined, source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceCredentialsError);
    expect((err as Error).message).toBe("credentials 'team_a' of source prod are not configured in this process");
  });

  it("wraps the resolver's failure with the label", async () => {
    const err = await resolveSource(async () => {
      throw new Error('cannot decrypt credential team_a');
    }, source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceCredentialsError);
    expect((err as Error).message).toBe("credentials 'team_a' of source prod: cannot decrypt credential team_a");
  });
});
