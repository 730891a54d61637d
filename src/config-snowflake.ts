/**
 * floe's own Snowflake credential, read from the SNOWFLAKE_* variables for src/config.ts: which
 * authenticator, which one credential, and whether snowflake-sdk will accept it (a PKCS#8 RSA key its
 * passphrase decrypts, a token file it will read) — checked without signing in, each problem naming
 * the variable and never its value.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from './config.js';
import {
  privateKeyProblem,
  SNOWFLAKE_AUTHENTICATORS,
  type SnowflakeAuthenticator,
  type SnowflakeSettings,
} from './connectors/snowflake.js';
/** The credential part of {@link SnowflakeSettings}. */
export type SnowflakeCredential = Pick<
  SnowflakeSettings,
  'authenticator' | 'password' | 'privateKey' | 'privateKeyPassphrase' | 'token' | 'tokenFilePath'
>;

/** The variables that carry each kind of credential. */
const CREDENTIAL_VARIABLES = {
  password: ['SNOWFLAKE_PASSWORD'],
  key: ['SNOWFLAKE_PRIVATE_KEY', 'SNOWFLAKE_PRIVATE_KEY_PATH', 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'],
  token: ['SNOWFLAKE_TOKEN', 'SNOWFLAKE_TOKEN_FILE_PATH'],
} as const;

const CREDENTIAL_OF: Record<SnowflakeAuthenticator, keyof typeof CREDENTIAL_VARIABLES> = {
  SNOWFLAKE: 'password',
  SNOWFLAKE_JWT: 'key',
  PROGRAMMATIC_ACCESS_TOKEN: 'token',
  OAUTH: 'token',
};

/**
 * floe's own Snowflake credential from the (cleaned) SNOWFLAKE_* variables, checked as far as it can
 * be without signing in: exactly one credential for the authenticator, a readable PKCS#8 RSA key its
 * passphrase decrypts, a non-empty token file snowflake-sdk will accept. The authenticator defaults
 * to SNOWFLAKE_JWT when a key is given, else SNOWFLAKE. Problems name the variable, never its value.
 */
export function snowflakeCredential(env: Record<string, string>): {
  settings: SnowflakeCredential;
  issues: ConfigIssue[];
} {
  const issues: ConfigIssue[] = [];
  const problem = (variable: string, text: string) => issues.push({ variable, problem: text });
  const given = (name: string) => env[name] !== undefined;
  const chosen = env.SNOWFLAKE_AUTHENTICATOR?.toUpperCase();
  const keyVariable = given('SNOWFLAKE_PRIVATE_KEY') ? 'SNOWFLAKE_PRIVATE_KEY' : 'SNOWFLAKE_PRIVATE_KEY_PATH';
  const tokenVariable = given('SNOWFLAKE_TOKEN') ? 'SNOWFLAKE_TOKEN' : 'SNOWFLAKE_TOKEN_FILE_PATH';
  // An unknown SNOWFLAKE_AUTHENTICATOR is reported by the schema.
  if (chosen !== undefined && !(SNOWFLAKE_AUTHENTICATORS as readonly string[]).includes(chosen))
    return { settings: {}, issues };
  const authenticator = (chosen ?? (given(keyVariable) ? 'SNOWFLAKE_JWT' : 'SNOWFLAKE')) as SnowflakeAuthenticator;
  const kind = CREDENTIAL_OF[authenticator];

  for (const [other, names] of Object.entries(CREDENTIAL_VARIABLES)) {
    if (other === kind) continue;
    for (const name of names.filter(given)) {
      problem(
        name,
        `is set, but floe signs in with ${authenticator} (${kind === 'key' ? 'a key pair' : `a ${kind}`}): give one credential only`,
      );
    }
  }
  if (given('SNOWFLAKE_PRIVATE_KEY') && given('SNOWFLAKE_PRIVATE_KEY_PATH'))
    problem('SNOWFLAKE_PRIVATE_KEY', 'and SNOWFLAKE_PRIVATE_KEY_PATH are both set: give one');
  if (given('SNOWFLAKE_TOKEN') && given('SNOWFLAKE_TOKEN_FILE_PATH'))
    problem('SNOWFLAKE_TOKEN', 'and SNOWFLAKE_TOKEN_FILE_PATH are both set: give one');

  switch (kind) {
    case 'password':
      if (!given('SNOWFLAKE_PASSWORD'))
        problem('SNOWFLAKE_PASSWORD', 'is required (or sign in with a key pair: SNOWFLAKE_PRIVATE_KEY_PATH)');
      return { settings: { authenticator, password: env.SNOWFLAKE_PASSWORD }, issues };
    case 'key': {
      if (!given(keyVariable)) {
        problem(
          'SNOWFLAKE_PRIVATE_KEY_PATH',
          `is required with SNOWFLAKE_AUTHENTICATOR=${authenticator} (or SNOWFLAKE_PRIVATE_KEY)`,
        );
        return { settings: {}, issues };
      }
      let pem: string;
      if (keyVariable === 'SNOWFLAKE_PRIVATE_KEY') {
        pem = env.SNOWFLAKE_PRIVATE_KEY.replace(/\\n/g, '\n');
      } else {
        try {
          pem = fs.readFileSync(path.resolve(env.SNOWFLAKE_PRIVATE_KEY_PATH), 'utf8');
        } catch (err) {
          problem(keyVariable, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
          return { settings: {}, issues };
        }
      }
      const passphrase = env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE;
      const bad = privateKeyProblem(pem, passphrase);
      if (bad) problem(bad.field === 'privateKey' ? keyVariable : 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', bad.problem);
      return {
        settings: {
          authenticator,
          privateKey: pem,
          ...(passphrase !== undefined && { privateKeyPassphrase: passphrase }),
        },
        issues,
      };
    }
    case 'token': {
      if (given('SNOWFLAKE_TOKEN')) return { settings: { authenticator, token: env.SNOWFLAKE_TOKEN }, issues };
      if (!given(tokenVariable)) {
        problem(
          'SNOWFLAKE_TOKEN_FILE_PATH',
          `is required with SNOWFLAKE_AUTHENTICATOR=${authenticator} (or SNOWFLAKE_TOKEN)`,
        );
        return { settings: {}, issues };
      }
      const file = path.resolve(env.SNOWFLAKE_TOKEN_FILE_PATH);
      const fault = tokenFileProblem(file);
      if (fault) problem('SNOWFLAKE_TOKEN_FILE_PATH', fault);
      return { settings: { authenticator, tokenFilePath: file }, issues };
    }
  }
}

/**
 * Why snowflake-sdk would not take a token file, or null: it must be readable, not empty, and
 * neither executable nor writable by group or others (the driver's file_util.js refuses those).
 */
function tokenFileProblem(file: string): string | null {
  try {
    const mode = fs.statSync(file).mode;
    if (fs.readFileSync(file, 'utf8').trim() === '') return 'is an empty file: it must hold the token';
    if (mode & 0o133)
      return `has mode ${(mode & 0o777).toString(8)}: snowflake-sdk refuses token files that are executable or writable by group or others (chmod 600 it)`;
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return null;
}
