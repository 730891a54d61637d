/**
 * The CLI's HTTP client: one JSON request to floe's API, errors turned into {@link ApiCallError}
 * (the API's `{error:{code, message, field?}}` body, src/api/errors.ts) or {@link CliError}
 * (unreachable, not JSON), and the answer checked against a zod schema where the CLI relies on fields.
 */
import type { z } from 'zod';
import { ApiCallError, CliError, EXIT } from './errors.js';
import type { ApiTarget } from './settings.js';

/** Query parameters; undefined values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of {@link apiRequest}. */
export interface RequestOptions {
  query?: Query;
  /** JSON body. */
  body?: unknown;
  /** Form body (`application/x-www-form-urlencoded`), for the token endpoint. */
  form?: Record<string, string>;
}

/** Build `target.url + path?query`. */
export function urlOf(target: ApiTarget, path: string, query: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return `${target.url}${path}${s ? `?${s}` : ''}`;
}

/**
 * Send one request and return the parsed JSON answer, validated by `schema`.
 * @throws ApiCallError for an HTTP error status (exit code by status, src/cli/errors.ts);
 *   CliError (exit 5) when the API is unreachable or the answer is not the JSON `schema` describes.
 */
export async function apiRequest<S extends z.ZodType>(
  target: ApiTarget,
  method: string,
  path: string,
  schema: S,
  opts: RequestOptions = {},
): Promise<z.infer<S>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const url = urlOf(target, path, opts.query);
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach the floe API at ${target.url} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? (--url, FLOE_API_URL)`,
      EXIT.unavailable,
    );
  }
  const text = await res.text();
  const json = parseJson(text);
  if (!res.ok) throw errorOf(res.status, json, target);
  if (json === undefined)
    throw new CliError(`${method} ${path}: the API answered ${res.status} without a JSON body`, EXIT.unavailable);
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `${method} ${path}: unexpected answer from the API (${issue?.path.join('.') || 'body'}: ${issue?.message})`,
      EXIT.unavailable,
    );
  }
  return parsed.data;
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(status: number, json: unknown, target: ApiTarget): ApiCallError {
  const e = (json as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${status}`;
  let message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  if (status === 401)
    message += target.token ? ' (token expired or revoked? run floe login)' : ' (not signed in: run floe login)';
  const { code: _c, message: _m, field, ...details } = (e ?? {}) as Record<string, unknown>;
  return new ApiCallError(status, code, message, typeof field === 'string' ? field : undefined, details);
}
