/**
 * Command-line entry point: `npm run emulator -- [--port 8085] [--host 127.0.0.1] [--data-dir .floe/state/emulator] [--seed-tpch 1]
 * [--user NAME (--password PW | --public-key-file F)]`.
 *
 * Defaults: port 8085 (FLOE_EMULATOR_PORT), host 127.0.0.1 (this machine only; `--host 0.0.0.0`
 * exposes it to the network), data directory `<.floe>/state/emulator`
 * (FLOE_EMULATOR_DATA_DIR), no TPC-H seeding. Prints the URL to use as snowflake-sdk `accessUrl`
 * and stops cleanly on SIGINT/SIGTERM. `--user` creates that user (or updates its password or
 * RSA_PUBLIC_KEY from the PEM file); without it, only users already in the data directory can sign in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from './paths.js';
import { startEmulator } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'seed-tpch': { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    'public-key-file': { type: 'string' },
  },
});

const port = Number(values.port ?? process.env.FLOE_EMULATOR_PORT ?? 8085);
const dataDir = values['data-dir'] ?? process.env.FLOE_EMULATOR_DATA_DIR ?? defaultDataDir;
const seed = values['seed-tpch'] !== undefined ? Number(values['seed-tpch']) : undefined;

const keyFile = values['public-key-file'];
if (values.user === undefined && (values.password !== undefined || keyFile !== undefined)) {
  console.error('--password and --public-key-file need --user NAME');
  process.exit(2);
}
const user =
  values.user === undefined
    ? undefined
    : {
        name: values.user,
        ...(values.password !== undefined && { password: values.password }),
        ...(keyFile !== undefined && { publicKey: fs.readFileSync(keyFile, 'utf8') }),
      };

const emulator = await startEmulator({ port, host: values.host, dataDir, seedTpch: seed, user });
console.log(`Snowflake emulator listening on ${emulator.url} (data: ${path.resolve(dataDir)})`);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void emulator.close().then(() => process.exit(0));
  });
}
