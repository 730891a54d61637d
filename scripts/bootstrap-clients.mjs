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
 * Each is stamped with the SHA-256 of its sources and rebuilt only when they change. Plain Node, no
 * dependencies: the caller passes its helpers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

/** Where the Go toolchain may be when it is not on PATH (the official tarball's place). */
const GO_FALLBACK = '/usr/local/go/bin/go';

/**
 * @param {{ projectRoot: string, floeHome: string, readStamp: (name: string) => string | null,
 *   writeStamp: (name: string, value: string) => void, run: Function, which: (cmd: string) => string | null,
 *   aptInstall: (packages: string[], why: string) => void, log: (msg: string) => void,
 *   BootstrapError: new (msg: string) => Error }} tools
 */
export function testClients(tools) {
  const sourcesDir = path.join(tools.projectRoot, 'emulator', 'test', 'clients');
  const clientsDir = path.join(tools.floeHome, 'clients');
  const clients = [
    {
      name: 'go',
      files: ['go.mod', 'go.sum', 'main.go'],
      output: path.join(clientsDir, 'go', 'emulator-client-go'),
      build(src, output) {
        const go = tools.which('go') ?? (fs.existsSync(GO_FALLBACK) ? GO_FALLBACK : null);
        if (!go)
          throw new tools.BootstrapError(
            'Go is missing: install Go 1.24 or newer (https://go.dev/dl/) for the gosnowflake emulator tests',
          );
        tools.run(go, ['build', '-o', output, '.'], {
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
        if (!tools.which('java') || !tools.which('mvn'))
          tools.aptInstall(['default-jdk-headless', 'maven'], 'The JDBC emulator tests run on Java, fetched by Maven');
        fs.rmSync(output, { recursive: true, force: true });
        tools.run(
          'mvn',
          ['-q', '-B', '-f', path.join(src, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${output}`],
          { hint: 'Maven Central must be reachable (or a mirror in ~/.m2/settings.xml)' },
        );
      },
    },
  ];

  const stampOf = (client) => {
    const hash = createHash('sha256');
    for (const f of client.files) hash.update(f).update(fs.readFileSync(path.join(sourcesDir, client.name, f)));
    return `${hash.digest('hex')}\n`;
  };
  const stampName = (client) => `client-${client.name}`;
  const done = (client) => tools.readStamp(stampName(client)) === stampOf(client) && fs.existsSync(client.output);

  return {
    /** True when every client is built from its current sources. */
    done: () => clients.every(done),
    /** Builds the clients whose sources changed; true when it built any. */
    ensure() {
      let built = false;
      for (const client of clients.filter((c) => !done(c))) {
        tools.log(`building the ${client.name} Snowflake client into ${client.output}`);
        fs.mkdirSync(path.dirname(client.output), { recursive: true });
        client.build(path.join(sourcesDir, client.name), client.output);
        tools.writeStamp(stampName(client), stampOf(client));
        built = true;
      }
      return built;
    },
  };
}
