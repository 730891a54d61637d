/**
 * Snowflake-style SQL errors. The server answers them as HTTP 200
 * `{success:false, code, message, data:{errorCode, sqlState}}` — never a 5xx, which the driver
 * retries for a very long time (DESIGN §5).
 */
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
    new SnowflakeError('002003', '02000', `SQL compilation error:\nObject '${what}' does not exist or not authorized.`),
  /** "SQL compilation error: syntax error line 1 at position N unexpected 'X'." */
  syntax: (detail: string) => new SnowflakeError('001003', '42000', `SQL compilation error:\nsyntax error ${detail}`),
  /** "SQL compilation error: error line 0 at position -1 invalid identifier 'X'" */
  invalidIdentifier: (name: string) =>
    new SnowflakeError('000904', '42000', `SQL compilation error: error line 0 at position -1\ninvalid identifier '${name}'`),
  /** "Object 'X' already exists." */
  alreadyExists: (what: string) => new SnowflakeError('002002', '42710', `SQL compilation error:\nObject '${what}' already exists.`),
  /** Feature not supported by the emulator (or by Snowflake). */
  unsupported: (what: string) => new SnowflakeError('002040', '0A000', `SQL compilation error:\nUnsupported feature '${what}'.`),
  /** Numeric value out of range / conversion failures. */
  numericOutOfRange: (detail: string) => new SnowflakeError('100039', '22003', `Numeric value '${detail}' is out of range`),
  /** Generic DML/conversion failure. */
  conversion: (detail: string) => new SnowflakeError('100038', '22018', detail),
  /** Statement cancelled by abort-request or timeout. */
  cancelled: () => new SnowflakeError('000604', '57014', 'SQL execution canceled'),
  /** Unloading TIMESTAMP_TZ/LTZ to Parquet is refused by Snowflake. */
  parquetTimezone: (col: string) =>
    new SnowflakeError('002102', '0A000', `SQL compilation error:\nUnloading TIMESTAMP_TZ and TIMESTAMP_LTZ data to Parquet is not supported (column '${col}').`),
} as const;
