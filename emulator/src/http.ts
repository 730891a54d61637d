/** HTTP helpers of the protocol server: request bodies, JSON answers, the session token, URL hosts. */
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';
import type { SnowflakeError } from './errors.js';

/** The session token of `Authorization: Snowflake Token="..."`, if any. */
export function tokenOf(req: http.IncomingMessage): string | undefined {
  const m = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** The JSON body of a request (gunzipped when the driver compressed it); undefined when empty. */
export async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  let buf = Buffer.concat(parts);
  if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) buf = zlib.gunzipSync(buf);
  if (buf.length === 0) return undefined;
  return JSON.parse(buf.toString('utf8'));
}

/** Answers HTTP 200 with a JSON body (nothing when the response is already sent or the socket gone). */
export function sendJson(res: http.ServerResponse, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/** A successful protocol answer: `{success: true, code: null, message: null, data}`. */
export function sendData(res: http.ServerResponse, data: unknown): void {
  sendJson(res, { success: true, code: null, message: null, data });
}

/**
 * A failed protocol answer, HTTP 200 as Snowflake sends SQL and login errors:
 * `{success: false, code, message, data: {errorCode, sqlState, ...extra}}`.
 */
export function sendError(res: http.ServerResponse, e: SnowflakeError, extra: Record<string, unknown> = {}): void {
  sendJson(res, {
    success: false,
    code: e.code,
    message: e.message,
    data: { errorCode: e.code, sqlState: e.sqlState, ...extra },
  });
}

/** `host` as the host part of a URL: wildcard addresses become this machine's name, IPv6 gets brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return os.hostname();
  return host.includes(':') ? `[${host}]` : host;
}
