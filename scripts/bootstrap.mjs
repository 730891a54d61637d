#!/usr/bin/env node
/**
 * floe bootstrap: installs everything floe needs on a fresh machine, and does nothing (fast, < 1 s)
 * when everything is already there. Plain Node with no dependencies: it runs before node_modules exists.
 *
 *   node scripts/bootstrap.mjs [--quiet] [--test]
 *
 * One module per step under scripts/bootstrap/, each exporting `done()` (its stamp says it is installed)
 * and `ensure()` (install it; true when it installed something); the steps, in order, are in STEPS below.
 * Steps marked `tests` run only with --test (what `npm test` passes).
 *
 * FLOE_HOME (default <project>/.floe) moves every install and stamp; --quiet prints nothing when there is
 * nothing to do. Exits non-zero with a message naming the failed step and what to do about it.
 */
import * as chromium from './bootstrap/chromium.mjs';
import * as clients from './bootstrap/clients.mjs';
import { BootstrapError, forTests, log, quiet } from './bootstrap/context.mjs';
import * as duckdbCheck from './bootstrap/duckdb-check.mjs';
import * as duckdbExtensions from './bootstrap/duckdb-extensions.mjs';
import { withLock } from './bootstrap/lock.mjs';
import * as npm from './bootstrap/npm.mjs';
import * as postgres from './bootstrap/postgres.mjs';
import * as pythonClients from './bootstrap/python-clients.mjs';
import * as temporal from './bootstrap/temporal.mjs';
import * as testServer from './bootstrap/test-server.mjs';

const STEPS = [
  { name: 'npm', step: npm },
  { name: 'temporal CLI', step: temporal },
  { name: 'duckdb extensions', step: duckdbExtensions },
  { name: 'duckdb-check', step: duckdbCheck },
  { name: 'postgresql', step: postgres },
  { name: 'temporal-test-server', step: testServer, tests: true },
  { name: 'python clients', step: pythonClients, tests: true },
  { name: 'go and jdbc clients', step: clients, tests: true },
  { name: 'chromium', step: chromium, tests: true },
];

async function main() {
  const started = Date.now();
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new BootstrapError(`Node ${process.versions.node} is too old: floe needs Node 20 or newer`);

  const steps = STEPS.filter((s) => forTests || !s.tests);
  // Fast path: every stamp says done, no lock taken. Otherwise, under the lock, each step is re-checked
  // (another bootstrap may have done it meanwhile) and installed in order.
  const did = steps.every((s) => s.step.done())
    ? []
    : await withLock(() => steps.filter((s) => !s.step.done() && s.step.ensure()).map((s) => s.name));
  const ms = Date.now() - started;
  if (!quiet || did.length) {
    log(did.length ? `done (${did.join(', ')}) in ${(ms / 1000).toFixed(1)} s` : `environment ready (${ms} ms)`);
  }
}

main().catch((err) => {
  log(`FAILED: ${err instanceof BootstrapError ? err.message : err && err.stack ? err.stack : err}`);
  process.exit(1);
});
