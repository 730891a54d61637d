/**
 * Snowflake-style SQL errors. The server answers them as HTTP 200
 * `{success:false, code, message, data:{errorCode, sqlState}}` — never a 5xx, which the driver
 * retries for a very long time.
 */
import { fromDuckdbName } from './sql/tokenizer.js';

export class SnowflakeError extends Error {
  constructor(
    /** Six-digit Snowflake error code, e.g. '002003'. */
    readonly code: string,
    /** Five-character SQLSTATE, e.g. '02000'. */
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
    this.name = 'SnowflakeError';
  }
}

/** Error codes used by the emulator, with the SQLSTATE Snowflake pairs them with. */
export const SfErrors = {
  /** "SQL compilation error: Object 'X' does not exist or not authorized." */
  objectDoesNotExist: (what: string) =>
    new SnowflakeError('002003', '42S02', `SQL compilation error:\nObject '${what}' does not exist or not authorized.`),
  /** "SQL compilation error: syntax error line 1 at position N unexpected 'X'." */
  syntax: (detail: string) => new SnowflakeError('001003', '42000', `SQL compilation error:\nsyntax error ${detail}`),
  /** "SQL compilation error: error line 0 at position -1 invalid identifier 'X'" */
  invalidIdentifier: (name: string) =>
    new SnowflakeError(
      '000904',
      '42000',
      `SQL compilation error: error line 0 at position -1\ninvalid identifier '${name}'`,
    ),
  /** "Object 'X' already exists." */
  alreadyExists: (what: string) =>
    new SnowflakeError('002002', '42710', `SQL compilation error:\nObject '${what}' already exists.`),
  /** Feature not supported by the emulator (or by Snowflake). */
  unsupported: (what: string) =>
    new SnowflakeError('002040', '0A000', `SQL compilation error:\nUnsupported feature '${what}'.`),
  /** Numeric value out of range / conversion failures. */
  numericOutOfRange: (detail: string) =>
    new SnowflakeError('100039', '22003', `Numeric value '${detail}' is out of range`),
  /** Generic DML/conversion failure. */
  conversion: (detail: string) => new SnowflakeError('100038', '22018', detail),
  /** Statement cancelled by abort-request or timeout. */
  cancelled: () => new SnowflakeError('000604', '57014', 'SQL execution canceled'),
  /** Unloading TIMESTAMP_TZ/LTZ to Parquet is refused by Snowflake. */
  parquetTimezone: (col: string) =>
    new SnowflakeError(
      '002102',
      '0A000',
      `SQL compilation error:\nUnloading TIMESTAMP_TZ and TIMESTAMP_LTZ data to Parquet is not supported (column '${col}').`,
    ),
  /** "Stage 'X' does not exist or not authorized." (stages, copy). */
  stageDoesNotExist: (name: string) =>
    new SnowflakeError('002003', '42S02', `SQL compilation error:\nStage '${name}' does not exist or not authorized.`),
  /** COPY INTO <location> onto existing file names without OVERWRITE = TRUE (Snowflake's message; code not verified live). */
  unloadDestinationExists: (location: string) =>
    new SnowflakeError(
      '001030',
      '22000',
      `Files already existing at the unload destination: ${location}. Use overwrite option to force unloading.`,
    ),
  /** SINGLE = TRUE unload larger than MAX_FILE_SIZE (Snowflake's message; code not verified live). */
  singleFileTooLarge: (maxFileSize: number) =>
    new SnowflakeError(
      '100132',
      '22000',
      `Max file size (${maxFileSize}) exceeded for unload single file mode. We recommend that you increase the max file size parameter, or disable single-file mode in the unload command and combine the unloaded files into a single file after you download them.`,
    ),
  /** COPY INTO <table> from Parquet into several columns without MATCH_BY_COLUMN_NAME. */
  semiStructuredNeedsMatch: (type: string) =>
    new SnowflakeError(
      '002019',
      '0A000',
      `SQL compilation error:\n${type} file format can produce one and only one column of type variant, object, or array. Load data into separate columns using the MATCH_BY_COLUMN_NAME copy option or copy with transformation.`,
    ),
  /** COPY INTO <table> FILES = (...) naming a file that is not staged (code not verified live). */
  remoteFileNotFound: (file: string) =>
    new SnowflakeError(
      '002003',
      '42S02',
      `Remote file '${file}' was not found. There are several potential causes. The file might not exist. The required credentials may be missing or invalid.`,
    ),
} as const;

/** Snowflake's login failures. */
export const LoginErrors = {
  password: () => new SnowflakeError('390100', '08004', 'Incorrect username or password was specified.'),
  jwt: () => new SnowflakeError('390144', '08004', 'JWT token is invalid.'),
  pat: () => new SnowflakeError('394400', '08004', 'Programmatic access token is invalid.'),
  oauth: () => new SnowflakeError('390303', '08004', 'Invalid OAuth access token.'),
} as const;

/** DESC/ALTER/DROP USER of a user that does not exist. */
export const userDoesNotExist = (name: string) =>
  new SnowflakeError('002003', '42S02', `SQL compilation error:\nUser '${name}' does not exist or not authorized.`);
/** An RSA_PUBLIC_KEY value that is not an RSA public key (Snowflake's wording; code not verified live). */
export const invalidPublicKey = () =>
  new SnowflakeError(
    '001003',
    '22023',
    'Invalid RSA public key: the value must be the base64 of an X.509 SubjectPublicKeyInfo RSA key.',
  );

/** Maps a DuckDB exception to the Snowflake error a real account would return. */
export function toSnowflakeError(e: unknown): SnowflakeError {
  if (e instanceof SnowflakeError) return e;
  // DuckDB names objects as it stores them: give Snowflake's names back (tokenizer.ts).
  const msg = fromDuckdbName(e instanceof Error ? e.message : String(e));
  const first = msg.split('\n')[0];
  let m: RegExpExecArray | null;
  if (/INTERRUPT/i.test(msg)) return SfErrors.cancelled();
  if ((m = /(?:Table|View|Schema|Catalog|Database) (?:with name )?"?([^"\s!]+)"? does not exist/i.exec(first)))
    return SfErrors.objectDoesNotExist(m[1]);
  if ((m = /Referenced column "?([^"]+)"? not found/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if ((m = /Referenced table "?([^"]+)"? not found/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if ((m = /column "?([^"]+)"? (?:does not exist|not found)/i.exec(first))) return SfErrors.invalidIdentifier(m[1]);
  if (/^Parser Error/.test(first)) {
    const near = /at or near "([^"]*)"/.exec(first);
    return SfErrors.syntax(`line 1 at position 0 unexpected '${near?.[1] ?? '<EOF>'}'.`);
  }
  if (
    (m = /Scalar Function with name (\w+) does not exist/i.exec(first)) ||
    (m = /Function with name (\w+) does not exist/i.exec(first))
  )
    return new SnowflakeError('002140', '42601', `SQL compilation error:\nUnknown function ${m[1].toUpperCase()}`);
  if (/Division by zero/i.test(first)) return new SnowflakeError('100051', '22012', 'Division by zero');
  if (/NOT NULL constraint failed/i.test(first))
    return new SnowflakeError('100072', '22000', `NULL result in a non-nullable column`);
  if (/Out of Range|out of range|Overflow/i.test(first))
    return SfErrors.numericOutOfRange(first.replace(/^[^:]*:\s*/, ''));
  if (/^Conversion Error|^Invalid Input Error/.test(first))
    return SfErrors.conversion(first.replace(/^[^:]*Error:\s*/, ''));
  if (/Conflict/i.test(first))
    return new SnowflakeError(
      '000625',
      '57014',
      `Statement aborted because of a conflicting concurrent write: ${first}`,
    );
  if (/already exists/i.test(first)) {
    const n = /"([^"]+)"/.exec(first);
    return SfErrors.alreadyExists(n?.[1] ?? 'object');
  }
  if (/^Binder Error|^Catalog Error/.test(first))
    return new SnowflakeError('002049', '42601', `SQL compilation error: ${first.replace(/^[^:]*Error:\s*/, '')}`);
  return new SnowflakeError('100090', '42000', first);
}
