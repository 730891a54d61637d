/**
 * Per-user Snowflake configurations of the execution upload (where each user's execution results are
 * uploaded, and with which credential): mount at `/api/snowflake-sync/config` after authentication.
 * The credential is a password, a key pair, a programmatic access token or an OAuth token
 * (src/credentials/kinds.ts), stored encrypted and never returned.
 *
 * | route | success | errors |
 * |---|---|---|
 * | `PUT /` `{user_id?, account, user, authenticator, password \| private_key [+ private_key_passphrase] \| token, database, schema, warehouse?, role?, access_url?}` | 200 the configuration (no secret) | 400 naming the field |
 * | `GET /?user_id=` | 200 the configuration (no secret) | 404 none |
 * | `POST /test` `{user_id?}` | 200 `{user_id, current_user, current_role, current_warehouse}` | 404, 422 `snowflake_sign_in_failed` with `snowflake_code` |
 * | `DELETE /?user_id=` | 200 `{user_id, deleted: true}` | 404 none |
 *
 * Whose configuration: {@link configOwner}. Without FLOE_ENCRYPTION_KEY, PUT and test answer 503.
 */
import { Router, type Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { checkCredentialSecret, secretOf } from '../../credentials/kinds.js';
import type { SecretKeys } from '../../secrets/crypto.js';
import * as store from '../../uploads/store.js';
import { userScope } from '../auth.js';
import { ApiError, notFound, parseInput } from '../errors.js';
import { answerSignInTest, connectionFields, readSecret, requireKeys } from './credentials.js';

/** Dependencies of {@link uploadConfigRouter}. */
export interface UploadConfigRouterDeps {
  pool: pg.Pool;
  /** FLOE_ENCRYPTION_KEY (and _PREVIOUS); undefined when not configured. */
  secretKeys: SecretKeys | undefined;
}

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const identifier = z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
const putBody = z
  .object({ user_id: uuid.optional(), ...connectionFields, database: identifier, schema: identifier })
  .strict()
  .superRefine(checkCredentialSecret);
const ownerOnly = z.object({ user_id: uuid.optional() }).strict();

/**
 * The user whose configuration a request addresses: a `user`-role token its own (naming another is
 * 403), an admin the `user_id` it names (400 when it names nobody). Scoping is {@link userScope}'s.
 */
export function configOwner(res: Response, named: string | undefined): string {
  const own = userScope(res);
  if (own !== null) {
    if (named !== undefined && named.toLowerCase() !== own.toLowerCase()) {
      throw new ApiError(
        403,
        'forbidden',
        "field 'user_id': a user token may only address its own configuration",
        'user_id',
      );
    }
    return own;
  }
  if (named === undefined)
    throw new ApiError(400, 'invalid_request', "field 'user_id' is required for an admin token", 'user_id');
  return named;
}

/** Router with `/` and `/test` (see the module comment). */
export function uploadConfigRouter(deps: UploadConfigRouterDeps): Router {
  const r = Router();

  r.put('/', async (req, res) => {
    const keys = requireKeys(deps.secretKeys);
    const b = parseInput(putBody, req.body, 'body');
    const userId = configOwner(res, b.user_id);
    const saved = await store.saveSnowflakeConfiguration(deps.pool, keys, {
      userId,
      account: b.account,
      username: b.user,
      authenticator: b.authenticator,
      secret: secretOf(b),
      database: b.database,
      schema: b.schema,
      warehouse: b.warehouse ?? null,
      role: b.role ?? null,
      accessUrl: b.access_url ?? null,
    });
    res.json(saved);
  });

  r.get('/', async (req, res) => {
    const userId = configOwner(res, parseInput(ownerOnly, req.query, 'query').user_id);
    const cfg = await store.getSnowflakeConfiguration(deps.pool, userId);
    if (!cfg) throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    res.json(cfg);
  });

  r.post('/test', async (req, res) => {
    const keys = requireKeys(deps.secretKeys);
    const userId = configOwner(res, parseInput(ownerOnly, req.body, 'body').user_id);
    const label = `the Snowflake configuration of user ${userId}`;
    const cfg = await readSecret(label, () => store.activeSettings(deps.pool, userId, keys));
    if (!cfg) throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    await answerSignInTest(res, cfg.settings, label, { user_id: userId });
  });

  r.delete('/', async (req, res) => {
    const userId = configOwner(res, parseInput(ownerOnly, req.query, 'query').user_id);
    if (!(await store.deleteSnowflakeConfiguration(deps.pool, userId)))
      throw notFound(`user ${userId} has no Snowflake configuration`, 'user_id');
    res.json({ user_id: userId, deleted: true });
  });

  return r;
}
