/**
 * Bootstrap step (with --test only): Debian's Chromium at /usr/bin/chromium, which
 * test/e2e/api-docs-page.test.ts drives through playwright-core. Playwright's own browser download is
 * not used: it comes from a CDN this project cannot rely on. From apt-get when missing.
 */
import fs from 'node:fs';
import { BootstrapError, aptInstall, readStamp, writeStamp } from './context.mjs';

const CHROMIUM = '/usr/bin/chromium';

/** True when Chromium is installed (and stamped). */
export function done() {
  return readStamp('chromium') === CHROMIUM && fs.existsSync(CHROMIUM);
}

/** Installs Chromium when it is missing; true when it installed it (false when it only wrote the stamp). */
export function ensure() {
  const missing = !fs.existsSync(CHROMIUM);
  if (missing) aptInstall(['chromium'], 'the API docs page test runs a headless Chromium');
  if (!fs.existsSync(CHROMIUM)) throw new BootstrapError(`apt-get installed chromium but ${CHROMIUM} is missing`);
  writeStamp('chromium', CHROMIUM);
  return missing;
}
