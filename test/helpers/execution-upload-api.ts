/**
 * The execution upload router served for a suite the way the API app mounts it: behind floe's auth
 * (`requireAuth`), with floe's error mapping, at `/api/v1/execution-upload`; and a caller holding an
 * admin token.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { issueToken, requireAuth, type AuthSettings } from '../../src/api/auth.js';
import { errorHandler, notFoundHandler } from '../../src/api/errors.js';
import { executionUploadRouter } from '../../src/api/routes/executionUpload.js';
import { createLogger } from '../../src/logger.js';
import type { UploadRig } from './execution-upload-rig.js';

/** What an API call answered. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiAnswer = { status: number; json: any };

/** A running API: `call` sends a request (with the admin token unless `auth` is false). */
export interface UploadApi {
  call(method: string, route: string, body?: unknown, auth?: boolean): Promise<ApiAnswer>;
  close(): Promise<void>;
}

/** Serve the router over `rig` on a free port; after a retry or backfill it triggers `scheduleId`. */
export async function startUploadApi(rig: UploadRig, scheduleId: string): Promise<UploadApi> {
  const settings: AuthSettings = {
    adminUsername: 'admin',
    adminPassword: 'admin-pw',
    jwtSecret: 'x'.repeat(40),
    tokenTtlMinutes: 5,
  };
  const app = express();
  app.use(express.json());
  app.use(
    '/api/v1/execution-upload',
    requireAuth(rig.pool, settings),
    executionUploadRouter({ pool: rig.pool, secretKeys: rig.key, temporal: rig.client, scheduleId }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler(createLogger({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/execution-upload`;
  const token = (await issueToken(rig.pool, settings, 'admin', 'admin-pw')).access_token;
  return {
    async call(method, route, body, auth = true) {
      const res = await fetch(`${url}${route}`, {
        method,
        headers: {
          ...(auth ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: await res.json() };
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
