/**
 * Bootstrap step (with --test only): the Python Snowflake clients the emulator is tested with
 * (emulator/test/python-connector, write-pandas and dlt .test.ts), one venv each at <FLOE_HOME>/pyclients/<name>: separate from
 * floe's own venv because each pins its own versions. The test names the venvs it drives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { floeHome, log, readStamp, writeStamp } from './context.mjs';
import { createVenv, pipInstall } from './venv.mjs';

/** One row per client: venv name → pip requirements. Add a client by adding a row. */
export const PYTHON_CLIENTS = {
  'snowflake-connector-python-4': ['snowflake-connector-python==4.8.1', 'pandas==2.3.3', 'pyarrow==26.0.1'],
  'snowflake-connector-python-5': ['snowflake-connector-python==5.2.0'],
  // dlt is tested with the 4.x connector (5.x reaches stages through the emulator's S3-compatible endpoint).
  dlt: ['dlt[snowflake]==1.31.0', 'snowflake-connector-python==4.8.1'],
};

const pythonClientsDir = path.join(floeHome, 'pyclients');
const stampValue = JSON.stringify(PYTHON_CLIENTS) + '\n';
const venvPython = (name) => path.join(pythonClientsDir, name, 'bin', 'python');

/** True when every listed client venv exists with the listed requirements. */
export function done() {
  return (
    readStamp('pyclients.json') === stampValue && Object.keys(PYTHON_CLIENTS).every((n) => fs.existsSync(venvPython(n)))
  );
}

/** (Re)creates every client venv; true. */
export function ensure() {
  for (const [name, requirements] of Object.entries(PYTHON_CLIENTS)) {
    const dir = path.join(pythonClientsDir, name);
    log(`creating ${dir} with ${requirements.join(' ')}`);
    createVenv(dir);
    pipInstall(venvPython(name), requirements);
  }
  writeStamp('pyclients.json', stampValue);
  return true;
}
