/**
 * The chaos runner's HTTP client of floe's API: it signs in as the admin (`POST /api/v1/auth/token`)
 * and sends JSON, as a user's script would.
 */

/** An API answer that was not 2xx: the status and floe's `{error:{code,message}}` body. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
    this.name = 'ApiCallError';
  }
}

/** A signed-in API client. */
export interface ApiClient {
  readonly baseUrl: string;
  /** `method route` with an optional JSON body; resolves with the parsed JSON of a 2xx answer. */
  call<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
}

/** Signs in at `baseUrl` (e.g. `http://127.0.0.1:8000`) with the admin's username and password. */
export async function signIn(baseUrl: string, username: string, password: string): Promise<ApiClient> {
  const res = await fetch(`${baseUrl}/api/v1/auth/token`, {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
  });
  if (!res.ok) throw new ApiCallError(res.status, await res.text(), 'sign-in');
  const token = ((await res.json()) as { access_token: string }).access_token;
  return {
    baseUrl,
    async call<T>(method: string, route: string, body?: unknown): Promise<T> {
      const r = await fetch(`${baseUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await r.text();
      if (!r.ok) throw new ApiCallError(r.status, text, `${method} ${route}`);
      return (text ? JSON.parse(text) : null) as T;
    },
  };
}
