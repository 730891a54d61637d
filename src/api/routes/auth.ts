/**
 * `POST /api/v1/auth/token` and `POST /api/v1/auth/revoke` (seed 001 §1).
 */
import { Router } from 'express';
import type { AuthContext, AuthSettings } from '../auth.js';
import { issueToken, revokeTokenId, tokenIdOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { notFound, parseInput } from '../errors.js';
import { revokeRequest, tokenRequest } from '../schemas.js';

/** Auth settings from the configuration. */
export function authSettings(deps: ApiDeps): AuthSettings {
  return {
    adminUsername: deps.config.api.adminUsername,
    adminPassword: deps.config.api.adminPassword,
    jwtSecret: deps.config.api.jwtSecretKey,
    tokenTtlMinutes: deps.config.api.tokenTtlMinutes,
  };
}

/**
 * `POST /auth/token` (public): form `username`, `password` → 200 `{access_token, token_type:'bearer',
 * expires_in, token_id}`; 400 naming a missing field; 401 on wrong credentials.
 */
export function tokenRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/auth/token', async (req, res) => {
    const body = parseInput(tokenRequest, req.body, 'body');
    const token = await issueToken(deps.pool, authSettings(deps), body.username, body.password);
    deps.logger.info({ requestId: res.locals.requestId, subject: body.username, tokenId: token.token_id }, 'token issued');
    res.set('Cache-Control', 'no-store').json(token);
  });
  return router;
}

/**
 * `POST /auth/revoke` (authenticated): revokes the presented token, or `{token}` / `{token_id}` from
 * the body → 200 `{revoked:true, token_id}`; 404 when the token id is unknown.
 */
export function revokeRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/auth/revoke', async (req, res) => {
    const body = parseInput(revokeRequest, req.body, 'body');
    const auth = res.locals.auth as AuthContext;
    const tokenId = body.token_id ?? (body.token ? await tokenIdOf(authSettings(deps), body.token) : auth.tokenId);
    const ok = await revokeTokenId(deps.pool, tokenId);
    if (!ok) throw notFound(`token '${tokenId}' not found`, body.token_id ? 'token_id' : 'token');
    deps.logger.info({ requestId: res.locals.requestId, tokenId, by: auth.subject }, 'token revoked');
    res.json({ revoked: true, token_id: tokenId });
  });
  return router;
}
