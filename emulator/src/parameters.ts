/**
 * Session parameters the emulator reports at login and with every result (the driver reads them
 * from both). `CLIENT_STAGE_ARRAY_BINDING_THRESHOLD` is set very high: the driver then never
 * switches array binds to the temporary-stage path (`SYSTEM$BIND`), which the emulator does not
 * implement; array binds always arrive inline as `bindings`.
 */
import type { Session } from './session.js';

const FIXED_PARAMETERS = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 2_000_000_000 },
  { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
  { name: 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', value: 3600 },
  { name: 'CLIENT_RESULT_CHUNK_SIZE', value: 160 },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: '' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: '' },
  // What the JDBC, Go and Python drivers read at login: results come as JSON (there is no Arrow),
  // the session's timestamp mappings and statement count, and no telemetry to send.
  { name: 'QUERY_RESULT_FORMAT', value: 'JSON' },
  { name: 'JDBC_QUERY_RESULT_FORMAT', value: 'JSON' },
  { name: 'GO_QUERY_RESULT_FORMAT', value: 'JSON' },
  { name: 'PYTHON_CONNECTOR_QUERY_RESULT_FORMAT', value: 'JSON' },
  { name: 'ODBC_QUERY_RESULT_FORMAT', value: 'JSON' },
  { name: 'TIMESTAMP_TYPE_MAPPING', value: 'TIMESTAMP_NTZ' },
  { name: 'CLIENT_TIMESTAMP_TYPE_MAPPING', value: 'TIMESTAMP_LTZ' },
  { name: 'MULTI_STATEMENT_COUNT', value: 1 },
  { name: 'JDBC_TREAT_DECIMAL_AS_INT', value: true },
  { name: 'JDBC_USE_SESSION_TIMEZONE', value: true },
  { name: 'JDBC_EXECUTE_RETURN_COUNT_FOR_DML', value: false },
  { name: 'CLIENT_HONOR_CLIENT_TZ_FOR_TIMESTAMP_NTZ', value: true },
  { name: 'CLIENT_METADATA_REQUEST_USE_CONNECTION_CTX', value: false },
  { name: 'CLIENT_TELEMETRY_ENABLED', value: false },
  { name: 'CLIENT_TELEMETRY_OOB_ENABLED', value: false },
  { name: 'CLIENT_DISABLE_INCIDENTS', value: true },
];

/** The parameters of a session, as the login response and every query response carry them. */
export function sessionParameters(s: Pick<Session, 'autocommit'>): { name: string; value: unknown }[] {
  return [{ name: 'AUTOCOMMIT', value: s.autocommit }, ...FIXED_PARAMETERS];
}
