/**
 * The OpenAPI 3.1 document of floe's API, built from the route descriptions of the routers the app
 * mounts (./operations.ts) and the zod schemas the routes validate their input with. Schemas become
 * JSON Schema 2020-12 through zod's own `z.toJSONSchema` (the dialect OpenAPI 3.1 uses): request
 * schemas on their input side (what a client may send: defaults optional, before transforms), response
 * schemas on their output side. Refinements that JSON Schema cannot say (e.g. "give either `cron` or
 * `interval_seconds`") stay in the route's description and its 400 answer.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { operationsOf, type Operation } from './operations.js';

/**
 * Who may call a mounted router's routes: `public` (no token), `user` (any valid token; a `user`-role
 * token is scoped to its own user_id), `admin` (admin tokens only), `metrics` (the static
 * METRICS_TOKEN).
 */
export type Access = 'public' | 'user' | 'admin' | 'metrics';

/** A router as the app mounts it: at `prefix`, for `access`, its routes grouped under `tag`. */
export interface Mount {
  prefix: string;
  router: Router;
  access: Access;
  tag: string;
}

/** An OpenAPI document as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** The body of every error response (src/api/errors.ts). */
export const errorBody = z.object({
  error: z.looseObject({
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. `invalid_request`, `not_found`.' }),
    message: z.string().meta({ description: 'What went wrong, naming the field; never a secret or a stack trace.' }),
    field: z
      .string()
      .optional()
      .meta({ description: 'The offending input field (dotted path, e.g. `primary_key.1`).' }),
    request_id: z.string().optional().meta({ description: 'Present on 500: the id the server logged the fault with.' }),
  }),
});

/** What each error status means on floe's API (docs/api.md has the same table). */
const ERROR_STATUSES: Readonly<Record<number, string>> = {
  400: 'Malformed JSON (`malformed_json`) or a missing, invalid or unknown field (`invalid_request`; `field` names it).',
  401: 'No or malformed `Authorization`, a bad, expired or revoked token, a disabled or deleted user; wrong credentials.',
  403: 'The token may not use this route (`forbidden`), e.g. a `user`-role token on an admin route.',
  404: 'The resource does not exist (or belongs to another user).',
  409: 'Conflicts with the current state (a run already going, a name taken, a finished job).',
  422: 'Well-formed input that does not fit the data (a column missing or of an unusable type, SQL not allowed).',
  429: 'Too many failed sign-ins for the username or from the address (`too_many_attempts`, `Retry-After`).',
  500: 'A server fault, logged with the request id the response carries.',
  502: 'Snowflake (or the DuckLake catalog) refused or failed.',
  503: 'A dependency is unavailable: Temporal unreachable or too slow, or no FLOE_ENCRYPTION_KEY for a secret.',
};

const ACCESS_NOTES: Readonly<Record<Access, string>> = {
  public: 'No token needed.',
  user: 'Accepts `admin` and `user` tokens; a `user` token sees and acts on its own `user_id` only.',
  admin: 'Admin tokens only.',
  metrics: 'Needs the METRICS_TOKEN bearer token (METRICS_AUTH=bearer).',
};

const SECURITY: Readonly<Record<Access, readonly Record<string, string[]>[] | undefined>> = {
  public: [],
  user: undefined, // the document's default: bearer
  admin: undefined,
  metrics: [{ metricsToken: [] }],
};

/** `schema` as JSON Schema 2020-12 (no `$schema` key: OpenAPI 3.1's default dialect is that one). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

type ObjectJsonSchema = { properties?: Record<string, Record<string, unknown>>; required?: string[] };

/** The full OpenAPI path of `op` under `prefix`, with Express's `:name` parameters as `{name}`. */
export function openApiPath(prefix: string, expressPath: string): string {
  const joined = expressPath === '/' && prefix ? prefix : `${prefix}${expressPath}`;
  return joined.replace(/:(\w+)/g, '{$1}');
}

function parameters(op: Operation): Record<string, unknown>[] {
  const params = (op.params ? jsonSchema(op.params, 'input') : {}) as ObjectJsonSchema;
  const out: Record<string, unknown>[] = [...op.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: params.properties?.[name!] ?? { type: 'string' },
  }));
  const query = (op.query ? jsonSchema(op.query, 'input') : {}) as ObjectJsonSchema;
  for (const [name, schema] of Object.entries(query.properties ?? {})) {
    const { description, ...rest } = schema;
    out.push({
      name,
      in: 'query',
      required: query.required?.includes(name) ?? false,
      ...(description !== undefined && { description }),
      schema: rest,
    });
  }
  return out;
}

function requestBody(op: Operation): Record<string, unknown> | undefined {
  if (!op.body) return undefined;
  const schema = jsonSchema(op.body, 'input');
  const content: Record<string, unknown> = { 'application/json': { schema } };
  if (op.form) content['application/x-www-form-urlencoded'] = { schema };
  return { required: ((schema as ObjectJsonSchema).required?.length ?? 0) > 0, content };
}

function responses(op: Operation, access: Access): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    const content = {
      ...(r.body && { 'application/json': { schema: jsonSchema(r.body, 'output') } }),
      ...Object.fromEntries((r.media ?? []).map((m) => [m, { schema: { type: 'string' } }])),
    };
    out[status] = { description: r.description, ...(Object.keys(content).length > 0 && { content }) };
  }
  const errors = new Set<number>();
  if (op.params || op.query || op.body) errors.add(400);
  if (access !== 'public') errors.add(401);
  if (access === 'admin') errors.add(403);
  for (const s of op.errors ?? []) errors.add(s);
  errors.add(500);
  for (const s of [...errors].sort((a, b) => a - b)) out[String(s)] = { $ref: `#/components/responses/Error${s}` };
  return out;
}

/**
 * The OpenAPI 3.1 document of the routes described on `mounts`' routers.
 * @throws Error when two mounts describe the same method and path, or a status has no error text.
 */
export function openApiDocument(mounts: readonly Mount[]): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorStatuses = new Set<number>();
  for (const { prefix, router, access, tag } of mounts) {
    for (const op of operationsOf(router)) {
      const path = openApiPath(prefix, op.path);
      const item = (paths[path] ??= {});
      if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${path} is described twice`);
      const answers = responses(op, access);
      for (const s of Object.keys(answers).map(Number)) if (s >= 400) errorStatuses.add(s);
      const security = SECURITY[access];
      const body = requestBody(op);
      item[op.method] = {
        tags: [tag],
        summary: op.summary,
        description: op.description ? `${op.description}\n\n${ACCESS_NOTES[access]}` : ACCESS_NOTES[access],
        ...(security && { security }),
        'x-floe-access': access,
        ...(op.params || op.query || op.path.includes(':') ? { parameters: parameters(op) } : {}),
        ...(body && { requestBody: body }),
        responses: answers,
      };
    }
  }
  const errorResponses: Record<string, unknown> = {};
  for (const s of [...errorStatuses].sort((a, b) => a - b)) {
    const description = ERROR_STATUSES[s];
    if (!description) throw new Error(`no description of error status ${s}`);
    errorResponses[`Error${s}`] = {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'floe API',
      version: 'v1',
      description:
        'Move data between Snowflake, PostgreSQL and DuckDB/DuckLake; every job is a Temporal workflow. ' +
        'Sign in with `POST /api/v1/auth/token`, then send `Authorization: Bearer <access_token>`. ' +
        'Every error is `{"error": {"code", "message", "field"?}}`.',
    },
    tags: [...new Set(mounts.map((m) => m.tag))].map((name) => ({ name })),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An `access_token` from `POST /api/v1/auth/token` (HS256, checked against its stored row).',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (with METRICS_AUTH=bearer).' },
      },
      schemas: { Error: jsonSchema(errorBody, 'output') },
      responses: errorResponses,
    },
  };
}
