/**
 * The API reference page at `/api/docs`: Swagger UI (the `swagger-ui-dist` package) over
 * `/api/v1/openapi.json`. Its assets are served by floe from node_modules — only the files the page
 * loads — and the page's Content-Security-Policy allows scripts, styles, images and requests from this
 * origin only (the one inline script by its SHA-256 hash), so nothing can come from a CDN.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import { route } from './operations.js';
import * as ops from '../operations/service.js';

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The files of swagger-ui-dist the page loads (its own index.html would load a demo document). */
const ASSETS = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png']);

const INIT_SCRIPT =
  "window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true, " +
  'validatorUrl: null, defaultModelsExpandDepth: -1 });';

/** The Content-Security-Policy of the page and its assets. */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${createHash('sha256').update(INIT_SCRIPT).digest('base64')}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>floe API reference</title>
    <link rel="icon" href="/api/docs/assets/favicon-32x32.png" />
    <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
    <script>${INIT_SCRIPT}</script>
  </body>
</html>
`;

/** Router of the page (`GET /`) and its assets (`/assets/*`); mount at `/api/docs`, no authentication. */
export function docsPageRouter(): Router {
  const r = Router();
  r.use((_req, res, next) => {
    res.set({ 'Content-Security-Policy': DOCS_PAGE_CSP, 'X-Content-Type-Options': 'nosniff' });
    next();
  });
  const assets = express.static(swaggerUiDir, { index: false, maxAge: '1h' });
  r.use('/assets', (req, res, next) => (ASSETS.has(req.path) ? assets(req, res, next) : next()));
  route(r, ops.docsPage, (_req, res) => {
    res.type('html').send(PAGE);
  });
  return r;
}
