/**
 * `npm run rotate-key`: re-encrypt every stored secret (named credentials, per-user Snowflake
 * configurations) from FLOE_ENCRYPTION_KEY_PREVIOUS to FLOE_ENCRYPTION_KEY, in one transaction
 * (src/secrets/rotate.ts). Re-runnable: values already under FLOE_ENCRYPTION_KEY are skipped; a run that
 * fails changes nothing. Without FLOE_ENCRYPTION_KEY_PREVIOUS it only rewrites values of the first
 * release's v1 form under the current key.
 *
 * Environment: DATABASE_URL, FLOE_ENCRYPTION_KEY, FLOE_ENCRYPTION_KEY_PREVIOUS (docs/credentials.md).
 * Prints one line per table (`<table>: N re-encrypted, M already under the current key`); exit 0 on
 * success, 1 on failure with the reason (never a key or a secret).
 */
import { envValue } from '../src/config.js';
import { createPool } from '../src/db/index.js';
import { secretKeys } from '../src/secrets/crypto.js';
import { rotateSecrets } from '../src/secrets/rotate.js';

async function main(): Promise<number> {
  const databaseUrl = envValue('DATABASE_URL');
  const current = envValue('FLOE_ENCRYPTION_KEY');
  if (!databaseUrl || !current) {
    process.stderr.write(
      'rotate-key: set DATABASE_URL and FLOE_ENCRYPTION_KEY (the new key), and FLOE_ENCRYPTION_KEY_PREVIOUS (the old one)\n',
    );
    return 1;
  }
  const keys = secretKeys(current, envValue('FLOE_ENCRYPTION_KEY_PREVIOUS'))!;
  if (keys.previous?.equals(keys.current)) {
    process.stderr.write('rotate-key: FLOE_ENCRYPTION_KEY_PREVIOUS is the same key as FLOE_ENCRYPTION_KEY\n');
    return 1;
  }
  const pool = createPool(databaseUrl, { applicationName: 'floe-rotate-key', max: 1 });
  try {
    const summary = await rotateSecrets(pool, keys);
    for (const [table, n] of Object.entries(summary)) {
      process.stdout.write(`${table}: ${n.reencrypted} re-encrypted, ${n.current} already under the current key\n`);
    }
    return 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`rotate-key failed, nothing was changed: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
