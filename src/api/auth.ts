/**
 * Authentication and roles: credentials — the bootstrap admin of the configuration (ADMIN_USERNAME /
 * ADMIN_PASSWORD) or an API user (src/api/users.ts) — are exchanged for a JWT (HS256, jose) whose
 * `jti` is a row in PostgreSQL `tokens`, so a token can be revoked before it expires. The token carries
 * the role (`admin` or `user`) and, for a `user`, the execution-upload `user_id` it is bound to, both as
 * claims and in its `tokens` row (the row is what counts). Every route but `POST /auth/token` requires
 * `Authorization: Bearer <jwt>`; the token must verify (signature, `exp`), exist in `tokens`, be
 * unexpired there and not revoked, and an API user's token stops working as soon as the user is
 * disabled or deleted. {@link requireRole} guards the admin routes.
 *
 * Tokens themselves are never stored or logged — only their id, subject, role and expiry.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { errors as joseErrors, jwtVerify, SignJWT, decodeJwt } from 'jose';
import type pg from 'pg';
import { ApiError, forbidden, unauthorized } from './errors.js';
import { credentialsOf, verifyPassword, type Role } from './users.js';

/** Settings the auth code needs (from FloeConfig). */
export interface AuthSettings {
  adminUsername: string;
  adminPassword: string;
  /** HS256 key (UTF-8 bytes of JWT_SECRET_KEY). */
  jwtSecret: string;
  /** Token lifetime in minutes (TOKEN_TTL_MINUTES, default 30). */
  tokenTtlMinutes: number;
}

/** What a verified token says; stored in `res.locals.auth`. */
export interface AuthContext {
  tokenId: string;
  /** Username the token was issued to. */
  subject: string;
  expiresAt: Date;
  role: Role;
  /** The execution-upload `user_id` a `user` token is bound to; null for admins. */
  userId: string | null;
}

/** Who signed in. */
interface Principal {
  subject: string;
  role: Role;
  userId: string | null;
}

/** Response of `POST /auth/token` (OAuth2 password-grant shape, as the seed's FastAPI returned). */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  /** Seconds until expiry. */
  expires_in: number;
  token_id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const key = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** Constant-time string equality (compares SHA-256 digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** The principal `username` / `password` prove, or null (unknown user, wrong password, disabled user). */
async function authenticate(
  pool: pg.Pool,
  settings: AuthSettings,
  username: string,
  password: string,
): Promise<Principal | null> {
  if (safeEqual(username, settings.adminUsername)) {
    return safeEqual(password, settings.adminPassword) ? { subject: username, role: 'admin', userId: null } : null;
  }
  const user = await credentialsOf(pool, username);
  const ok = await verifyPassword(password, user?.hash ?? null);
  return ok && user && !user.disabled ? { subject: username, role: user.role, userId: user.userId } : null;
}

/**
 * Check credentials (the bootstrap admin's or an enabled API user's) and issue a token: row in
 * `tokens` first, then the signed JWT. Throws 401 {@link ApiError} on wrong credentials (the message
 * does not say which part is wrong, nor whether the user exists or is disabled).
 */
export async function issueToken(
  pool: pg.Pool,
  settings: AuthSettings,
  username: string,
  password: string,
): Promise<TokenResponse> {
  const who = await authenticate(pool, settings, username, password);
  if (!who) throw new ApiError(401, 'invalid_credentials', 'incorrect username or password');
  const tokenId = randomUUID();
  const ttlSeconds = Math.round(settings.tokenTtlMinutes * 60);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const exp = nowSeconds + ttlSeconds;
  await pool.query(
    `INSERT INTO tokens (token_id, subject, type, expires_at, role, user_id) VALUES ($1, $2, 'access', to_timestamp($3), $4, $5)`,
    [tokenId, who.subject, exp, who.role, who.userId],
  );
  // Expired tokens fail the JWT `exp` check anyway; keep the table small (a day of grace for audits).
  await pool.query(`DELETE FROM tokens WHERE expires_at < now() - interval '1 day'`);
  const jwt = await new SignJWT({ role: who.role, ...(who.userId !== null && { user_id: who.userId }) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(username)
    .setJti(tokenId)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(exp)
    .sign(key(settings.jwtSecret));
  return { access_token: jwt, token_type: 'bearer', expires_in: ttlSeconds, token_id: tokenId };
}

/**
 * Verify a JWT's signature and claims, then its `tokens` row (and, for an API user, that the user still
 * exists and is enabled). Throws 401 {@link ApiError} whose message says why: malformed, bad signature,
 * expired, unknown, revoked, or user disabled.
 */
export async function verifyToken(pool: pg.Pool, settings: AuthSettings, token: string): Promise<AuthContext> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key(settings.jwtSecret), { algorithms: ['HS256'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw unauthorized('token signature is invalid');
    if (err instanceof joseErrors.JOSEAlgNotAllowed) throw unauthorized('token algorithm is not allowed (HS256 only)');
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`token claim '${err.claim}' is invalid`);
    throw unauthorized('token is malformed');
  }
  if (typeof payload.jti !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
    throw unauthorized('token lacks jti, sub or exp');
  }
  if (!UUID_RE.test(payload.jti)) throw unauthorized('token is unknown (not issued by this server)');
  const { rows } = await pool.query<{
    subject: string;
    revoked_at: Date | null;
    expires_at: Date;
    role: Role;
    user_id: string | null;
    user_active: boolean | null;
  }>(
    `SELECT t.subject, t.revoked_at, t.expires_at, t.role, t.user_id, u.disabled_at IS NULL AS user_active
       FROM tokens t LEFT JOIN api_users u ON u.username = t.subject
      WHERE t.token_id = $1::uuid`,
    [payload.jti],
  );
  const row = rows[0];
  if (!row || row.subject !== payload.sub)
    throw unauthorized('token is unknown (not issued by this server or deleted)');
  if (row.revoked_at) throw unauthorized('token has been revoked');
  if (row.expires_at.getTime() <= Date.now()) throw unauthorized('token expired');
  // user_active is null when no API user has this name: only the bootstrap admin may then hold it.
  if (row.user_active === null ? row.subject !== settings.adminUsername : !row.user_active) {
    throw unauthorized('the user of this token is disabled or deleted');
  }
  return {
    tokenId: payload.jti,
    subject: payload.sub,
    expiresAt: new Date(payload.exp * 1000),
    role: row.role,
    userId: row.user_id,
  };
}

/**
 * Revoke a token by id. Returns false when no such token exists; revoking twice is not an error.
 */
export async function revokeTokenId(pool: pg.Pool, tokenId: string): Promise<boolean> {
  if (!UUID_RE.test(tokenId)) return false;
  const { rowCount } = await pool.query(
    'UPDATE tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE token_id = $1::uuid',
    [tokenId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * The token id of a JWT signed by this server, whatever its expiry (so an expired token can still be
 * revoked). Throws 400/401 when it is not a token of ours.
 */
export async function tokenIdOf(settings: AuthSettings, token: string): Promise<string> {
  try {
    await jwtVerify(token, key(settings.jwtSecret), { algorithms: ['HS256'], currentDate: new Date(0) });
  } catch (err) {
    if (!(err instanceof joseErrors.JWTClaimValidationFailed)) {
      throw new ApiError(400, 'invalid_request', "body field 'token': not a token issued by this server", 'token');
    }
  }
  const jti = decodeJwt(token).jti;
  if (typeof jti !== 'string')
    throw new ApiError(400, 'invalid_request', "body field 'token': token has no jti", 'token');
  return jti;
}

/** Express middleware: require a valid Bearer token; sets `res.locals.auth` ({@link AuthContext}). */
export function requireAuth(pool: pg.Pool, settings: AuthSettings): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) throw unauthorized('missing Authorization header (expected "Bearer <token>")');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthorized('malformed Authorization header (expected "Bearer <token>")');
    res.locals.auth = await verifyToken(pool, settings, m[1]!);
    res.locals.token = m[1];
    next();
  };
}

/**
 * Express middleware after {@link requireAuth}: 403 unless the token's role is `role`. A `user` token
 * on an admin route is refused here, before the route reads anything.
 */
export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    const auth = res.locals.auth as AuthContext | undefined;
    if (!auth) throw unauthorized('missing Authorization header (expected "Bearer <token>")');
    if (auth.role !== role) {
      throw forbidden(`this route needs the '${role}' role; the token's role is '${auth.role}'`);
    }
    next();
  };
}

/**
 * Whose execution-upload data a request may touch: null (every user) for an admin token, the bound
 * `user_id` for a `user` token. Fails closed: a `user` token bound to no user_id is 403, and a route
 * mounted without {@link requireAuth} throws rather than treating the caller as an admin.
 */
export function userScope(res: { locals: Record<string, unknown> }): string | null {
  const auth = res.locals.auth as AuthContext | undefined;
  if (!auth) throw new Error('userScope needs a route mounted behind requireAuth');
  if (auth.role === 'admin') return null;
  if (auth.userId === null) throw forbidden('this token is not bound to a user_id');
  return auth.userId;
}

/**
 * Express middleware: require `Authorization: Bearer <expected>` (a static secret such as
 * METRICS_TOKEN, compared in constant time); 401 otherwise.
 */
export function requireStaticBearer(expected: string): RequestHandler {
  return (req, _res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m || !safeEqual(m[1]!, expected))
      throw unauthorized('this endpoint needs "Authorization: Bearer <METRICS_TOKEN>"');
    next();
  };
}
