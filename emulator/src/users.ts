/**
 * Who may sign in to the emulator, checked the way Snowflake checks it.
 *
 * Users live in `<dataDir>/users.json` (mode 0600, written to a temporary file and renamed, so a
 * crash never leaves half a file). Secrets are never stored: passwords as scrypt hashes (random
 * salt), programmatic access tokens and OAuth access tokens as SHA-256 hashes (they are 256-bit
 * random strings, so a plain hash is enough); public keys as the base64 DER text Snowflake keeps.
 *
 * Statements (parsed in user-statements.ts): `CREATE [OR REPLACE] USER [IF NOT EXISTS]`, `ALTER USER
 * ... SET / UNSET / RENAME TO / ADD|REMOVE PROGRAMMATIC ACCESS TOKEN`, `DROP USER [IF EXISTS]`,
 * `DESC USER`, `SHOW USERS [LIKE]`, and the emulator's own `SELECT
 * SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('<user>')`, which stands in for an OAuth authorization server.
 * Every signed-in user acts as ACCOUNTADMIN in the emulator, so any session may run them.
 *
 * Sign-in ({@link UserStore.authenticate}) follows the login-request body snowflake-sdk builds
 * (lib/authentication/auth_*.js): `AUTHENTICATOR`, `LOGIN_NAME`, `ACCOUNT_NAME`, and `PASSWORD` or
 * `TOKEN`. Failures are Snowflake's: 390100 (password), 390144 (JWT), 394400 (programmatic access
 * token), 390303 (OAuth).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { StatementOutcome } from './contract.js';

import { LoginErrors, SfErrors, SnowflakeError, userDoesNotExist } from './errors.js';
import { StatementType, status, textColumn } from './columns.js';
import {
  hashPassword,
  jwtValid,
  liveToken,
  newSecret,
  normalizePublicKey,
  passwordMatches,
  publicKeyFingerprint,
  sha256Hex,
} from './user-credentials.js';

/** Snowflake's default lifetime of a programmatic access token (DAYS_TO_EXPIRY), in days. */
export const PAT_DEFAULT_DAYS = 15;
/** Lifetime of an OAuth access token the emulator issues: Snowflake OAuth's 10 minutes, in seconds. */
const OAUTH_TOKEN_SECONDS = 600;

/** Properties CREATE/ALTER USER accept besides the credentials; shown by DESC USER. */
export const PLAIN_PROPERTIES = [
  'TYPE',
  'LOGIN_NAME',
  'DISPLAY_NAME',
  'COMMENT',
  'EMAIL',
  'DEFAULT_ROLE',
  'DEFAULT_WAREHOUSE',
  'DEFAULT_NAMESPACE',
  'MUST_CHANGE_PASSWORD',
] as const;
export const CREDENTIAL_PROPERTIES = ['PASSWORD', 'RSA_PUBLIC_KEY', 'RSA_PUBLIC_KEY_2'] as const;
const USER_TYPES = ['PERSON', 'SERVICE', 'LEGACY_SERVICE'];

interface TokenRecord {
  /** Token name (PAT) or a random id (OAuth). */
  name: string;
  /** Hex SHA-256 of the secret. */
  sha256: string;
  createdOn: string;
  expiresAt: string;
}

/** One user as stored in users.json. */
interface UserRecord {
  /** Upper-cased user name (unquoted identifiers fold to upper case). */
  name: string;
  createdOn: string;
  /** `scrypt$N$r$p$<salt base64>$<hash base64>`. */
  passwordHash?: string;
  /** Base64 DER (SubjectPublicKeyInfo) of the RSA public keys, as Snowflake stores RSA_PUBLIC_KEY(_2). */
  rsaPublicKey?: string;
  rsaPublicKey2?: string;
  /** TYPE, LOGIN_NAME, COMMENT, ... as given. */
  properties: Record<string, string>;
  pats: TokenRecord[];
  oauthTokens: TokenRecord[];
}

interface UsersFile {
  version: 1;
  users: UserRecord[];
}

/** The user the emulator creates or updates at start-up (`--user`, `startEmulator({ user })`). */
export interface BootstrapUser {
  name: string;
  password?: string;
  /** PEM (or bare base64 DER) RSA public key. */
  publicKey?: string;
}

/** The emulator's users, persisted in `<dataDir>/users.json`. */
export class UserStore {
  private readonly users = new Map<string, UserRecord>();

  private constructor(private readonly file: string) {}

  /** Opens (or starts empty) the store of a data directory. Throws when users.json is unreadable. */
  static open(dataDir: string): UserStore {
    const store = new UserStore(path.join(dataDir, 'users.json'));
    if (fs.existsSync(store.file)) {
      const data = JSON.parse(fs.readFileSync(store.file, 'utf8')) as UsersFile;
      for (const u of data.users) store.users.set(u.name, u);
    }
    return store;
  }

  /** Creates the bootstrap user, or updates its password / RSA_PUBLIC_KEY to the ones given. */
  async ensureUser(u: BootstrapUser): Promise<void> {
    if (u.password === undefined && u.publicKey === undefined)
      throw new Error(`emulator user ${u.name}: give a password or a public key`);
    const name = u.name.toUpperCase();
    const rec = this.users.get(name) ?? this.blank(name);
    if (u.password !== undefined) rec.passwordHash = await hashPassword(u.password);
    if (u.publicKey !== undefined) rec.rsaPublicKey = normalizePublicKey(u.publicKey);
    this.users.set(name, rec);
    this.save();
  }

  private blank(name: string): UserRecord {
    return { name, createdOn: new Date().toISOString(), properties: {}, pats: [], oauthTokens: [] };
  }

  private save(): void {
    const data: UsersFile = { version: 1, users: [...this.users.values()] };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeFileSync(fd, JSON.stringify(data, null, 2));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }

  private byLogin(login: string): UserRecord | undefined {
    const wanted = login.toUpperCase();
    for (const u of this.users.values()) if ((u.properties.LOGIN_NAME ?? u.name).toUpperCase() === wanted) return u;
    return undefined;
  }

  private get(name: string, ifExists = false): UserRecord | undefined {
    const u = this.users.get(name);
    if (!u && !ifExists) throw userDoesNotExist(name);
    return u;
  }

  /**
   * Checks a login-request `data` object and returns the user name the session belongs to.
   * Throws {@link LoginErrors}: never a session for a wrong or missing credential, nor for an
   * authenticator the emulator does not check (390100).
   */
  async authenticate(data: Record<string, unknown>): Promise<string> {
    const authenticator = String(data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    const login = typeof data.LOGIN_NAME === 'string' ? data.LOGIN_NAME : '';
    const token = typeof data.TOKEN === 'string' ? data.TOKEN : '';
    const user = this.byLogin(login);
    switch (authenticator) {
      case 'SNOWFLAKE': {
        // Snowflake also takes a programmatic access token where a password goes.
        const password = typeof data.PASSWORD === 'string' ? data.PASSWORD : '';
        if (
          user &&
          password &&
          (liveToken(user.pats, password) || (await passwordMatches(user.passwordHash, password)))
        )
          return user.name;
        throw LoginErrors.password();
      }
      case 'SNOWFLAKE_JWT':
        if (
          user &&
          (await jwtValid([user.rsaPublicKey, user.rsaPublicKey2], login, String(data.ACCOUNT_NAME ?? ''), token))
        )
          return user.name;
        throw LoginErrors.jwt();
      case 'PROGRAMMATIC_ACCESS_TOKEN':
        if (user && token && liveToken(user.pats, token)) return user.name;
        throw LoginErrors.pat();
      case 'OAUTH': {
        // The token names its user; a LOGIN_NAME, when sent, must be that user.
        const owner = token ? [...this.users.values()].find((u) => liveToken(u.oauthTokens, token)) : undefined;
        if (owner && (!login || owner === user)) return owner.name;
        throw LoginErrors.oauth();
      }
      default:
        throw LoginErrors.password();
    }
  }

  // ------------------------------------------------------------------ statements

  async create(
    name: string,
    props: Map<string, string>,
    mode: { orReplace: boolean; ifNotExists: boolean },
  ): Promise<StatementOutcome> {
    if (this.users.has(name)) {
      if (mode.ifNotExists) return status(`${name} already exists, statement succeeded.`);
      if (!mode.orReplace) throw SfErrors.alreadyExists(name);
    }
    const rec = this.blank(name);
    await this.apply(rec, props);
    this.users.set(name, rec);
    this.save();
    return status(`User ${name} successfully created.`);
  }

  private async apply(rec: UserRecord, props: Map<string, string>): Promise<void> {
    for (const [key, value] of props) {
      if (key === 'PASSWORD') rec.passwordHash = await hashPassword(value);
      else if (key === 'RSA_PUBLIC_KEY') rec.rsaPublicKey = normalizePublicKey(value);
      else if (key === 'RSA_PUBLIC_KEY_2') rec.rsaPublicKey2 = normalizePublicKey(value);
      else if (key === 'TYPE' && !USER_TYPES.includes(value.toUpperCase()))
        throw SfErrors.syntax(`invalid value '${value}' for property 'TYPE'.`);
      else rec.properties[key] = key === 'TYPE' ? value.toUpperCase() : value;
    }
  }

  async alter(name: string, ifExists: boolean, change: UserChange): Promise<StatementOutcome> {
    const rec = this.get(name, ifExists);
    if (!rec) return status('Statement executed successfully.');
    let out = status('Statement executed successfully.');
    switch (change.kind) {
      case 'set':
        await this.apply(rec, change.props);
        break;
      case 'unset':
        for (const key of change.keys) {
          if (key === 'PASSWORD') delete rec.passwordHash;
          else if (key === 'RSA_PUBLIC_KEY') delete rec.rsaPublicKey;
          else if (key === 'RSA_PUBLIC_KEY_2') delete rec.rsaPublicKey2;
          else delete rec.properties[key];
        }
        break;
      case 'rename':
        if (this.users.has(change.to)) throw SfErrors.alreadyExists(change.to);
        this.users.delete(name);
        rec.name = change.to;
        this.users.set(change.to, rec);
        break;
      case 'addPat': {
        if (rec.pats.some((p) => p.name === change.token)) throw SfErrors.alreadyExists(change.token);
        const secret = newSecret();
        const created = new Date();
        rec.pats.push({
          name: change.token,
          sha256: sha256Hex(secret),
          createdOn: created.toISOString(),
          expiresAt: new Date(created.getTime() + change.days * 86_400_000).toISOString(),
        });
        out = {
          kind: 'rows',
          columns: [textCol('token_name'), textCol('token_secret')],
          rows: [[change.token, secret]],
          statementTypeId: StatementType.DDL,
        };
        break;
      }
      case 'removePat': {
        const before = rec.pats.length;
        rec.pats = rec.pats.filter((p) => p.name !== change.token);
        if (rec.pats.length === before)
          throw new SnowflakeError(
            '002003',
            '42S02',
            `SQL compilation error:\nProgrammatic access token '${change.token}' does not exist or not authorized.`,
          );
        break;
      }
    }
    this.save();
    return out;
  }

  drop(name: string, ifExists: boolean): StatementOutcome {
    if (!this.get(name, ifExists)) return status(`Drop statement executed successfully (${name} already dropped).`);
    this.users.delete(name);
    this.save();
    return status(`${name} successfully dropped.`);
  }

  describe(name: string): StatementOutcome {
    const u = this.get(name)!;
    const fp = (k?: string) => (k ? publicKeyFingerprint(k) : null);
    const rows: (string | null)[][] = [
      ['NAME', u.name],
      ...PLAIN_PROPERTIES.map((p) => [p, u.properties[p] ?? (p === 'LOGIN_NAME' ? u.name : null)]),
      ['PASSWORD', u.passwordHash ? '********' : null],
      ['RSA_PUBLIC_KEY', u.rsaPublicKey ?? null],
      ['RSA_PUBLIC_KEY_FP', fp(u.rsaPublicKey)],
      ['RSA_PUBLIC_KEY_2', u.rsaPublicKey2 ?? null],
      ['RSA_PUBLIC_KEY_2_FP', fp(u.rsaPublicKey2)],
    ];
    return { kind: 'rows', columns: [textCol('property'), textCol('value')], rows, statementTypeId: StatementType.DDL };
  }

  show(like: RegExp | null): StatementOutcome {
    const users = [...this.users.values()]
      .filter((u) => !like || like.test(u.name))
      .sort((a, b) => a.name.localeCompare(b.name));
    const columns = [
      'name',
      'created_on',
      'login_name',
      'display_name',
      'type',
      'comment',
      'has_password',
      'has_rsa_public_key',
      'has_pat',
    ].map((n) => textCol(n));
    const rows = users.map((u) => [
      u.name,
      u.createdOn,
      u.properties.LOGIN_NAME ?? u.name,
      u.properties.DISPLAY_NAME ?? u.name,
      u.properties.TYPE ?? null,
      u.properties.COMMENT ?? null,
      String(!!u.passwordHash),
      String(!!(u.rsaPublicKey || u.rsaPublicKey2)),
      String(u.pats.length > 0),
    ]);
    return { kind: 'rows', columns, rows, statementTypeId: StatementType.DDL };
  }

  /** `SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('<user>')`: a fresh OAuth access token for the user, valid 10 minutes. */
  issueOAuthToken(name: string, column: string): StatementOutcome {
    const u = this.get(name)!;
    const secret = newSecret();
    const created = new Date();
    u.oauthTokens = u.oauthTokens.filter((t) => Date.parse(t.expiresAt) > created.getTime());
    u.oauthTokens.push({
      name: crypto.randomUUID(),
      sha256: sha256Hex(secret),
      createdOn: created.toISOString(),
      expiresAt: new Date(created.getTime() + OAUTH_TOKEN_SECONDS * 1000).toISOString(),
    });
    this.save();
    return { kind: 'rows', columns: [textCol(column)], rows: [[secret]], statementTypeId: StatementType.SELECT };
  }
}

/** One ALTER USER change, as parsed by user-statements.ts. */
export type UserChange =
  | { kind: 'set'; props: Map<string, string> }
  | { kind: 'unset'; keys: string[] }
  | { kind: 'rename'; to: string }
  | { kind: 'addPat'; token: string; days: number }
  | { kind: 'removePat'; token: string };

/** A nullable text column of a command result. */
const textCol = (name: string) => textColumn(name, true);
