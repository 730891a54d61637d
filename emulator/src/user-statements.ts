/**
 * The user statements of the emulator ({@link handleUserStatement}): `CREATE [OR REPLACE] USER [IF NOT
 * EXISTS]`, `ALTER USER ... SET / UNSET / RENAME TO / ADD|REMOVE PROGRAMMATIC ACCESS TOKEN`, `DROP USER
 * [IF EXISTS]`, `DESC USER`, `SHOW USERS [LIKE]` and `SELECT SYSTEM$EMULATOR_ISSUE_OAUTH_TOKEN('<user>')`,
 * parsed here and carried out by the {@link UserStore} (users.ts).
 */
import type { StatementHandler } from './contract.js';
import { SfErrors } from './errors.js';
import {
  identValue,
  isWord,
  significant,
  splitStatements,
  stringValue,
  tokenize,
  type Token,
} from './sql/tokenizer.js';
import { CREDENTIAL_PROPERTIES, PAT_DEFAULT_DAYS, PLAIN_PROPERTIES, UserStore, type UserChange } from './users.js';

/** A cursor over a statement's significant tokens. */
class Cursor {
  private i = 0;
  constructor(private readonly toks: Token[]) {}
  peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }
  /** Consumes the keywords when they come next (all of them), else consumes nothing. */
  accept(...words: string[]): boolean {
    if (!words.every((w, k) => isWord(this.peek(k), w))) return false;
    this.i += words.length;
    return true;
  }
  expect(...words: string[]): void {
    if (!this.accept(...words)) this.fail();
  }
  name(): string {
    const t = this.peek();
    if (!t || (t.kind !== 'word' && t.kind !== 'qident')) this.fail();
    this.i++;
    return identValue(t);
  }
  /** A property value: 'string', number or bare word (TYPE = SERVICE, MUST_CHANGE_PASSWORD = FALSE). */
  value(): string {
    const t = this.peek();
    if (!t || !['string', 'number', 'word'].includes(t.kind)) this.fail();
    this.i++;
    return t.kind === 'string' ? stringValue(t) : t.text;
  }
  op(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.i++;
    return true;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  end(): void {
    if (!this.done()) this.fail();
  }
  fail(): never {
    throw SfErrors.syntax(`line 1 at position 0 unexpected '${this.peek()?.text ?? '<EOF>'}'.`);
  }
}

/** `KEY = value ...` pairs of CREATE USER / ALTER USER SET, upper-cased keys, checked against the known ones. */
function properties(c: Cursor): Map<string, string> {
  const out = new Map<string, string>();
  while (!c.done()) {
    const key = c.name().toUpperCase();
    if (
      !(PLAIN_PROPERTIES as readonly string[]).includes(key) &&
      !(CREDENTIAL_PROPERTIES as readonly string[]).includes(key)
    ) {
      throw SfErrors.invalidIdentifier(key);
    }
    if (!c.op('=')) c.fail();
    out.set(key, c.value());
    c.op(',');
  }
  return out;
}

function alterChange(c: Cursor): UserChange {
  if (c.accept('SET')) return { kind: 'set', props: properties(c) };
  if (c.accept('UNSET')) {
    const keys: string[] = [];
    do keys.push(c.name().toUpperCase());
    while (c.op(','));
    c.end();
    return { kind: 'unset', keys };
  }
  if (c.accept('RENAME', 'TO')) {
    const to = c.name();
    c.end();
    return { kind: 'rename', to };
  }
  const add = c.accept('ADD');
  if (!add && !c.accept('REMOVE')) c.fail();
  if (!c.accept('PROGRAMMATIC', 'ACCESS', 'TOKEN') && !c.accept('PAT')) c.fail();
  const token = c.name();
  if (!add) {
    c.end();
    return { kind: 'removePat', token };
  }
  let days = PAT_DEFAULT_DAYS;
  while (!c.done()) {
    const key = c.name().toUpperCase();
    if (!c.op('=')) c.fail();
    const value = c.value();
    if (key === 'DAYS_TO_EXPIRY') days = Number(value);
    else if (key !== 'ROLE_RESTRICTION' && key !== 'COMMENT' && key !== 'MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT')
      throw SfErrors.invalidIdentifier(key);
  }
  if (!Number.isInteger(days) || days < 1) throw SfErrors.syntax(`invalid value for property 'DAYS_TO_EXPIRY'.`);
  return { kind: 'addPat', token, days };
}

/** Snowflake LIKE pattern (`%`, `_`, case-insensitive) as a RegExp. */
function likePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

const ISSUE_OAUTH = /^\s*SELECT\s+(SYSTEM\$EMULATOR_ISSUE_OAUTH_TOKEN\s*\(\s*'((?:[^']|'')*)'\s*\))\s*;?\s*$/i;
/** Leading whitespace and comments; then the statements this handler owns (checked before tokenizing). */
const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const MINE =
  /^(?:CREATE\s+(?:OR\s+REPLACE\s+)?USER\b|ALTER\s+USER\b|DROP\s+USER\b|DESC(?:RIBE)?\s+USER\b|SHOW\s+USERS\b)/i;

/**
 * The statement handler for users (contract.ts): returns null for statements that are not about
 * users. Throws SnowflakeError: 002003 for a missing user, 002002 when it exists, 001003 syntax.
 */
export function handleUserStatement(store: UserStore): StatementHandler {
  return async (sqlText, ctx) => {
    const issue = ISSUE_OAUTH.exec(sqlText);
    if (issue) return store.issueOAuthToken(issue[2].replace(/''/g, "'").toUpperCase(), issue[1].toUpperCase());
    if (!MINE.test(sqlText.replace(LEADING, ''))) return null;
    const statements = splitStatements(tokenize(sqlText));
    if (statements.length !== 1) return null;
    const sig = significant(statements[0]);
    const verb = sig[0]?.kind === 'word' ? sig[0].text.toUpperCase() : '';
    const c = new Cursor(sig.slice(1));
    switch (verb) {
      case 'CREATE': {
        const orReplace = c.accept('OR', 'REPLACE');
        c.expect('USER');
        const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
        const name = c.name();
        return store.create(name, properties(c), { orReplace, ifNotExists });
      }
      case 'ALTER': {
        c.expect('USER');
        const ifExists = c.accept('IF', 'EXISTS');
        // `ALTER USER ADD|REMOVE PROGRAMMATIC ACCESS TOKEN ...` without a name acts on the current user.
        const own = isWord(c.peek(), 'ADD', 'REMOVE');
        const name = own ? (ctx.session.user ?? c.fail()) : c.name();
        return store.alter(name, ifExists, alterChange(c));
      }
      case 'DROP': {
        c.expect('USER');
        const ifExists = c.accept('IF', 'EXISTS');
        const name = c.name();
        c.end();
        return store.drop(name, ifExists);
      }
      case 'DESC':
      case 'DESCRIBE': {
        c.expect('USER');
        const name = c.name();
        c.end();
        return store.describe(name);
      }
      case 'SHOW': {
        c.expect('USERS');
        let like: RegExp | null = null;
        if (c.accept('LIKE')) like = likePattern(c.value());
        c.end();
        return store.show(like);
      }
      default:
        return null;
    }
  };
}
