/** Descriptions of the API users routes (src/api/routes/users.ts). */
import { z } from 'zod';
import type { Operation } from '../openapi/operations.js';
import { createUserRequest, updateUserRequest, userParams } from '../schemas.js';
import { ROLES } from '../users.js';
import { answer, count, deleted, listOf, timestamp } from './shapes.js';

const user = answer({
  username: z.string(),
  role: z.enum(ROLES),
  user_id: z.uuid().nullable().meta({ description: 'The execution-upload user a `user`-role account is bound to.' }),
  disabled: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const createUser: Operation = {
  method: 'post',
  path: '/users',
  summary: 'Create an API user',
  description: 'Role `user` needs `user_id`; role `admin` must not have one. Passwords are hashed with scrypt.',
  body: createUserRequest,
  responses: { 201: { description: 'The user.', body: user } },
  errors: [409],
};

export const listUsers: Operation = {
  method: 'get',
  path: '/users',
  summary: 'List API users',
  responses: { 200: { description: 'Every API user.', body: listOf('users', user) } },
};

export const getUser: Operation = {
  method: 'get',
  path: '/users/:username',
  summary: 'Read an API user',
  params: userParams,
  responses: { 200: { description: 'The user.', body: user } },
  errors: [404],
};

export const updateUser: Operation = {
  method: 'patch',
  path: '/users/:username',
  summary: 'Change a password or disable a user',
  description: "The user's tokens are revoked.",
  params: userParams,
  body: updateUserRequest,
  responses: { 200: { description: 'The user.', body: user.extend({ tokens_revoked: count }) } },
  errors: [404],
};

export const deleteUser: Operation = {
  method: 'delete',
  path: '/users/:username',
  summary: 'Delete an API user',
  params: userParams,
  responses: {
    200: {
      description: 'Deleted; its tokens revoked.',
      body: deleted({ username: z.string(), tokens_revoked: count }),
    },
  },
  errors: [404],
};
