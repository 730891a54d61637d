/**
 * Bootstrap step (with --test only): Temporal's time-skipping test server for the workflow tests, at
 * <FLOE_HOME>/temporal-test-server (`bin/temporal-test-server <port>` runs it; test/helpers/test-server.ts
 * starts it). It is the Java test server of Temporal's Java SDK (`io.temporal:temporal-test-server`), the
 * server behind `TestWorkflowEnvironment.createTimeSkipping()`: the TypeScript SDK would download a native
 * build of it from Temporal's CDN, which this project cannot rely on; Maven Central serves the same server
 * as jars. Java and Maven come from apt-get when missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { aptInstall, floeHome, readStamp, run, which, writeStamp } from './context.mjs';

const TEST_SERVER_VERSION = '1.38.0';
const testServerDir = path.join(floeHome, 'temporal-test-server');
const testServerBin = path.join(testServerDir, 'bin', 'temporal-test-server');

/** True when the pinned test server is installed. */
export function done() {
  return readStamp('temporal-test-server') === TEST_SERVER_VERSION && fs.existsSync(testServerBin);
}

/** Fetches the server and its dependencies with Maven and writes the launcher; true. */
export function ensure() {
  if (!which('java') || !which('mvn'))
    aptInstall(
      ['default-jre-headless', 'maven'],
      "Temporal's test server (workflow tests) runs on Java, fetched by Maven",
    );
  fs.mkdirSync(path.join(testServerDir, 'bin'), { recursive: true });
  const pom = path.join(testServerDir, 'pom.xml');
  fs.writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>floe</groupId><artifactId>temporal-test-server-deps</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  );
  const lib = path.join(testServerDir, 'lib');
  fs.rmSync(lib, { recursive: true, force: true });
  run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`], {
    hint: 'Maven Central must be reachable (or a mirror in ~/.m2/settings.xml)',
  });
  fs.writeFileSync(
    testServerBin,
    `#!/bin/sh\n# Temporal's time-skipping test server ${TEST_SERVER_VERSION}; usage: temporal-test-server <port>\nexec java -Xss2m -cp '${lib}/*' io.temporal.testserver.TestServer "$@"\n`,
    { mode: 0o755 },
  );
  writeStamp('temporal-test-server', TEST_SERVER_VERSION);
  return true;
}
