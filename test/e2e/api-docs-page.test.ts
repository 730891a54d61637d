/**
 * The API reference page at /api/docs, in a real headless Chromium (Debian's, installed by
 * `scripts/bootstrap.mjs --test`, driven by playwright-core): it renders the routes from
 * /api/v1/openapi.json, loads nothing from another origin, and its Content-Security-Policy blocks a
 * script from elsewhere. The screenshot is kept at test-results/api-docs.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve('test-results', 'api-docs.png');

let h: ApiHarness;
let browser: Browser;

beforeAll(async () => {
  h = await startApiHarness();
  browser = await chromium.launch({ executablePath: CHROMIUM });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('API docs page', () => {
  it('renders the routes from the document, with every asset from floe itself', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    const res = await page.goto(`${h.api.url}/api/docs`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.getByText('Start a table sync').first().waitFor({ state: 'visible', timeout: 30_000 });
    await expect(page.getByText('/api/v1/sync/start').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText('Register a Snowflake table for table sync').first().isVisible()).resolves.toBe(true);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const origin = new URL(h.api.url).origin;
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(requests).toContain(`${origin}/api/v1/openapi.json`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is guarded by a Content-Security-Policy that refuses a script from another origin', async () => {
    const page = await browser.newPage();
    const outside: string[] = []; // responses from elsewhere (the blocked request gets none)
    page.on('response', (r) => {
      if (!r.url().startsWith(h.api.url)) outside.push(r.url());
    });
    await page.goto(`${h.api.url}/api/docs`);
    const violation = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true });
          const s = document.createElement('script');
          s.src = 'https://cdn.invalid/swagger-ui-bundle.js';
          document.body.appendChild(s);
        }),
    );
    expect(violation).toBe('script-src-elem');
    expect(outside).toEqual([]);
    await page.close();
  });
});
