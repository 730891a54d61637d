/**
 * Snowflake connections for activities and the API. Credentials come from {@link SnowflakeSettings}
 * (built from the environment by src/config.ts) and never leave this module: no workflow input,
 * result or log line carries them.
 *
 * Numbers are always fetched as strings (`fetchAsString: ['Number']`): NUMBER(38,0) exceeds JS
 * `number` (snowflake-connector-nodejs #162, #1385). NULLs stay `null`
 * (`representNullAsStringNull: false`; the driver's default turns them into the string 'NULL').
 */
import './snowflake-env.js'; // before snowflake-sdk: no cloud-metadata probing at load
import snowflake from 'snowflake-sdk';
import { createPrivateKey } from 'node:crypto';
import type { Readable } from 'node:stream';

/** How floe signs in to Snowflake (snowflake-sdk's `authenticator` values). */
export type SnowflakeAuthenticator = 'SNOWFLAKE' | 'SNOWFLAKE_JWT' | 'PROGRAMMATIC_ACCESS_TOKEN' | 'OAUTH';

/** The authenticators floe accepts, in the order the docs list them. */
export const SNOWFLAKE_AUTHENTICATORS = [
  'SNOWFLAKE_JWT',
  'PROGRAMMATIC_ACCESS_TOKEN',
  'OAUTH',
  'SNOWFLAKE',
] as const satisfies readonly SnowflakeAuthenticator[];

/**
 * Connection settings; `accessUrl` points at the emulator (e.g. http://127.0.0.1:8080). Which
 * credential field is used depends on `authenticator`: `password` (SNOWFLAKE), `privateKey`
 * (+ `privateKeyPassphrase`) (SNOWFLAKE_JWT), `token` or `tokenFilePath` (PROGRAMMATIC_ACCESS_TOKEN, OAUTH).
 */
export interface SnowflakeSettings {
  account: string;
  username: string;
  /** Default SNOWFLAKE (password). */
  authenticator?: SnowflakeAuthenticator;
  password?: string; // SNOWFLAKE
  privateKey?: string; // SNOWFLAKE_JWT: PKCS#8 PEM, possibly encrypted
  privateKeyPassphrase?: string; // for an encrypted PKCS#8 PEM
  token?: string; // PROGRAMMATIC_ACCESS_TOKEN or OAUTH
  tokenFilePath?: string; // re-read on every connect (rotated token files work without restart)
  accessUrl?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  role?: string;
}

/**
 * What a sign-in used, for error messages: authenticator, user and the kind of credential, never
 * the credential itself (e.g. `SNOWFLAKE_JWT as FLOE (key pair)`).
 */
export function describeSignIn(settings: SnowflakeSettings): string {
  const authenticator = settings.authenticator ?? 'SNOWFLAKE';
  const credential =
    authenticator === 'SNOWFLAKE_JWT'
      ? 'key pair'
      : authenticator === 'SNOWFLAKE'
        ? 'password'
        : settings.tokenFilePath !== undefined
          ? `token file ${settings.tokenFilePath}`
          : authenticator === 'OAUTH'
            ? 'OAuth access token'
            : 'programmatic access token';
  return `${authenticator} as ${settings.username} (${credential})`;
}

/**
 * snowflake-sdk connection options for the credential of `settings`. Each authenticator is the
 * driver's own: SNOWFLAKE sends PASSWORD; SNOWFLAKE_JWT signs a JWT with `privateKey` /
 * `privateKeyPass` (auth_keypair.js); PROGRAMMATIC_ACCESS_TOKEN and OAUTH send `token`, which the
 * driver reads from `tokenFilePath` when no token is given, at each createConnection
 * (configuration/connection_configuration.js), so every new session sees a rotated token file.
 */
function credentialOptions(settings: SnowflakeSettings): Partial<snowflake.ConnectionOptions> {
  const authenticator = settings.authenticator ?? 'SNOWFLAKE';
  switch (authenticator) {
    case 'SNOWFLAKE':
      return { authenticator, password: settings.password };
    case 'SNOWFLAKE_JWT':
      return {
        authenticator,
        privateKey: settings.privateKey,
        ...(settings.privateKeyPassphrase !== undefined && { privateKeyPass: settings.privateKeyPassphrase }),
      };
    case 'PROGRAMMATIC_ACCESS_TOKEN':
    case 'OAUTH':
      return {
        authenticator,
        ...(settings.token !== undefined ? { token: settings.token } : { tokenFilePath: settings.tokenFilePath }),
      };
  }
}

/**
 * Why a private key cannot sign floe in with SNOWFLAKE_JWT, or null when it can: it must be a PEM
 * PKCS#8 RSA key (`-----BEGIN PRIVATE KEY-----`, or `-----BEGIN ENCRYPTED PRIVATE KEY-----` with its
 * passphrase), the format Snowflake's key-pair documentation has `openssl pkcs8 -topk8` produce.
 * `field` says which input is at fault. Never includes key material.
 */
export function privateKeyProblem(
  pem: string,
  passphrase?: string,
): { field: 'privateKey' | 'privateKeyPassphrase'; problem: string } | null {
  const text = pem.trim();
  const encrypted = text.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  if (/^-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text) && !text.startsWith('-----BEGIN PRIVATE KEY-----')) {
    return {
      field: 'privateKey',
      problem:
        'is not PKCS#8 (a PKCS#1 "BEGIN RSA PRIVATE KEY" or EC key): convert it with `openssl pkcs8 -topk8 -inform PEM -in key.pem -out rsa_key.p8`',
    };
  }
  if (!encrypted && !text.startsWith('-----BEGIN PRIVATE KEY-----')) {
    return {
      field: 'privateKey',
      problem:
        'is not a PEM PKCS#8 private key (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN ENCRYPTED PRIVATE KEY-----")',
    };
  }
  if (encrypted && passphrase === undefined)
    return { field: 'privateKeyPassphrase', problem: 'is required: the private key is encrypted' };
  try {
    const key = createPrivateKey({ key: text, format: 'pem', ...(encrypted && { passphrase }) });
    if (key.asymmetricKeyType !== 'rsa')
      return {
        field: 'privateKey',
        problem: `must be an RSA key (Snowflake key-pair sign-in uses RS256), not ${key.asymmetricKeyType}`,
      };
  } catch {
    // A wrong passphrase usually fails the padding check (ERR_OSSL_BAD_DECRYPT), but about one time in
    // 256 the garbage it decrypts to has valid padding and fails later, as a malformed key. For an
    // encrypted PKCS#8 envelope both mean the passphrase does not open it.
    if (encrypted)
      return {
        field: 'privateKeyPassphrase',
        problem: 'does not decrypt the private key (wrong passphrase, or a damaged key)',
      };
    return { field: 'privateKey', problem: 'cannot be read as a PEM PKCS#8 private key' };
  }
  return null;
}

/** A failed sign-in: names the authenticator, user and credential kind; keeps the driver's `code` (e.g. 390100, 390144). */
export class SnowflakeSignInError extends Error {
  override readonly name = 'SnowflakeSignInError';
  constructor(
    settings: SnowflakeSettings,
    /** The driver's error code, when it gave one. */
    readonly code: string | undefined,
    driverMessage: string,
  ) {
    super(
      `Snowflake sign-in failed (${describeSignIn(settings)}, account ${settings.account}): ${code ? `${code} ` : ''}${driverMessage}`,
    );
  }
}

/** One row as returned with numbers, dates and timestamps fetched as strings or driver objects. */
export type SnowflakeRow = Record<string, unknown>;

let configured = false;
function configureOnce(): void {
  if (configured) return;
  // The driver logs to a file by default; floe logs through pino instead.
  snowflake.configure({ logLevel: 'ERROR', additionalLogToConsole: false } as snowflake.ConfigureOptions);
  configured = true;
}

/** An open Snowflake session. Close it with {@link SnowflakeSession.close}. */
export class SnowflakeSession {
  constructor(private readonly conn: snowflake.Connection) {}

  /**
   * Run one statement and return all rows (small results only: metadata, counts, DML outcomes).
   * Numbers come back as strings. Throws the driver's error (with `code` and `sqlState`) on failure.
   */
  query<T extends SnowflakeRow = SnowflakeRow>(sqlText: string, binds?: snowflake.Binds): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.conn.execute({
        sqlText,
        binds,
        fetchAsString: ['Number'],
        complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as T[])),
      });
    });
  }

  /**
   * Run one statement and stream its rows (large results: the driver fetches chunks lazily).
   * Numbers come back as strings (plus whatever `opts.fetchAsString` adds: `JSON` gives semi-structured
   * values as their raw JSON text, `Buffer` binaries as upper-case hex). The stream errors with the
   * driver's error. `rowMode: 'array'` yields rows as arrays in SELECT-list order (~25% faster to
   * decode than objects, measured on LINEITEM).
   */
  stream(
    sqlText: string,
    binds?: snowflake.Binds,
    opts: {
      fetchAsString?: ('Number' | 'JSON' | 'Buffer' | 'Boolean' | 'Date' | 'String')[];
      rowMode?: 'object' | 'array';
    } = {},
  ): Readable {
    const stmt = this.conn.execute({
      sqlText,
      binds,
      streamResult: true,
      fetchAsString: (opts.fetchAsString ?? ['Number']) as snowflake.DataType[],
      rowMode: opts.rowMode ?? 'object',
    });
    return stmt.streamRows();
  }

  /**
   * Result columns of a statement without running it (`describeOnly`): name, lower-case wire type
   * (fixed, real, text, timestamp_tz, ...), precision, scale, nullability. Throws the driver's error
   * (e.g. 002003 when an object does not exist).
   */
  describe(
    sqlText: string,
  ): Promise<{ name: string; type: string; precision: number | null; scale: number | null; nullable: boolean }[]> {
    return new Promise((resolve, reject) => {
      this.conn.execute({
        sqlText,
        describeOnly: true,
        complete: (err, stmt) => {
          if (err) return reject(err);
          const cols = (stmt.getColumns() ?? []) as unknown as {
            getName(): string;
            getType(): string;
            getPrecision(): number | null;
            getScale(): number | null;
            isNullable(): boolean;
          }[];
          resolve(
            cols.map((c) => ({
              name: c.getName(),
              type: c.getType(),
              precision: c.getPrecision(),
              scale: c.getScale(),
              nullable: c.isNullable(),
            })),
          );
        },
      } as snowflake.StatementOption);
    });
  }

  /** Whether the driver still holds a signed-in session (its local state; no request is made). */
  isUp(): boolean {
    return this.conn.isUp();
  }

  /** Close the session (`POST /session?delete=true`). Never throws. */
  close(): Promise<void> {
    return new Promise((resolve) => this.conn.destroy(() => resolve()));
  }
}

/**
 * Open a session. Throws {@link SnowflakeSignInError} when sign-in fails (wrong account, credential
 * or URL, an unreadable token file), naming the authenticator and user but not the secret.
 */
export async function connectSnowflake(settings: SnowflakeSettings): Promise<SnowflakeSession> {
  configureOnce();
  let conn: snowflake.Connection;
  try {
    conn = createConnection(settings);
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    const e = err as { code?: unknown; message?: string };
    throw new SnowflakeSignInError(
      settings,
      e.code === undefined ? undefined : String(e.code),
      e.message ?? String(err),
    );
  }
  return new SnowflakeSession(conn);
}

function createConnection(settings: SnowflakeSettings): snowflake.Connection {
  return snowflake.createConnection({
    account: settings.account,
    username: settings.username,
    ...credentialOptions(settings),
    accessUrl: settings.accessUrl,
    warehouse: settings.warehouse,
    database: settings.database,
    schema: settings.schema,
    role: settings.role,
    // With fetchAsString the driver otherwise returns SQL NULL as the *string* 'NULL' (its default,
    // data_types.js getNullValue), indistinguishable from the text 'NULL'. Process-wide in the driver.
    representNullAsStringNull: false,
  });
}

/** Run `fn` with a fresh session and always close it. */
export async function withSnowflake<T>(
  settings: SnowflakeSettings,
  fn: (s: SnowflakeSession) => Promise<T>,
): Promise<T> {
  const session = await connectSnowflake(settings);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
