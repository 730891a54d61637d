/**
 * Descriptions of the named credentials routes (src/api/routes/credentials.ts) and the schemas of their
 * requests; {@link connectionFields} is shared with the execution upload's per-user configuration.
 */
import { z } from 'zod';
import { SNOWFLAKE_AUTHENTICATORS } from '../../connectors/snowflake.js';
import { checkCredentialSecret, credentialSecretFields } from '../../credentials/kinds.js';
import { DEFAULT_CREDENTIALS_REF } from '../../credentials/store.js';
import type { Operation } from '../openapi/operations.js';
import { answer, deleted, listOf, timestamp } from './shapes.js';

const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Fields naming a Snowflake account, user and session defaults, shared by every body that carries a credential. */
export const connectionFields = {
  account: text(255),
  user: text(255),
  role: text(255).optional(),
  warehouse: text(255).optional(),
  access_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ...credentialSecretFields,
};

const CREDENTIAL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const credentialName = z
  .string()
  .regex(
    CREDENTIAL_NAME,
    'must be a name of letters, digits, _, . and - (not starting with a digit), at most 128 characters',
  )
  .refine(
    (n) => n !== DEFAULT_CREDENTIALS_REF,
    `'${DEFAULT_CREDENTIALS_REF}' is reserved for the server's own connection`,
  );
const credentialFields = { ...connectionFields, database: text(255).optional(), schema: text(255).optional() };
/** `PUT /credentials/{name}`: a credential without its name. */
export const rotateBody = z.object(credentialFields).strict().superRefine(checkCredentialSecret);
/** `POST /credentials`. */
export const createBody = z
  .object({ name: credentialName, ...credentialFields })
  .strict()
  .superRefine(checkCredentialSecret);
/** `/credentials/{name}` path. */
export const credentialParams = z.object({ name: credentialName });

/** A stored credential as the API shows it: never the secret, only hints of it. */
export const credentialView = answer({
  name: z.string(),
  account: z.string(),
  user: z.string(),
  authenticator: z.enum(SNOWFLAKE_AUTHENTICATORS),
  role: z.string().nullable(),
  warehouse: z.string().nullable(),
  database: z.string().nullable(),
  schema: z.string().nullable(),
  access_url: z.string().nullable(),
  public_key_fingerprint: z.string().nullable().meta({ description: 'SHA256 of the public key (key pair).' }),
  token_last4: z.string().nullable().meta({ description: "The token's last four characters." }),
  created_at: timestamp,
  rotated_at: timestamp.nullable(),
});

/** The answer of a sign-in test: who Snowflake says signed in. */
export const signInTest = answer({
  current_user: z.string().nullable(),
  current_role: z.string().nullable(),
  current_warehouse: z.string().nullable(),
});

const secretNote =
  'Give the secret its authenticator needs: `password`, `private_key` (PKCS#8 PEM, optionally ' +
  '`private_key_passphrase`) or `token`. Stored encrypted (FLOE_ENCRYPTION_KEY; 503 `encryption_key_missing` without it).';

export const createCredential: Operation = {
  method: 'post',
  path: '/credentials',
  summary: 'Store a named Snowflake credential',
  description: secretNote,
  body: createBody,
  responses: { 201: { description: 'The credential (no secret).', body: credentialView } },
  errors: [409, 503],
};

export const listCredentials: Operation = {
  method: 'get',
  path: '/credentials',
  summary: 'List named credentials',
  responses: { 200: { description: 'Every credential (no secret).', body: listOf('credentials', credentialView) } },
  errors: [503],
};

export const getCredential: Operation = {
  method: 'get',
  path: '/credentials/:name',
  summary: 'Read a named credential',
  params: credentialParams,
  responses: { 200: { description: 'The credential (no secret).', body: credentialView } },
  errors: [404, 503],
};

export const rotateCredential: Operation = {
  method: 'put',
  path: '/credentials/:name',
  summary: 'Rotate a named credential',
  description: `Replaces the credential; \`rotated_at\` is set. ${secretNote}`,
  params: credentialParams,
  body: rotateBody,
  responses: { 200: { description: 'The credential (no secret).', body: credentialView } },
  errors: [404, 503],
};

export const deleteCredential: Operation = {
  method: 'delete',
  path: '/credentials/:name',
  summary: 'Delete a named credential',
  description: 'Refused (409, `sources`) while a cache source uses it.',
  params: credentialParams,
  responses: { 200: { description: 'Deleted.', body: deleted({ name: z.string() }) } },
  errors: [404, 409, 503],
};

export const testCredential: Operation = {
  method: 'post',
  path: '/credentials/:name/test',
  summary: 'Sign in to Snowflake with a named credential',
  description: "422 `snowflake_sign_in_failed` carries Snowflake's code (`snowflake_code`) and message.",
  params: credentialParams,
  responses: { 200: { description: 'Signed in.', body: signInTest.extend({ name: z.string() }) } },
  errors: [404, 422, 503],
};
