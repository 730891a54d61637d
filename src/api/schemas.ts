/**
 * zod schemas of the core routes' request bodies (sign-in, users) and the field types every job's
 * requests share (each job's own requests live with the job, e.g. src/jobs/table-sync/requests.ts).
 * Objects are strict: an unknown field (a typo such as `stratgy`) is a 400 naming it.
 */
import { z } from 'zod';
import { ROLES } from './users.js';

/** A required string field with messages that say what is wrong ("is required", "must be a string"). */
export const requiredString = (max = 255) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

/** A Snowflake object name (database, schema, table, column) as the user typed it. */
export const objectName = requiredString(255);

/** `POST /auth/token` (form fields, OAuth2 password grant). */
export const tokenRequest = z.object({
  username: requiredString(200),
  password: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(1000),
  grant_type: z.string().optional(),
  scope: z.string().optional(),
});

/** `POST /auth/revoke`: the presented token when empty, else a given token or token id. */
export const revokeRequest = z
  .object({
    token: requiredString(8192).optional(),
    token_id: z.uuid({ error: 'must be a token id (UUID)' }).optional(),
  })
  .strict()
  .refine((b) => !(b.token && b.token_id), {
    message: "give either 'token' or 'token_id', not both",
    path: ['token_id'],
  });

/** An API username: 1–64 letters, digits, `.`, `_`, `@`, `-`. */
const username = requiredString(64).regex(/^[A-Za-z0-9._@-]+$/, 'must be 1–64 letters, digits, ".", "_", "@" or "-"');
/** A new password: 12–1000 characters. */
const newPassword = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .min(12, 'must be at least 12 characters')
  .max(1000, 'must be at most 1000 characters');

/** `POST /users`: a `user` is bound to one execution-upload `user_id`; an `admin` is not. */
export const createUserRequest = z
  .object({
    username,
    password: newPassword,
    role: z.enum(ROLES, { error: "must be 'admin' or 'user'" }),
    user_id: z.uuid({ error: 'must be a UUID' }).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.role === 'user' && b.user_id === undefined)
      ctx.addIssue({ code: 'custom', path: ['user_id'], message: "is required for role 'user'" });
    if (b.role === 'admin' && b.user_id !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['user_id'],
        message: "must be omitted for role 'admin' (admins see every user)",
      });
  });

/** `/users/{username}` path. */
export const userParams = z.object({ username: requiredString(64) });

/** `PATCH /users/{username}`: a new password and/or enabling or disabling the user. */
export const updateUserRequest = z
  .object({ password: newPassword.optional(), disabled: z.boolean({ error: 'must be true or false' }).optional() })
  .strict()
  .refine((b) => b.password !== undefined || b.disabled !== undefined, {
    message: "give 'password' and/or 'disabled'",
    path: ['password'],
  });

/** `POST /auth/password`: an API user changes their own password. */
export const changePasswordRequest = z
  .object({
    current_password: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(1000),
    new_password: newPassword,
  })
  .strict();
