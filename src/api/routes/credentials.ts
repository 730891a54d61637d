/**
 * Named Snowflake credentials (the equivalent of Snowflake's `CREATE SECRET` for floe's cache sources):
 * mount under /api/v1 after authentication; admin only. Secrets go in, never out: every response shows
 * the name, account, user, authenticator, public key fingerprint or token's last four characters, and
 * the created / rotated times (docs/credentials.md).
 *
 * | route | success | errors |
 * |---|---|---|
 * | `POST /credentials` `{name, account, user, authenticator, password \| private_key [+ private_key_passphrase] \| token, role?, warehouse?, database?, schema?, access_url?}` | 201 the credential | 400 naming the field (e.g. key not PKCS#8), 409 name taken |
 * | `GET /credentials` | 200 `{count, credentials}` | |
 * | `GET /credentials/{name}` | 200 the credential | 404 |
 * | `PUT /credentials/{name}` (same body without `name`) | 200 the credential, `rotated_at` set | 400, 404 |
 * | `DELETE /credentials/{name}` | 200 `{name, deleted: true}` | 404, 409 while a cache source uses it (`sources`) |
 * | `POST /credentials/{name}/test` | 200 `{name, current_user, current_role, current_warehouse}` | 404, 422 `snowflake_sign_in_failed` with `snowflake_code`, 503 `secret_unreadable` |
 *
 * Without FLOE_ENCRYPTION_KEY every route answers 503 `encryption_key_missing`.
 */
import { Router, type Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { SnowflakeSettings } from '../../connectors/snowflake.js';
import { secretOf, testSignIn } from '../../credentials/kinds.js';
import * as store from '../../credentials/store.js';
import { SecretError, type SecretKeys } from '../../secrets/crypto.js';
import { ApiError, conflict, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/credentials.js';

/** Dependencies of {@link credentialsRouter}. */
export interface CredentialsRouterDeps {
  pool: pg.Pool;
  /** FLOE_ENCRYPTION_KEY (and _PREVIOUS); undefined when not configured. */
  secretKeys: SecretKeys | undefined;
}

/** The keys, or 503 when the server has none. */
export function requireKeys(keys: SecretKeys | undefined): SecretKeys {
  if (!keys)
    throw new ApiError(
      503,
      'encryption_key_missing',
      'FLOE_ENCRYPTION_KEY is not set: this server cannot store or read secrets',
    );
  return keys;
}

/** `read()`'s result; a stored secret that does not decrypt (wrong or missing key) becomes 503 `secret_unreadable` naming `label`. */
export async function readSecret<T>(label: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SecretError) throw new ApiError(503, 'secret_unreadable', `${label}: ${err.message}`);
    throw err;
  }
}

/**
 * Signs in with `settings` and answers 200 with `CURRENT_USER()`, `CURRENT_ROLE()` and
 * `CURRENT_WAREHOUSE()` (plus `extra`), or throws 422 `snowflake_sign_in_failed` carrying Snowflake's
 * code and message (never the secret).
 */
export async function answerSignInTest(
  res: Response,
  settings: SnowflakeSettings,
  label: string,
  extra: Record<string, unknown>,
): Promise<void> {
  const r = await testSignIn(settings, label);
  if (!r.ok)
    throw new ApiError(422, 'snowflake_sign_in_failed', r.error.message, undefined, { snowflake_code: r.error.code });
  const { ok: _ok, ...who } = r;
  res.json({ ...extra, ...who });
}

function input(name: string, b: z.infer<typeof ops.rotateBody>): store.CredentialInput {
  return {
    name,
    account: b.account,
    user: b.user,
    authenticator: b.authenticator,
    secret: secretOf(b),
    ...(b.role !== undefined && { role: b.role }),
    ...(b.warehouse !== undefined && { warehouse: b.warehouse }),
    ...(b.database !== undefined && { database: b.database }),
    ...(b.schema !== undefined && { schema: b.schema }),
    ...(b.access_url !== undefined && { accessUrl: b.access_url }),
  };
}

/** Router with `/credentials` (see the module comment). */
export function credentialsRouter(deps: CredentialsRouterDeps): Router {
  const r = Router();
  const nameParam = (params: unknown): string => parseInput(ops.credentialParams, params, 'params').name;
  const keys = () => requireKeys(deps.secretKeys);

  route(r, ops.createCredential, async (req, res) => {
    const k = keys();
    const b = parseInput(ops.createBody, req.body, 'body');
    const created = await store.createCredential(deps.pool, k, input(b.name, b));
    if (!created)
      throw new ApiError(
        409,
        'credential_exists',
        `a credential named '${b.name}' exists; PUT /credentials/${b.name} rotates it`,
        'name',
      );
    res.status(201).json(created);
  });

  route(r, ops.listCredentials, async (_req, res) => {
    keys();
    const credentials = await store.listCredentials(deps.pool);
    res.json({ count: credentials.length, credentials });
  });

  route(r, ops.getCredential, async (req, res) => {
    keys();
    const name = nameParam(req.params);
    const c = await store.getCredential(deps.pool, name);
    if (!c) throw notFound(`no credential named '${name}'`, 'name');
    res.json(c);
  });

  route(r, ops.rotateCredential, async (req, res) => {
    const k = keys();
    const name = nameParam(req.params);
    const b = parseInput(ops.rotateBody, req.body, 'body');
    const c = await store.rotateCredential(deps.pool, k, input(name, b));
    if (!c) throw notFound(`no credential named '${name}'; POST /credentials creates it`, 'name');
    res.json(c);
  });

  route(r, ops.deleteCredential, async (req, res) => {
    keys();
    const name = nameParam(req.params);
    const out = await store.deleteCredential(deps.pool, name);
    if (!out.deleted && out.reason === 'not_found') throw notFound(`no credential named '${name}'`, 'name');
    if (!out.deleted && out.reason === 'in_use') {
      throw conflict(
        `credential '${name}' is used by cache source ${out.sources.join(', ')}; point the source at another credential first`,
        { sources: out.sources },
      );
    }
    res.json({ name, deleted: true });
  });

  route(r, ops.testCredential, async (req, res) => {
    const k = keys();
    const name = nameParam(req.params);
    const settings = await readSecret(`credential '${name}'`, () => store.credentialSettings(deps.pool, k, name));
    if (!settings) throw notFound(`no credential named '${name}'`, 'name');
    await answerSignInTest(res, settings, `credential '${name}'`, { name });
  });

  return r;
}
