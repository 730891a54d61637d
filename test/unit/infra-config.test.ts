import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Writable } from 'node:stream';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig, redactUrl } from '../../src/config.js';
import { stateDir } from '../../src/infra/paths.js';
import { DEFAULT_TASK_QUEUE } from '../../src/jobs/common.js';
import { taskQueues } from '../../src/jobs/common.js';
import { createLogger } from '../../src/logger.js';

const minimal = {
  DATABASE_URL: 'postgres://floe:pg-secret@127.0.0.1:5432/floe',
  SNOWFLAKE_ACCOUNT: 'acct',
  SNOWFLAKE_USER: 'user',
  SNOWFLAKE_PASSWORD: 'sf-secret',
  JWT_SECRET_KEY: 'x'.repeat(32),
  ADMIN_PASSWORD: 'admin-secret',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults to a minimal environment', () => {
    const cfg = loadConfig(minimal);
    expect(cfg).toEqual({
      databaseUrl: minimal.DATABASE_URL,
      temporal: {
        address: '127.0.0.1:7233',
        namespace: 'default',
        connectTimeoutSeconds: 300,
        taskQueue: DEFAULT_TASK_QUEUE,
        taskQueues: taskQueues(DEFAULT_TASK_QUEUE),
      },
      snowflake: { account: 'acct', username: 'user', authenticator: 'SNOWFLAKE', password: 'sf-secret' },
      duckdbPath: path.join(stateDir, 'floe.duckdb'),
      duckdbMemoryLimit: '256MB',
      duckdbOwner: false,
      api: {
        port: 8000,
        jwtSecretKey: 'x'.repeat(32),
        adminUsername: 'admin',
        adminPassword: 'admin-secret',
        tokenTtlMinutes: 30,
        authMaxFailures: 10,
        authFailureWindowMinutes: 15,
      },
      stateDir,
      logLevel: 'info',
      watermarkSync: { sourceDatabaseUrl: minimal.DATABASE_URL },
      ducklake: { catalogUrl: minimal.DATABASE_URL, dataPath: path.join(stateDir, 'ducklake') },
      executionUpload: { intervalSeconds: 30, maxConcurrent: 5, scheduleId: 'execution-upload-drain' },
    });
  });

  it('reads the watermark sync, DuckLake and execution upload variables, keeping s3:// data paths as given', () => {
    const key = 'ab'.repeat(32);
    const cfg = loadConfig({
      ...minimal,
      PG_SYNC_SOURCE_URL: 'postgres://src:pw@db/source',
      DUCKLAKE_CATALOG_URL: 'postgres://lake:pw@db/lake',
      DUCKLAKE_DATA_PATH: 's3://bucket/floe/',
      FLOE_ENCRYPTION_KEY: key,
      EXECUTION_UPLOAD_INTERVAL_SECONDS: '10',
      EXECUTION_UPLOAD_MAX_CONCURRENT: '3',
      EXECUTION_UPLOAD_SCHEDULE_ID: 'staging-upload-drain',
    });
    expect(cfg.watermarkSync.sourceDatabaseUrl).toBe('postgres://src:pw@db/source');
    expect(cfg.ducklake).toEqual({ catalogUrl: 'postgres://lake:pw@db/lake', dataPath: 's3://bucket/floe/' });
    expect(cfg.executionUpload).toEqual({
      encryptionKey: key,
      intervalSeconds: 10,
      maxConcurrent: 3,
      scheduleId: 'staging-upload-drain',
    });
    const shown = JSON.stringify(redactConfig(cfg));
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(':pw@');
    expect(() => loadConfig({ ...minimal, FLOE_ENCRYPTION_KEY: 'short' })).toThrow(
      /FLOE_ENCRYPTION_KEY must be 32 bytes/,
    );
    // During a key rotation: the previous key too, validated and redacted the same way.
    const previous = 'cd'.repeat(32);
    const rotating = loadConfig({ ...minimal, FLOE_ENCRYPTION_KEY: key, FLOE_ENCRYPTION_KEY_PREVIOUS: previous });
    expect(rotating.executionUpload).toMatchObject({ encryptionKey: key, previousEncryptionKey: previous });
    expect(JSON.stringify(redactConfig(rotating))).not.toContain(previous);
    expect(() => loadConfig({ ...minimal, FLOE_ENCRYPTION_KEY_PREVIOUS: 'short' })).toThrow(
      /FLOE_ENCRYPTION_KEY_PREVIOUS must be 32 bytes/,
    );
  });

  it('reads every variable', () => {
    const cfg = loadConfig({
      ...minimal,
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'floe',
      TEMPORAL_CONNECT_TIMEOUT_SECONDS: '45',
      FLOE_TASK_QUEUE: 'q-v2',
      SNOWFLAKE_ACCESS_URL: 'http://127.0.0.1:8080/',
      SNOWFLAKE_WAREHOUSE: 'WH',
      SNOWFLAKE_DATABASE: 'DB',
      SNOWFLAKE_SCHEMA: 'S',
      SNOWFLAKE_ROLE: 'R',
      DUCKDB_PATH: '/data/x.duckdb',
      FLOE_DUCKDB_OWNER: 'true',
      ADMIN_USERNAME: 'root',
      API_PORT: '9000',
      TOKEN_TTL_MINUTES: '5',
      FLOE_STATE_DIR: '/var/floe',
      LOG_LEVEL: 'debug',
    });
    expect(cfg.temporal).toEqual({
      address: 'temporal:7233',
      namespace: 'floe',
      connectTimeoutSeconds: 45,
      taskQueue: 'q-v2',
      taskQueues: taskQueues('q-v2'),
    });
    expect(cfg.temporal.taskQueues.executionUpload).toBe('q-v2-execution-upload');
    expect(() => loadConfig({ ...minimal, TEMPORAL_CONNECT_TIMEOUT_SECONDS: 'soon' })).toThrow(
      /TEMPORAL_CONNECT_TIMEOUT_SECONDS must be a number/,
    );
    expect(cfg.snowflake).toEqual({
      account: 'acct',
      username: 'user',
      authenticator: 'SNOWFLAKE',
      password: 'sf-secret',
      accessUrl: 'http://127.0.0.1:8080',
      warehouse: 'WH',
      database: 'DB',
      schema: 'S',
      role: 'R',
    });
    expect(cfg.duckdbPath).toBe('/data/x.duckdb');
    expect(cfg.duckdbOwner).toBe(true);
    expect(cfg.api).toMatchObject({ port: 9000, adminUsername: 'root', tokenTtlMinutes: 5 });
    expect(cfg.stateDir).toBe('/var/floe');
    expect(cfg.logLevel).toBe('debug');
  });

  it('puts the default DuckDB file under FLOE_STATE_DIR', () => {
    expect(loadConfig({ ...minimal, FLOE_STATE_DIR: '/srv/state' }).duckdbPath).toBe('/srv/state/floe.duckdb');
  });

  it('names every missing variable, treating empty values as missing', () => {
    const err = configError({ SNOWFLAKE_USER: 'u', ADMIN_PASSWORD: '  ' });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(
      ['ADMIN_PASSWORD', 'DATABASE_URL', 'JWT_SECRET_KEY', 'SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_PASSWORD'].sort(),
    );
    expect(err.message).toContain('DATABASE_URL is required');
    expect(err.message).toContain('SNOWFLAKE_PASSWORD is required');
  });

  it('names malformed variables without echoing their values', () => {
    const err = configError({
      ...minimal,
      DATABASE_URL: 'mysql://x',
      JWT_SECRET_KEY: 'short-secret-value',
      API_PORT: 'eighty',
      TOKEN_TTL_MINUTES: '-1',
      TEMPORAL_ADDRESS: 'no-port',
      SNOWFLAKE_ACCESS_URL: 'ftp://x',
      LOG_LEVEL: 'loud',
      DUCKDB_MEMORY_LIMIT: 'lots',
    });
    const byVar = Object.fromEntries(err.issues.map((i) => [i.variable, i.problem]));
    expect(Object.keys(byVar).sort()).toEqual(
      [
        'API_PORT',
        'DATABASE_URL',
        'DUCKDB_MEMORY_LIMIT',
        'JWT_SECRET_KEY',
        'LOG_LEVEL',
        'SNOWFLAKE_ACCESS_URL',
        'TEMPORAL_ADDRESS',
        'TOKEN_TTL_MINUTES',
      ].sort(),
    );
    expect(byVar.JWT_SECRET_KEY).toMatch(/at least 32/);
    expect(byVar.DUCKDB_MEMORY_LIMIT).toMatch(/a size such as 128MB/);
    expect(err.message).not.toContain('short-secret-value');
  });

  it("serves a worker's /metrics only when WORKER_METRICS_PORT is set, on loopback unless told otherwise", () => {
    expect(loadConfig(minimal).workerMetrics).toBeUndefined();
    expect(loadConfig({ ...minimal, WORKER_METRICS_PORT: '9464' }).workerMetrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
    });
    expect(loadConfig({ ...minimal, WORKER_METRICS_PORT: '0', WORKER_METRICS_HOST: '0.0.0.0' }).workerMetrics).toEqual({
      port: 0,
      host: '0.0.0.0',
    });
    expect(configError({ ...minimal, WORKER_METRICS_PORT: '70000' }).issues.map((i) => i.variable)).toEqual([
      'WORKER_METRICS_PORT',
    ]);
  });

  it('reads the sign-in throttle and /metrics settings; bearer needs a METRICS_TOKEN, which redaction hides', () => {
    const metricsToken = 'm'.repeat(40);
    const cfg = loadConfig({
      ...minimal,
      AUTH_MAX_FAILURES: '5',
      AUTH_FAILURE_WINDOW_MINUTES: '0.5',
      METRICS_AUTH: 'bearer',
      METRICS_TOKEN: metricsToken,
    });
    expect(cfg.api).toMatchObject({ authMaxFailures: 5, authFailureWindowMinutes: 0.5, metricsToken });
    expect(JSON.stringify(redactConfig(cfg))).not.toContain(metricsToken);
    expect(loadConfig({ ...minimal, METRICS_TOKEN: metricsToken }).api.metricsToken).toBeUndefined();
    expect(configError({ ...minimal, METRICS_AUTH: 'bearer' }).issues.map((i) => i.variable)).toEqual([
      'METRICS_TOKEN',
    ]);
    expect(configError({ ...minimal, METRICS_AUTH: 'basic' }).issues.map((i) => i.variable)).toEqual(['METRICS_AUTH']);
    expect(configError({ ...minimal, AUTH_MAX_FAILURES: '0' }).issues.map((i) => i.variable)).toEqual([
      'AUTH_MAX_FAILURES',
    ]);
  });

  it('rejects out-of-range ports', () => {
    expect(configError({ ...minimal, API_PORT: '70000' }).issues[0].variable).toBe('API_PORT');
    expect(loadConfig({ ...minimal, API_PORT: '0' }).api.port).toBe(0);
  });
});

describe('Snowflake credentials', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-config-keys-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const encrypted = pair.privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'key-passphrase',
  }) as string;
  const pkcs1 = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const file = (name: string, text: string, mode = 0o600) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
    return p;
  };
  const keyFile = file('key.p8', pkcs8);
  const { SNOWFLAKE_PASSWORD: _password, ...noPassword } = minimal;
  const problems = (env: Record<string, string>) =>
    Object.fromEntries(configError({ ...noPassword, ...env }).issues.map((i) => [i.variable, i.problem]));

  it('signs in with a key pair from a file or from the variable, SNOWFLAKE_JWT by default when a key is given', () => {
    expect(loadConfig({ ...noPassword, SNOWFLAKE_PRIVATE_KEY_PATH: keyFile }).snowflake).toEqual({
      account: 'acct',
      username: 'user',
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: pkcs8,
    });
    // Environment files often carry a PEM on one line with \n escapes.
    const inline = loadConfig({
      ...noPassword,
      SNOWFLAKE_AUTHENTICATOR: 'snowflake_jwt',
      SNOWFLAKE_PRIVATE_KEY: pkcs8.trim().replace(/\n/g, '\\n'),
    });
    expect(inline.snowflake).toMatchObject({ authenticator: 'SNOWFLAKE_JWT', privateKey: pkcs8.trim() });
    const enc = loadConfig({
      ...noPassword,
      SNOWFLAKE_PRIVATE_KEY_PATH: file('enc.p8', encrypted),
      SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'key-passphrase',
    });
    expect(enc.snowflake).toMatchObject({
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: encrypted,
      privateKeyPassphrase: 'key-passphrase',
    });
    const shown = JSON.stringify(redactConfig(enc));
    expect(shown).not.toContain('key-passphrase');
    expect(shown).not.toContain('PRIVATE KEY');
  });

  it('names the key variable and the problem: unreadable, not PKCS#8, wrong or missing passphrase', () => {
    expect(problems({ SNOWFLAKE_PRIVATE_KEY_PATH: path.join(dir, 'missing.p8') }).SNOWFLAKE_PRIVATE_KEY_PATH).toBe(
      'cannot be read (ENOENT)',
    );
    expect(problems({ SNOWFLAKE_PRIVATE_KEY_PATH: file('rsa.pem', pkcs1) }).SNOWFLAKE_PRIVATE_KEY_PATH).toMatch(
      /is not PKCS#8.*openssl pkcs8 -topk8/,
    );
    expect(problems({ SNOWFLAKE_PRIVATE_KEY: 'not a key' }).SNOWFLAKE_PRIVATE_KEY).toMatch(
      /is not a PEM PKCS#8 private key/,
    );
    const encFile = file('enc2.p8', encrypted);
    expect(
      problems({ SNOWFLAKE_PRIVATE_KEY_PATH: encFile, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'wrong' })
        .SNOWFLAKE_PRIVATE_KEY_PASSPHRASE,
    ).toMatch(/wrong passphrase/);
    expect(problems({ SNOWFLAKE_PRIVATE_KEY_PATH: encFile }).SNOWFLAKE_PRIVATE_KEY_PASSPHRASE).toMatch(
      /is required: the private key is encrypted/,
    );
    expect(problems({ SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE_JWT' }).SNOWFLAKE_PRIVATE_KEY_PATH).toMatch(/is required/);
    expect(problems({ SNOWFLAKE_AUTHENTICATOR: 'KERBEROS' }).SNOWFLAKE_AUTHENTICATOR).toMatch(
      /must be one of SNOWFLAKE_JWT/,
    );
  });

  it('refuses two credentials at once', () => {
    const both = problems({ SNOWFLAKE_PASSWORD: 'pw-value', SNOWFLAKE_PRIVATE_KEY_PATH: keyFile });
    expect(Object.keys(both)).toEqual(['SNOWFLAKE_PASSWORD']);
    expect(both.SNOWFLAKE_PASSWORD).toMatch(/signs in with SNOWFLAKE_JWT.*give one credential only/);
    expect(
      problems({ SNOWFLAKE_PRIVATE_KEY_PATH: keyFile, SNOWFLAKE_PRIVATE_KEY: pkcs8 }).SNOWFLAKE_PRIVATE_KEY,
    ).toMatch(/both set/);
    expect(
      problems({ SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 't', SNOWFLAKE_PASSWORD: 'pw-value' })
        .SNOWFLAKE_PASSWORD,
    ).toMatch(/signs in with OAUTH/);
    expect(configError({ ...minimal, SNOWFLAKE_PRIVATE_KEY_PATH: keyFile }).message).not.toContain('sf-secret');
  });

  it('takes a token, or a token file the driver re-reads, for PROGRAMMATIC_ACCESS_TOKEN and OAUTH', () => {
    const pat = loadConfig({
      ...noPassword,
      SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN',
      SNOWFLAKE_TOKEN: 'pat-secret',
    });
    expect(pat.snowflake).toMatchObject({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: 'pat-secret' });
    expect(JSON.stringify(redactConfig(pat))).not.toContain('pat-secret');
    const tokenFile = file('token', 'oauth-secret\n');
    expect(
      loadConfig({ ...noPassword, SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN_FILE_PATH: tokenFile }).snowflake,
    ).toMatchObject({ authenticator: 'OAUTH', tokenFilePath: tokenFile });
    expect(
      problems({ SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN_FILE_PATH: file('empty-token', '  \n') })
        .SNOWFLAKE_TOKEN_FILE_PATH,
    ).toMatch(/is an empty file/);
    expect(
      problems({ SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN_FILE_PATH: file('open-token', 't', 0o666) })
        .SNOWFLAKE_TOKEN_FILE_PATH,
    ).toMatch(/chmod 600/);
    expect(problems({ SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN' }).SNOWFLAKE_TOKEN_FILE_PATH).toMatch(
      /is required/,
    );
  });
});

describe('redaction', () => {
  it('redactConfig hides every secret', () => {
    const cfg = loadConfig(minimal);
    const text = JSON.stringify(redactConfig(cfg));
    for (const secret of ['pg-secret', 'sf-secret', 'admin-secret', 'x'.repeat(32)]) expect(text).not.toContain(secret);
    expect(redactConfig(cfg).databaseUrl).toBe('postgres://floe:***@127.0.0.1:5432/floe');
    expect(cfg.snowflake.password).toBe('sf-secret'); // the original is untouched
  });

  it('redactUrl leaves URLs without a password alone', () => {
    expect(redactUrl('postgres://floe@127.0.0.1:5432/floe')).toBe('postgres://floe@127.0.0.1:5432/floe');
  });

  it('the logger redacts password/token/secret/authorization fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ destination: sink }).child({ component: 'test' });
    log.info(
      {
        password: 'p1',
        token: 't1',
        conn: { password: 'p2', user: 'u' },
        cfg: { api: { jwtSecretKey: 's1', adminPassword: 'p3' } },
        req: { headers: { authorization: 'Bearer abc' } },
        secret: 's2',
      },
      'hello',
    );
    const out = lines.join('');
    for (const s of ['p1', 't1', 'p2', 'p3', 's1', 's2', 'Bearer abc']) expect(out).not.toContain(s);
    expect(out).toContain('"user":"u"');
    expect(out).toContain('"component":"test"');
  });

  it('the logger masks passwords inside connection strings, wherever they appear', () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const err = new Error(
      `could not attach postgres://floe:pw-in-url@127.0.0.1:5432/floe (dbname=floe password=pw-in-dsn host=h)`,
    );
    log.error(
      { err, detail: "PASSWORD='pw quoted' user=u", url: 'https://api.example.com/x?user=u&pwd=pw-in-query' },
      'failed: postgresql://a:pw-in-msg@h/db',
    );
    const out = lines.join('');
    for (const s of ['pw-in-url', 'pw-in-dsn', 'pw quoted', 'pw-in-query', 'pw-in-msg']) expect(out).not.toContain(s);
    expect(out).toContain('postgres://floe:***@127.0.0.1:5432/floe');
    expect(out).toContain('dbname=floe password=*** host=h');
    expect(() => lines.forEach((l) => JSON.parse(l))).not.toThrow();
  });
});
