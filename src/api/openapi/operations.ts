/**
 * Route descriptions: every route of floe's API is registered through {@link route}, which takes the
 * route's description (method, path, summary, input schemas, responses) and registers the handler on
 * the Express router from that same description. The OpenAPI document (./document.ts) is built from the
 * descriptions of the routers the app mounts, so it cannot drift from the registered routes; a route
 * registered on a router directly (`router.get(...)`) has no description, and test/e2e/openapi.test.ts
 * fails on it.
 */
import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';

/** The HTTP methods floe's routes use (lower case, as Express's router methods and OpenAPI spell them). */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One response of an operation. */
export interface ResponseSpec {
  description: string;
  /** Schema of a JSON body (its output side: what the server sends). Omitted for a non-JSON or empty body. */
  body?: z.ZodType;
  /** Media types of a non-JSON body (e.g. `text/csv`), each described as a string (binary or text). */
  media?: readonly string[];
}

/** The description of one route: everything a client needs to call it, in floe's own terms. */
export interface Operation {
  method: HttpMethod;
  /** Express path relative to the router it is registered on, e.g. `/sync/jobs/:job_id`. */
  path: string;
  /** One line, shown in the docs page's list of routes. */
  summary: string;
  /** Longer text (CommonMark): behaviour, defaults, side effects. */
  description?: string;
  /** Path parameters; a parameter the path has but this schema lacks is described as a plain string. */
  params?: z.ZodObject;
  /** Query parameters (an object schema; each property becomes one parameter). */
  query?: z.ZodObject;
  /** JSON request body (its input side: what the client may send). */
  body?: z.ZodType;
  /** The body may also be sent as `application/x-www-form-urlencoded` (the OAuth2 password grant). */
  form?: boolean;
  /** Success responses by status. */
  responses: Readonly<Record<number, ResponseSpec>>;
  /**
   * Error statuses particular to this route (404, 409, 422, 502, 503...). 400 (when the route takes
   * input), 401 and 403 (from its access) and 500 are added for every route that can answer them.
   */
  errors?: readonly number[];
}

const described = new WeakMap<Router, Operation[]>();

/**
 * Register `handlers` on `router` at `op.method` and `op.path`, and record `op` as that route's
 * description (read back with {@link operationsOf}).
 */
export function route(router: Router, op: Operation, ...handlers: RequestHandler[]): void {
  router[op.method](op.path, ...handlers);
  const ops = described.get(router) ?? [];
  ops.push(op);
  described.set(router, ops);
}

/** The descriptions of the routes registered on `router` through {@link route}, in registration order. */
export function operationsOf(router: Router): readonly Operation[] {
  return described.get(router) ?? [];
}
