/**
 * The floor of a result streamed through snowflake-sdk: the JSON pages of one query's result fetched
 * once from the emulator over plain HTTP (sign-in, query-request, every chunk; no driver), then served
 * from memory by a stand-in server, so that a second read through the driver times its own decoding
 * alone. The stand-in answers the sign-in and the query-request with the recorded bodies (chunk URLs
 * pointing at itself), each chunk URL with its recorded body, and every other call (heartbeat, sign-out)
 * with an empty success.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Recorded response bodies by request path; `{{origin}}` stands for the server's own origin. */
export type Pages = Map<string, string>;

const ORIGIN = '{{origin}}';
const LOGIN = '/session/v1/login-request';
const QUERY = '/queries/v1/query-request';

async function post(url: string, body: unknown, token?: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/snowflake',
      ...(token ? { Authorization: `Snowflake Token="${token}"` } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/**
 * Signs in to the emulator at `origin` as `user`, runs `sql` and downloads every chunk of its result.
 * Resolves with the pages and the seconds the query and the downloads took (the emulator's own share of
 * a streamed read). Throws when a call fails or the query reports an error.
 */
export async function recordQueryPages(
  origin: string,
  user: { name: string; password: string },
  sql: string,
): Promise<{ pages: Pages; rows: number; seconds: number }> {
  const pages: Pages = new Map();
  const login = await post(`${origin}${LOGIN}`, {
    data: { LOGIN_NAME: user.name, PASSWORD: user.password, ACCOUNT_NAME: 'floe' },
  });
  const token = (JSON.parse(login) as { data: { token: string } }).data.token;
  pages.set(LOGIN, login);
  const t0 = performance.now();
  const query = await post(`${origin}${QUERY}?requestId=${randomUUID()}`, { sqlText: sql, sequenceId: 1 }, token);
  const parsed = JSON.parse(query) as {
    success: boolean;
    message?: string;
    data: { total: number; chunks?: { url: string }[] };
  };
  if (!parsed.success) throw new Error(`query failed: ${parsed.message}`);
  pages.set(QUERY, query.replaceAll(origin, ORIGIN));
  for (const c of parsed.data.chunks ?? []) {
    const res = await fetch(c.url);
    if (!res.ok) throw new Error(`${c.url}: HTTP ${res.status}`);
    pages.set(new URL(c.url).pathname, await res.text());
  }
  const seconds = (performance.now() - t0) / 1000;
  await post(`${origin}/session?delete=true`, {}, token).catch(() => undefined);
  return { pages, rows: parsed.data.total, seconds };
}

/** Serves recorded pages on 127.0.0.1 (ephemeral port) until `close()`. */
export async function servePages(pages: Pages): Promise<{ url: string; close(): Promise<void> }> {
  let origin = '';
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const p = new URL(req.url ?? '/', 'http://localhost').pathname;
      const body = pages.get(p);
      if (body === undefined) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true,"data":null}');
      } else if (p.startsWith('/chunks/')) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body.replaceAll(ORIGIN, origin));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
