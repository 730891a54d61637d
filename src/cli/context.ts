/**
 * What every CLI command gets: the API target (src/cli/settings.ts), whether to print JSON (`--json`),
 * where to write, and a request helper. {@link Runner} adapts a command handler to commander's `action`
 * and records the exit code the handler returns (or the one its {@link CliError} carries).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { apiRequest, type RequestOptions } from './http.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { toJson } from './output.js';
import { resolveTarget, type ApiTarget } from './settings.js';

/** Where the CLI writes and reads; tests and the bin entry pass the process's streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal: progress is redrawn in place there. */
  errIsTty: boolean;
  /** All of stdin as text (for `--password-stdin`). */
  readStdin(): Promise<string>;
}

/** The process's own stdout, stderr and stdin. */
export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    errIsTty: process.stderr.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** A command's context. */
export interface Ctx {
  target: ApiTarget;
  /** `--json`: print the API's answers as JSON on stdout instead of text. */
  json: boolean;
  io: Io;
  /** Print `data` as JSON with `--json`, else the text `human(data)` returns; each ends with a newline. */
  emit<T>(data: T, human: (data: T) => string): void;
  /** {@link apiRequest} against this context's target. */
  api<S extends z.ZodType>(method: string, path: string, schema: S, opts?: RequestOptions): Promise<z.infer<S>>;
}

/** Options every command accepts (declared on the program, so they go before or after the command). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Build a context from the global options. */
export function createCtx(io: Io, globals: GlobalOptions): Ctx {
  const json = globals.json === true;
  const target = resolveTarget(globals);
  return {
    target,
    json,
    io,
    emit: (data, human) => io.out(`${json ? toJson(data) : human(data)}\n`),
    api: (method, path, schema, opts) => apiRequest(target, method, path, schema, opts),
  };
}

/** The exit code of the last command run. */
export interface RunState {
  exitCode: ExitCode;
}

/** Wraps a handler `(ctx, ...commander's arguments) => exit code` as a commander action. */
export type Runner = <A extends unknown[]>(
  fn: (ctx: Ctx, ...args: A) => Promise<ExitCode | void>,
) => (...args: unknown[]) => Promise<void>;

/** A {@link Runner} writing to `io` and recording exit codes in `state`. */
export function runner(io: Io, state: RunState): Runner {
  return <A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<ExitCode | void>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      try {
        const ctx = createCtx(io, cmd.optsWithGlobals<GlobalOptions>());
        state.exitCode = (await fn(ctx, ...(args.slice(0, -1) as A))) ?? EXIT.ok;
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        io.err(`floe: ${err.message}\n`);
        state.exitCode = err.exitCode;
      }
    };
}

/** Any JSON object (fields the CLI only passes through). */
export const anyObject = z.looseObject({});

/** A list answer `{count, <key>: [...]}` of objects. */
export function listOf<K extends string>(key: K) {
  return z.looseObject({ [key]: z.array(anyObject) } as Record<K, z.ZodArray<typeof anyObject>>);
}
