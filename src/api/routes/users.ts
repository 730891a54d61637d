/**
 * API users (admin only; src/api/users.ts): create, list, read, change password or disable, delete.
 *
 * | route | success |
 * |---|---|
 * | `POST /users` `{username, password, role:'admin'|'user', user_id?}` | 201 user; 409 username taken (or the bootstrap admin's) |
 * | `GET /users` | 200 `{count, users}` |
 * | `GET /users/{username}` | 200 user; 404 unknown |
 * | `PATCH /users/{username}` `{password?, disabled?}` | 200 `{...user, tokens_revoked}`; the user's tokens are revoked |
 * | `DELETE /users/{username}` | 200 `{deleted:true, username, tokens_revoked}`; 404 unknown |
 *
 * A user is `{username, role, user_id, disabled, created_at, updated_at}`; the password hash never
 * leaves the database.
 */
import { Router } from 'express';
import type { AuthContext } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { conflict, notFound, parseInput } from '../errors.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/users.js';
import { createUserRequest, updateUserRequest, userParams } from '../schemas.js';
import { createUser, deleteUser, getUser, listUsers, revokeTokensOf, updateUser } from '../users.js';

/** Build the users router; mount it behind `requireAuth` and `requireRole('admin')`. */
export function usersRouter(deps: ApiDeps): Router {
  const router = Router();
  const audit = (res: { locals: Record<string, unknown> }, fields: Record<string, unknown>, msg: string) =>
    deps.logger.info({ requestId: res.locals.requestId, by: (res.locals.auth as AuthContext).subject, ...fields }, msg);

  route(router, ops.createUser, async (req, res) => {
    const b = parseInput(createUserRequest, req.body, 'body');
    const taken = () => conflict(`user '${b.username}' already exists`, { field: 'username' });
    if (b.username === deps.config.api.adminUsername) throw taken();
    const user = await createUser(deps.pool, {
      username: b.username,
      password: b.password,
      role: b.role,
      userId: b.user_id ?? null,
    });
    if (!user) throw taken();
    audit(res, { username: user.username, role: user.role, userId: user.user_id }, 'user created');
    res.status(201).json(user);
  });

  route(router, ops.listUsers, async (_req, res) => {
    const users = await listUsers(deps.pool);
    res.json({ count: users.length, users });
  });

  route(router, ops.getUser, async (req, res) => {
    const { username } = parseInput(userParams, req.params, 'params');
    const user = await getUser(deps.pool, username);
    if (!user) throw notFound(`user '${username}' not found`, 'username');
    res.json(user);
  });

  route(router, ops.updateUser, async (req, res) => {
    const { username } = parseInput(userParams, req.params, 'params');
    const b = parseInput(updateUserRequest, req.body, 'body');
    const user = await updateUser(deps.pool, username, b);
    if (!user) throw notFound(`user '${username}' not found`, 'username');
    const revoked = await revokeTokensOf(deps.pool, username);
    audit(
      res,
      { username, passwordChanged: b.password !== undefined, disabled: user.disabled, tokensRevoked: revoked },
      'user updated',
    );
    res.json({ ...user, tokens_revoked: revoked });
  });

  route(router, ops.deleteUser, async (req, res) => {
    const { username } = parseInput(userParams, req.params, 'params');
    if (!(await deleteUser(deps.pool, username))) throw notFound(`user '${username}' not found`, 'username');
    const revoked = await revokeTokensOf(deps.pool, username);
    audit(res, { username, tokensRevoked: revoked }, 'user deleted');
    res.json({ deleted: true, username, tokens_revoked: revoked });
  });
  return router;
}
