/** Descriptions of the sign-in routes (src/api/routes/auth.ts). */
import { z } from 'zod';
import type { Operation } from '../openapi/operations.js';
import { changePasswordRequest, revokeRequest, tokenRequest } from '../schemas.js';
import { answer, count } from './shapes.js';

export const issueToken: Operation = {
  method: 'post',
  path: '/auth/token',
  summary: 'Sign in (OAuth2 password grant)',
  description:
    'Form or JSON `username`, `password`. Failed sign-ins are throttled per username and per address ' +
    '(AUTH_MAX_FAILURES in AUTH_FAILURE_WINDOW_MINUTES): 429 with `Retry-After`.',
  body: tokenRequest,
  form: true,
  responses: {
    200: {
      description: 'A bearer token.',
      body: answer({
        access_token: z.string(),
        token_type: z.literal('bearer'),
        expires_in: z.number().int().meta({ description: 'Seconds until the token expires.' }),
        token_id: z.uuid(),
      }),
    },
  },
  errors: [401, 429],
};

export const revokeToken: Operation = {
  method: 'post',
  path: '/auth/revoke',
  summary: 'Revoke a token',
  description: '`{}` revokes the presented token; `{token}` or `{token_id}` another (a `user` token: only its own).',
  body: revokeRequest,
  responses: { 200: { description: 'Revoked.', body: answer({ revoked: z.literal(true), token_id: z.uuid() }) } },
  errors: [404],
};

export const changePassword: Operation = {
  method: 'post',
  path: '/auth/password',
  summary: 'Change your own password',
  description: "An API user's own password (not the bootstrap admin's); their other tokens are revoked.",
  body: changePasswordRequest,
  responses: {
    200: { description: 'Changed.', body: answer({ changed: z.literal(true), tokens_revoked: count }) },
  },
  errors: [429],
};
