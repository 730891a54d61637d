/**
 * `POST /api/v1/auth/token`, `POST /api/v1/auth/revoke` and `POST /api/v1/auth/password`.
 */
import { Router, type Request, type Response } from 'express';
import type { AuthContext, AuthSettings } from '../auth.js';
import { issueToken, revokeTokenId, tokenIdOf } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/auth.js';
import { changePasswordRequest, revokeRequest, tokenRequest } from '../schemas.js';
import {
  checkThrottle,
  recordFailure,
  ThrottledError,
  type SignInAttempt,
  type ThrottleSettings,
} from '../throttle.js';
import { credentialsOf, revokeTokensOf, updateUser, verifyPassword } from '../users.js';

/** Auth settings from the configuration. */
export function authSettings(deps: ApiDeps): AuthSettings {
  return {
    adminUsername: deps.config.api.adminUsername,
    adminPassword: deps.config.api.adminPassword,
    jwtSecret: deps.config.api.jwtSecretKey,
    tokenTtlMinutes: deps.config.api.tokenTtlMinutes,
  };
}

function throttleSettings(deps: ApiDeps): ThrottleSettings {
  return { maxFailures: deps.config.api.authMaxFailures, windowMinutes: deps.config.api.authFailureWindowMinutes };
}

/**
 * Run `check` (a password check that throws 401 on failure) behind the sign-in throttle: refused with
 * 429 + `Retry-After` while `attempt` is throttled, a 401 is counted as a failure and logged (username
 * and address, never the password).
 */
async function throttled<T>(
  deps: ApiDeps,
  req: Request,
  res: Response,
  username: string,
  check: () => Promise<T>,
): Promise<T> {
  const attempt: SignInAttempt = { username, address: req.ip ?? req.socket.remoteAddress ?? 'unknown' };
  const limits = throttleSettings(deps);
  const log = { requestId: res.locals.requestId, subject: attempt.username, address: attempt.address };
  try {
    await checkThrottle(deps.pool, limits, attempt);
  } catch (err) {
    if (err instanceof ThrottledError) {
      deps.logger.warn({ ...log, retryAfterSeconds: err.retryAfterSeconds }, 'sign-in throttled');
      res.set('Retry-After', String(err.retryAfterSeconds));
    }
    throw err;
  }
  try {
    return await check();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      await recordFailure(deps.pool, limits, attempt);
      deps.logger.warn(log, 'sign-in failed');
    }
    throw err;
  }
}

/**
 * `POST /auth/token` (public): form `username`, `password` → 200 `{access_token, token_type:'bearer',
 * expires_in, token_id}`; 400 naming a missing field; 401 on wrong credentials; 429 + `Retry-After`
 * after too many failures for the username or from the address (src/api/throttle.ts).
 */
export function tokenRouter(deps: ApiDeps): Router {
  const router = Router();
  route(router, ops.issueToken, async (req, res) => {
    const body = parseInput(tokenRequest, req.body, 'body');
    const token = await throttled(deps, req, res, body.username, () =>
      issueToken(deps.pool, authSettings(deps), body.username, body.password),
    );
    deps.logger.info(
      { requestId: res.locals.requestId, subject: body.username, tokenId: token.token_id },
      'token issued',
    );
    res.set('Cache-Control', 'no-store').json(token);
  });
  return router;
}

/**
 * Authenticated routes of every role:
 * - `POST /auth/revoke`: revokes the presented token, or `{token}` / `{token_id}` from the body → 200
 *   `{revoked:true, token_id}`; 404 when the token id is unknown, or (for a `user` token) not its own.
 * - `POST /auth/password` `{current_password, new_password}`: an API user changes their own password
 *   (throttled like sign-in); their other tokens are revoked → 200 `{changed:true, tokens_revoked}`.
 */
export function revokeRouter(deps: ApiDeps): Router {
  const router = Router();
  route(router, ops.revokeToken, async (req, res) => {
    const body = parseInput(revokeRequest, req.body, 'body');
    const auth = res.locals.auth as AuthContext;
    const tokenId = body.token_id ?? (body.token ? await tokenIdOf(authSettings(deps), body.token) : auth.tokenId);
    const field = body.token_id ? 'token_id' : 'token';
    if (auth.role !== 'admin' && tokenId !== auth.tokenId) {
      const { rows } = await deps.pool.query('SELECT 1 FROM tokens WHERE token_id = $1::uuid AND subject = $2', [
        tokenId,
        auth.subject,
      ]);
      if (rows.length === 0) throw notFound(`token '${tokenId}' not found`, field);
    }
    const ok = await revokeTokenId(deps.pool, tokenId);
    if (!ok) throw notFound(`token '${tokenId}' not found`, field);
    deps.logger.info({ requestId: res.locals.requestId, tokenId, by: auth.subject }, 'token revoked');
    res.json({ revoked: true, token_id: tokenId });
  });

  route(router, ops.changePassword, async (req, res) => {
    const body = parseInput(changePasswordRequest, req.body, 'body');
    const auth = res.locals.auth as AuthContext;
    if (auth.subject === deps.config.api.adminUsername) {
      throw badRequest(
        "the bootstrap admin's password is ADMIN_PASSWORD in the configuration; it cannot be changed here",
      );
    }
    await throttled(deps, req, res, auth.subject, async () => {
      const user = await credentialsOf(deps.pool, auth.subject);
      if (!(await verifyPassword(body.current_password, user?.hash ?? null))) {
        throw new ApiError(
          401,
          'invalid_credentials',
          "body field 'current_password': incorrect password",
          'current_password',
        );
      }
    });
    await updateUser(deps.pool, auth.subject, { password: body.new_password });
    const revoked = await revokeTokensOf(deps.pool, auth.subject, auth.tokenId);
    deps.logger.info(
      { requestId: res.locals.requestId, subject: auth.subject, tokensRevoked: revoked },
      'password changed',
    );
    res.json({ changed: true, tokens_revoked: revoked });
  });
  return router;
}
