/**
 * The API's error shape and the one place that maps errors to HTTP responses.
 *
 * Every error response is JSON: `{ "error": { "code", "message", "field"? , "request_id"? } }`.
 * Client mistakes get 400 (malformed or schema-invalid input, text holding NUL), 401 (authentication),
 * 403 (the token's role may not use the route), 404 (unknown route or resource, including another user's item), 409
 * (conflict with current state), 422 (well-formed input that does not fit the data, e.g. a primary-key
 * column the table lacks), 429 (too many failed sign-ins, with `Retry-After`). Anything else is a server fault: 500, logged
 * with the request id, never with a stack trace in the response.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ServiceError } from '@temporalio/client';
import pg from 'pg';
import { z } from 'zod';
import {
  JobAlreadyRunningError,
  JobNotFoundError,
  JobNotRunningError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
} from '../jobs/table-sync/errors.js';
import { TargetTakenError } from '../jobs/table-sync/store.js';
import type { Logger } from './logger.js';

/** An error the API answers with a given status and code; `field` names the offending input. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, field?: string): ApiError =>
  new ApiError(400, 'invalid_request', message, field);
export const unauthorized = (message: string): ApiError => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);
export const notFound = (message: string, field?: string): ApiError => new ApiError(404, 'not_found', message, field);
export const conflict = (message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(409, 'conflict', message, undefined, details);
export const unprocessable = (message: string, field?: string): ApiError =>
  new ApiError(422, 'unprocessable', message, field);

/** Where a validated value came from, used to name the field (`body.table_name`, `query.limit`). */
export type InputLocation = 'body' | 'query' | 'params';

/**
 * Path (keys from the outside in) of the first string in `value` — a value or an object key, at any
 * depth — that holds the NUL character; `[]` for `value` itself; null when there is none. A key holding
 * NUL is named with it written `\\u0000`.
 */
function nulPath(value: unknown): string[] | null {
  if (typeof value === 'string') return value.includes('\0') ? [] : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\0')) return [key.replaceAll('\0', '\\u0000')];
    const below = nulPath(item);
    if (below) return [key, ...below];
  }
  return null;
}

/**
 * Parse `data` with `schema`; on failure throw a 400 {@link ApiError} naming the first bad field
 * (dotted path, e.g. `primary_key.1`) and saying what is wrong with it. Every string `data` carries
 * (at any depth, keys included) is refused when it holds NUL, whatever the schema says: PostgreSQL's
 * text types cannot store NUL (it answers SQLSTATE 22021).
 */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown, location: InputLocation): z.infer<S> {
  const nulAt = nulPath(data);
  if (nulAt) throw invalidField(location, nulAt.join('.') || undefined, 'must not contain the NUL character (\\u0000)');
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  let problem = issue?.message ?? 'invalid input';
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    field = field ? `${field}.${key}` : key;
    problem = 'is not a recognised field';
  }
  throw invalidField(location, field, problem);
}

/** 400 `{location} field '{field}': {problem}` naming the field. */
function invalidField(location: InputLocation, field: string | undefined, problem: string): ApiError {
  const where = field ? `${location} field '${field}'` : location;
  return new ApiError(400, 'invalid_request', `${where}: ${problem}`, field);
}

/**
 * SQLSTATEs PostgreSQL raises for text it cannot store: 22021 character_not_in_repertoire (NUL, or bytes
 * that are not valid in the database encoding) and 22P05 untranslatable_character. Text that still reaches
 * the database with such a character past {@link parseInput} came with a request: a 400, not a server fault.
 */
const PG_UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/** The PostgreSQL error in `err` or its `cause` chain, when there is one. */
function postgresError(err: unknown): pg.DatabaseError | null {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof pg.DatabaseError) return e;
  }
  return null;
}

/** 404 for any route no router matched. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof JobNotFoundError) return new ApiError(404, 'job_not_found', err.message, 'job_id');
  if (err instanceof JobAlreadyRunningError)
    return new ApiError(409, 'sync_already_running', err.message, undefined, { running_job_id: err.runningJobId });
  if (err instanceof TargetTakenError) {
    return new ApiError(409, 'target_taken', err.message, 'target_table', {
      other_registration: {
        table_id: err.other.table_id,
        database_name: err.other.database_name,
        schema_name: err.other.schema_name,
        table_name: err.other.table_name,
      },
    });
  }
  if (err instanceof JobNotRunningError)
    return new ApiError(409, 'job_not_running', err.message, 'job_id', { status: err.status });
  if (err instanceof ScheduleNotFoundError) return new ApiError(404, 'schedule_not_found', err.message, 'schedule_id');
  if (err instanceof ScheduleAlreadyExistsError)
    return new ApiError(409, 'schedule_exists', err.message, 'schedule_id');
  const pgErr = postgresError(err);
  if (pgErr?.code && PG_UNSTORABLE_TEXT.has(pgErr.code))
    return new ApiError(400, 'invalid_request', 'the request holds text PostgreSQL cannot store (e.g. NUL)');
  // Temporal unreachable (gRPC UNAVAILABLE): a server-side fault, but say which dependency is down.
  const grpcCode =
    (err as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (err as { code?: unknown })?.code;
  if (
    // A ServiceError from the client, or the raw gRPC error (it carries `metadata`) of the connection.
    (err instanceof ServiceError || typeof (err as { metadata?: unknown })?.metadata === 'object') &&
    (grpcCode === 14 || grpcCode === 4)
  )
    return new ApiError(
      503,
      'temporal_unavailable',
      grpcCode === 4
        ? 'the Temporal server did not answer in time; retry later'
        : 'the Temporal server is unavailable; retry later',
    );
  // body-parser errors (express.json / express.urlencoded) carry `type` and `status`.
  const e = err as { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.type === 'entity.parse.failed') return new ApiError(400, 'malformed_json', 'request body is not valid JSON');
    if (e.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'request body is too large');
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new ApiError(415, 'unsupported_encoding', 'request body encoding is not supported');
    return new ApiError(e.status, 'invalid_request', 'request body could not be read');
  }
  return null;
}

/**
 * Final error handler: known errors become their JSON response; unknown ones are logged with the
 * request id and answered with a generic 500 (no message or stack from the fault reaches the client).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = res.locals.requestId as string | undefined;
    const apiErr = toApiError(err);
    if (res.headersSent) {
      logger.error({ err, requestId }, 'error after response started');
      res.end();
      return;
    }
    if (apiErr) {
      if (apiErr.status >= 500) logger.error({ err, requestId }, apiErr.message);
      if (apiErr.status === 401) res.set('WWW-Authenticate', 'Bearer');
      res.status(apiErr.status).json({
        error: {
          code: apiErr.code,
          message: apiErr.message,
          ...(apiErr.field ? { field: apiErr.field } : {}),
          ...(apiErr.details ?? {}),
        },
      });
      return;
    }
    logger.error({ err, requestId, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({
      error: {
        code: 'internal_error',
        message: `internal server error (request id ${requestId ?? 'unknown'})`,
        request_id: requestId,
      },
    });
  };
}
