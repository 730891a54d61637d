/**
 * Structured logging (pino). One root logger; modules take child loggers carrying their context
 * (component, workflow id, run id, activity attempt — see the style notes).
 *
 * Secrets never reach the output: any field named password, token, secret, authorization, cookie,
 * jwtSecretKey, adminPassword, privateKey or privateKeyPassphrase (at the top level or up to three levels deep, including HTTP request
 * headers) is replaced by `[redacted]`. Do not log connection strings; use `redactUrl` from config.
 * As a last line of defence every written line also goes through `scrubSecrets` (src/scrub.ts), so a password
 * inside a connection string that a driver echoed in an error message (`postgres://u:pw@…`,
 * libpq's `password=pw`) is masked wherever it appears.
 *
 * Format: one JSON object a line for log collectors, or pino-pretty's readable (and, on a terminal,
 * coloured) lines for people. `LOG_FORMAT=json|pretty` chooses; unset, a logger writing to stdout is
 * pretty when stdout is a terminal and JSON otherwise. Pretty lines are formatted from the redacted,
 * scrubbed JSON line, so they hide the same secrets.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { envValue, LOG_FORMATS, type LogFormat, type LogLevel } from './config.js';
import { scrubSecrets } from './scrub.js';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'masterToken',
  'secret',
  'jwtSecretKey',
  'adminPassword',
  'authorization',
  'Authorization',
  'cookie',
  'apiKey',
  'privateKey',
  'privateKeyPassphrase',
];

/** pino redact paths: each secret key at depth 0..3, plus request/response headers. */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Logger name (the `name` field of every line). Default `floe`. */
  name?: string;
  /** Where to write; default stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  /** Line format; default {@link logFormatFor} LOG_FORMAT and stdout (JSON when `destination` is given). */
  format?: LogFormat;
}

/** The format LOG_FORMAT asks for, or by default pretty on a terminal and JSON otherwise. */
export function logFormatFor(setting: string | undefined, stdoutIsTty: boolean): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(setting ?? '')) return setting as LogFormat;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * Creates a pino logger with floe's redaction rules: JSON lines with ISO timestamps, or those lines
 * rendered by pino-pretty (see the module comment for the choice).
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    name: options.name ?? 'floe',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { pid: process.pid },
  };
  const sink = options.destination ?? pino.destination(1);
  const tty = !options.destination && process.stdout.isTTY === true;
  const format = options.format ?? (options.destination ? 'json' : logFormatFor(envValue('LOG_FORMAT'), tty));
  if (format === 'json') return pino(opts, { write: (line: string) => void sink.write(scrubSecrets(line)) });
  // prettyFactory formats one line synchronously (pino-pretty's transport would format on another tick
  // and could lose the last lines of a process that exits).
  const pretty = prettyFactory({ colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino(opts, { write: (line: string) => void sink.write(pretty(scrubSecrets(line))) });
}

/** The process-wide root logger (level `info` until {@link setLogLevel} is called with the config's level). */
export const logger: Logger = createLogger();

/** Sets the root logger's level (children created afterwards inherit it). */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
}

/**
 * A child of the root logger with extra context fields, e.g.
 * `childLogger({ component: 'worker', workflowId, runId })`.
 */
export function childLogger(bindings: Record<string, unknown>): Logger {
  return logger.child(bindings);
}
