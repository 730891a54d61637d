/**
 * Where the CLI finds the API and its token: a flag (`--url`, `--token`), else the environment
 * (`FLOE_API_URL`, `FLOE_TOKEN`), else the login saved by `floe login` in
 * `$XDG_CONFIG_HOME/floe/cli.json` (default `~/.config/floe/cli.json`). The saved file holds a bearer
 * token, so it is written with mode 0600 in a directory of mode 0700, and a saved token is only sent to
 * the URL it was issued by.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { envValue } from '../config.js';
import { CliError, EXIT } from './errors.js';
import { parseJson } from './http.js';

/** The API URL used when neither flag, environment nor saved login names one (`npm run stack`'s address). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8000';

/** The API a command talks to, and the bearer token it sends (none before `floe login`). */
export interface ApiTarget {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8000`. */
  url: string;
  token?: string;
}

const savedLogin = z.object({
  url: z.string(),
  token: z.string(),
  username: z.string().optional(),
  /** ISO time the token expires (from the API's `expires_in`). */
  expires_at: z.string().optional(),
});

/** What `floe login` saves. */
export type SavedLogin = z.infer<typeof savedLogin>;

/** Path of the saved login file. */
export function loginFilePath(): string {
  const base = envValue('XDG_CONFIG_HOME') ?? path.join(os.homedir(), '.config');
  return path.join(base, 'floe', 'cli.json');
}

/**
 * The saved login, or undefined when there is none or the file is not one (then commands say "not
 * signed in", and `floe login` overwrites it). Throws {@link CliError} when the file cannot be read.
 */
export function readSavedLogin(file = loginFilePath()): SavedLogin | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  const parsed = savedLogin.safeParse(parseJson(text));
  return parsed.success ? parsed.data : undefined;
}

/** Save a login (mode 0600; the directory 0700). Returns the file's path. */
export function saveLogin(login: SavedLogin, file = loginFilePath()): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync applies `mode` only when it creates the file: tighten one that existed before.
  chmodSync(file, 0o600);
  return file;
}

/** Delete the saved login; true if there was one. */
export function forgetLogin(file = loginFilePath()): boolean {
  const existed = readSavedLogin(file) !== undefined;
  rmSync(file, { force: true });
  return existed;
}

/** `url` without trailing slashes; {@link CliError} unless it is an http(s) URL. */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--url: '${url}' is not a URL (e.g. ${DEFAULT_API_URL})`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`--url: '${url}' must be an http:// or https:// URL`, EXIT.usage);
  return url.replace(/\/+$/, '');
}

/** Resolve the API target from flags, environment and the saved login (see the module comment). */
export function resolveTarget(flags: { url?: string; token?: string }): ApiTarget {
  const saved = readSavedLogin();
  const url = normalizeUrl(flags.url ?? envValue('FLOE_API_URL') ?? saved?.url ?? DEFAULT_API_URL);
  const token =
    flags.token ?? envValue('FLOE_TOKEN') ?? (saved && normalizeUrl(saved.url) === url ? saved.token : undefined);
  return token ? { url, token } : { url };
}
