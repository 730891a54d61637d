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
];

/** The parameters of a session, as the login response and every query response carry them. */
export function sessionParameters(s: Pick<Session, 'autocommit'>): { name: string; value: unknown }[] {
  return [{ name: 'AUTOCOMMIT', value: s.autocommit }, ...FIXED_PARAMETERS];
}
