/**
 * Bootstrap step (with --test only): the Go and JDBC Snowflake clients the emulator's tests drive
 * (emulator/test/gosnowflake.test.ts, emulator/test/jdbc-driver.test.ts), built from the pinned sources
 * in emulator/test/clients/{go,jdbc} into <FLOE_HOME>/clients:
 *
 * - `go/emulator-client-go`: `go build` of emulator/test/clients/go (go.mod + go.sum pin gosnowflake);
 *   modules come through the default GOPROXY into Go's module cache, so later builds are offline.
 * - `jdbc/lib/*.jar`: `mvn dependency:copy-dependencies` of emulator/test/clients/jdbc/pom.xml; the test
 *   runs JdbcClient.java with Java's single-file source launcher on that class path.
 *
 * Each is stamped with the SHA-256 of its sources and rebuilt only when they change.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  BootstrapError,
  aptInstall,
  floeHome,
  log,
  projectRoot,
  readStamp,
  run,
  which,
  writeStamp,
} from './context.mjs';

/** Where the Go toolchain may be when it is not on PATH (the official tarball's place). */
const GO_FALLBACK = '/usr/local/go/bin/go';
const sourcesDir = path.join(projectRoot, 'emulator', 'test', 'clients');
const clientsDir = path.join(floeHome, 'clients');

/** One row per client: its source folder's name, the files its stamp hashes, what it builds and how. */
const CLIENTS = [
  {
    name: 'go',
    files: ['go.mod', 'go.sum', 'main.go'],
    output: path.join(clientsDir, 'go', 'emulator-client-go'),
    build(src, output) {
      const go = which('go') ?? (fs.existsSync(GO_FALLBACK) ? GO_FALLBACK : null);
      if (!go)
        throw new BootstrapError(
          'Go is missing: install Go 1.24 or newer (https://go.dev/dl/) for the gosnowflake emulator tests',
        );
      run(go, ['build', '-o', output, '.'], {
        cwd: src,
        // GOTOOLCHAIN=local: build with the installed Go rather than fetching the one go.mod names;
        // -buildvcs=false: a checkout without usable git metadata builds too.
        env: { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false', GOTOOLCHAIN: 'local' },
        hint: 'The Go module proxy (GOPROXY) must be reachable for the first build.',
      });
    },
  },
  {
    name: 'jdbc',
    files: ['pom.xml'],
    output: path.join(clientsDir, 'jdbc', 'lib'),
    build(src, output) {
      if (!which('java') || !which('mvn'))
        aptInstall(['default-jdk-headless', 'maven'], 'The JDBC emulator tests run on Java, fetched by Maven');
      fs.rmSync(output, { recursive: true, force: true });
      run(
        'mvn',
        ['-q', '-B', '-f', path.join(src, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${output}`],
        { hint: 'Maven Central must be reachable (or a mirror in ~/.m2/settings.xml)' },
      );
    },
  },
];

function stampOf(client) {
  const hash = createHash('sha256');
  for (const f of client.files) hash.update(f).update(fs.readFileSync(path.join(sourcesDir, client.name, f)));
  return `${hash.digest('hex')}\n`;
}
const stampName = (client) => `client-${client.name}`;
const built = (client) => readStamp(stampName(client)) === stampOf(client) && fs.existsSync(client.output);

/** True when every client is built from its current sources. */
export function done() {
  return CLIENTS.every(built);
}

/** Builds the clients whose sources changed; true. */
export function ensure() {
  for (const client of CLIENTS.filter((c) => !built(c))) {
    log(`building the ${client.name} Snowflake client into ${client.output}`);
    fs.mkdirSync(path.dirname(client.output), { recursive: true });
    client.build(path.join(sourcesDir, client.name), client.output);
    writeStamp(stampName(client), stampOf(client));
  }
  return true;
}
